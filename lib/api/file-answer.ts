/**
 * A file the API answers with (a cluster export), sized for the Lambda behind API Gateway: a Lambda's
 * response, headers and body together, may not pass 6 MB, and one that does reaches the caller as a bare
 * 502. So the file is gzipped for a caller that accepts it (exports shrink several times over; on Lambda
 * the gzipped body travels as base64), and a file too large even so is refused with a 413 that says what
 * to ask for instead, on the local stack as on AWS.
 */
import { gzipSync } from 'node:zlib';
import { PayloadTooLargeError } from '../errors.js';

/** The most a Lambda may answer an API Gateway request with (its synchronous invocation payload). */
export const LAMBDA_ANSWER_BYTES = 6 * 1024 * 1024;

/** Room kept for the rest of the Lambda's answer: status, headers, the envelope's own fields. */
const ENVELOPE_BYTES = 16 * 1024;

/**
 * Whether an `Accept-Encoding` header accepts gzip: `gzip` (or `x-gzip`, or `*`) listed without `q=0`,
 * and not refused by name when accepted through `*`.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (!coding) continue;
    const q = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    weights.set(coding.trim(), q === undefined ? 1 : Number(q.slice(2)) || 0);
  }
  const named = weights.get('gzip') ?? weights.get('x-gzip');
  return named !== undefined ? named > 0 : (weights.get('*') ?? 0) > 0;
}

/** The bytes a body adds to the Lambda's answer: base64 for a binary (gzipped) one, a JSON string for text. */
function answerBytes(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(JSON.stringify(body)) : 4 * Math.ceil(body.length / 3);
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * The file's body as sent: gzipped (`encoding: 'gzip'`) when the caller accepts gzip, else as it is.
 *
 * @throws PayloadTooLargeError when the answer would pass `limitBytes` (what to ask for instead is in its message).
 * @example
 * const { body, encoding } = fileAnswer(csv, c.req.header('accept-encoding'), LAMBDA_ANSWER_BYTES, 'the CSV export of cluster c-1f3a');
 */
export function fileAnswer(text: string, acceptEncoding: string | undefined, limitBytes: number, what: string): { body: string | Uint8Array<ArrayBuffer>; encoding?: 'gzip' } {
  const budget = limitBytes - ENVELOPE_BYTES;
  if (acceptsGzip(acceptEncoding)) {
    const gzipped = new Uint8Array(gzipSync(text));
    const bytes = answerBytes(gzipped);
    if (bytes > budget) {
      throw new PayloadTooLargeError(`${what} is ${megabytes(bytes)} even gzipped, over the ${megabytes(limitBytes)} the API can answer with: ask for another format (json holds everything, csv the evidence only, gexf the graph only)`);
    }
    return { body: gzipped, encoding: 'gzip' };
  }
  const bytes = answerBytes(text);
  if (bytes > budget) {
    throw new PayloadTooLargeError(`${what} is ${megabytes(bytes)}, over the ${megabytes(limitBytes)} the API can answer with: ask again with the header Accept-Encoding: gzip, or for another format (json holds everything, csv the evidence only, gexf the graph only)`);
  }
  return { body: text };
}
