/**
 * Validation of a `POST /v1/signals` body, item by item: the request fails as a whole only when it
 * cannot be read at all (not JSON, wrong shape, too many items); otherwise each invalid item is rejected
 * with the field at fault and the valid ones go through.
 */
import type { z } from 'zod';
import {
  accountMetaSchema,
  signalBatchEnvelopeSchema,
  signalSchema,
  type AccountMeta,
  type RejectedItem,
  type Signal,
} from '../contract/signals.js';
import { ValidationError } from '../errors.js';

/** The outcome of validating one batch. */
export interface ValidatedBatch {
  signals: Signal[];
  /** Where each of `signals` was in the request's list, for refusals made after validation. */
  signalIndexes: number[];
  accounts: AccountMeta[];
  rejected: RejectedItem[];
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

function valueAt(item: unknown, path: PropertyKey[]): unknown {
  let value: unknown = item;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

function rejectionsOf(list: RejectedItem['list'], index: number, item: unknown, issues: z.core.$ZodIssue[]): RejectedItem[] {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return [{ list, index, field: 'item', error: `must be an object, got ${item === null ? 'null' : Array.isArray(item) ? 'an array' : typeof item}` }];
  }
  return issues.map((issue) => ({
    list,
    index,
    field: issue.path.length > 0 ? issue.path.join('.') : 'item',
    error: issue.code === 'invalid_type' && valueAt(item, issue.path) === undefined ? 'is required' : issue.message,
  }));
}

function validateList<T>(list: RejectedItem['list'], items: unknown[], schema: z.ZodType<T>, rejected: RejectedItem[]): { valid: T[]; indexes: number[] } {
  const valid: T[] = [];
  const indexes: number[] = [];
  items.forEach((item, index) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) {
      valid.push(parsed.data);
      indexes.push(index);
    } else rejected.push(...rejectionsOf(list, index, item, parsed.error.issues));
  });
  return { valid, indexes };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A body's bytes as text. Bytes that are not UTF-8 are refused, not read as U+FFFD: read so, the
 * account ids `josé` and `josè` sent in Latin-1 would both be `jos\uFFFD`, one account. A leading
 * byte-order mark is dropped (JSON allows a parser to ignore it).
 *
 * @throws {ValidationError} when the bytes are not UTF-8, naming the first byte that is not.
 * @example
 * decodeBody(Buffer.from('{"signals":[{"account":"josé"}]}', 'latin1'))
 * // -> ValidationError: body is not valid UTF-8 (byte 27 is 0xe9): send the JSON encoded as UTF-8
 */
export function decodeBody(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // What is valid re-encodes to the same bytes, so the first byte that differs is the first bad one.
    const reencoded = Buffer.from(Buffer.from(bytes).toString('utf8'), 'utf8');
    let offset = 0;
    while (offset < bytes.length && bytes[offset] === reencoded[offset]) offset++;
    throw new ValidationError(`body is not valid UTF-8 (byte ${offset} is 0x${bytes[offset].toString(16).padStart(2, '0')}): send the JSON encoded as UTF-8`);
  }
}

/**
 * Parses and validates a raw body (its bytes, or text already decoded).
 *
 * @throws {ValidationError} when the body is not UTF-8, not JSON or not of the batch shape.
 * @example
 * validateBatch('{"signals":[{"account":"a1","type":"email","value":"me@example.com","observedAt":"2026-01-01T00:00:00Z"}]}')
 * // -> { signals: [], accounts: [], rejected: [{ list: 'signals', index: 0, field: 'value', error: 'looks like a raw identifier: ...' }] }
 */
export function validateBatch(rawBody: string | Uint8Array): ValidatedBatch {
  let body: unknown;
  const text = typeof rawBody === 'string' ? rawBody : decodeBody(rawBody);
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`body is not valid JSON (${(error as Error).message}): send a JSON object {"signals":[...],"accounts":[...]}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('body must be a JSON object {"signals":[...],"accounts":[...]}');
  }
  const envelope = signalBatchEnvelopeSchema.safeParse(body);
  if (!envelope.success) throw new ValidationError(`body has the wrong shape: ${describeIssues(envelope.error.issues)}`);
  const rejected: RejectedItem[] = [];
  const signals = validateList('signals', envelope.data.signals, signalSchema, rejected);
  const accounts = validateList('accounts', envelope.data.accounts ?? [], accountMetaSchema, rejected);
  return { signals: signals.valid, signalIndexes: signals.indexes, accounts: accounts.valid, rejected };
}
