/** Reading requests: size-limited raw bodies and zod-checked queries and JSON bodies. */
import type { Context } from 'hono';
import type { z } from 'zod';
import { MAX_BODY_BYTES } from '../contract/signals.js';
import { PayloadTooLargeError, ValidationError } from '../errors.js';

export async function readLimitedBody(c: Context, limitBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > limitBytes) throw new PayloadTooLargeError(`body is ${declared} bytes, over the ${limitBytes}-byte limit: split the batch`);
  const body = Buffer.from(await c.req.arrayBuffer());
  if (body.length > limitBytes) throw new PayloadTooLargeError(`body is ${body.length} bytes, over the ${limitBytes}-byte limit: split the batch`);
  return body;
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}

export function parseQuery<T>(schema: z.ZodType<T>, c: Context): T {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new ValidationError(describe(parsed.error));
  return parsed.data;
}

export async function parseJsonBody<T>(schema: z.ZodType<T>, c: Context): Promise<T> {
  const raw = (await readLimitedBody(c, 64 * 1024)).toString('utf8');
  let json: unknown;
  try {
    json = raw.length === 0 ? {} : JSON.parse(raw);
  } catch {
    throw new ValidationError('body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ValidationError(describe(parsed.error));
  return parsed.data;
}
