/**
 * Request signing for platforms: `x-crosslink-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`.
 *
 * The one implementation used by the API (to verify) and by the platform client (to sign).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const PLATFORM_HEADER = 'x-crosslink-platform';
export const TIMESTAMP_HEADER = 'x-crosslink-timestamp';
export const SIGNATURE_HEADER = 'x-crosslink-signature';
/** How far a request's timestamp may be from the server clock, in seconds. */
export const SIGNATURE_WINDOW_SECONDS = 300;

/** The hex HMAC-SHA256 of `"<timestamp>.<body>"` under the platform secret. */
export function computeSignature(secret: string, timestampSeconds: number | string, rawBody: string | Buffer): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestampSeconds}.`);
  hmac.update(rawBody);
  return hmac.digest('hex');
}

/**
 * The three headers a platform sends with a signed request.
 *
 * @example
 * const headers = signRequest({ platform: 'snapchat', secret, body: JSON.stringify(batch) });
 * await fetch(`${base}/v1/signals`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
 */
export function signRequest(input: { platform: string; secret: string; body: string | Buffer; nowSeconds?: number }): Record<string, string> {
  const timestamp = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  return {
    [PLATFORM_HEADER]: input.platform,
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: `v1=${computeSignature(input.secret, timestamp, input.body)}`,
  };
}

/**
 * What a request without a body (GET, DELETE) signs in place of the body: `"<METHOD> <path>"`, or
 * `"<METHOD> <path>?<query>"` when the URL has a query, so that a signature is bound to the one route
 * and the one set of parameters it was made for. `rawQuery` is the query exactly as sent (see
 * {@link rawQueryOf}), never re-serialised: the client and the server both take it from the URL.
 * Without a query the content is what it was before queries were signed, so those signatures still verify.
 *
 * @example
 * signRequest({ platform, secret, body: bodilessSigningContent('GET', '/v1/lookup', 'account=u%401') })
 * // signs "<timestamp>.GET /v1/lookup?account=u%401"
 */
export function bodilessSigningContent(method: string, path: string, rawQuery = ''): Buffer {
  return Buffer.from(`${method.toUpperCase()} ${path}${rawQuery === '' ? '' : `?${rawQuery}`}`);
}

/**
 * The query of a URL as written, byte for byte: what follows the first `?`, up to a `#`; `''` when
 * there is none. The client takes it from the URL it sends, the server from the URL it received.
 *
 * @example
 * rawQueryOf('https://api.example.org/v1/lookup?account=a%2Bb') // -> 'account=a%2Bb'
 */
export function rawQueryOf(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return '';
  const end = url.indexOf('#', start);
  return url.slice(start + 1, end === -1 ? undefined : end);
}

/** Why a signature was refused; each says what the caller should fix. */
export type SignatureProblem =
  | 'missing-timestamp'
  | 'bad-timestamp'
  | 'stale-timestamp'
  | 'missing-signature'
  | 'bad-signature-format'
  | 'signature-mismatch';

export const SIGNATURE_PROBLEM_MESSAGES: Record<SignatureProblem, string> = {
  'missing-timestamp': `missing ${TIMESTAMP_HEADER} header: send the current unix time in seconds`,
  'bad-timestamp': `${TIMESTAMP_HEADER} must be the unix time in whole seconds`,
  'stale-timestamp': `${TIMESTAMP_HEADER} is more than ${SIGNATURE_WINDOW_SECONDS} seconds from the server clock: sync the clock (NTP) and sign again`,
  'missing-signature': `missing ${SIGNATURE_HEADER} header: send v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`,
  'bad-signature-format': `${SIGNATURE_HEADER} must be v1=<64 lowercase hex chars>`,
  'signature-mismatch': `${SIGNATURE_HEADER} does not match: sign "<timestamp>.<raw body>" (the exact bytes sent; for a GET or DELETE, "<timestamp>.<METHOD> <path>" or, with a query, "<timestamp>.<METHOD> <path>?<query as sent>") with the platform secret`,
};

/**
 * The signature a header carries, in its one canonical form (`v1=<64 lowercase hex>`), or undefined
 * when the header is not a well-formed v1 signature. Whatever is verified and whatever is remembered
 * against replays is this form, never the header as written.
 */
export function canonicalSignature(signatureHeader: string | undefined): string | undefined {
  const match = signatureHeader === undefined ? null : /^v1=([0-9a-f]{64})$/.exec(signatureHeader.trim());
  return match ? `v1=${match[1]}` : undefined;
}

/**
 * Checks a request signature in constant time. Returns null when it is good, or the problem.
 */
export function verifySignature(input: {
  secret: string;
  timestampHeader: string | undefined;
  signatureHeader: string | undefined;
  rawBody: string | Buffer;
  nowSeconds?: number;
}): SignatureProblem | null {
  const { timestampHeader, signatureHeader } = input;
  if (!timestampHeader) return 'missing-timestamp';
  if (!/^\d{1,12}$/.test(timestampHeader)) return 'bad-timestamp';
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestampHeader)) > SIGNATURE_WINDOW_SECONDS) return 'stale-timestamp';
  if (!signatureHeader) return 'missing-signature';
  const signature = canonicalSignature(signatureHeader);
  if (!signature) return 'bad-signature-format';
  const expected = Buffer.from(computeSignature(input.secret, timestampHeader, input.rawBody), 'hex');
  const given = Buffer.from(signature.slice('v1='.length), 'hex');
  return timingSafeEqual(expected, given) ? null : 'signature-mismatch';
}
