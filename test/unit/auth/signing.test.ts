import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodilessSigningContent, rawQueryOf, signRequest, verifySignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../../lib/auth/signing.js';

const secret = 'a-platform-secret-of-some-length';
const body = '{"signals":[]}';
const now = 1_800_000_000;

function independentSignature(timestamp: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}

describe('request signing', () => {
  it('signs "<timestamp>.<raw body>" with HMAC-SHA256 in lowercase hex', () => {
    const headers = signRequest({ platform: 'chatapp', secret, body, nowSeconds: now });
    expect(headers[TIMESTAMP_HEADER]).toBe(String(now));
    expect(headers[SIGNATURE_HEADER]).toBe(`v1=${independentSignature(now, body)}`);
  });

  it('accepts a signature it did not make itself but that follows the contract', () => {
    const problem = verifySignature({ secret, timestampHeader: String(now), signatureHeader: `v1=${independentSignature(now, body)}`, rawBody: body, nowSeconds: now + 10 });
    expect(problem).toBeNull();
  });

  it('rejects a signature computed over a different body', () => {
    const problem = verifySignature({ secret, timestampHeader: String(now), signatureHeader: `v1=${independentSignature(now, '{}')}`, rawBody: body, nowSeconds: now });
    expect(problem).toBe('signature-mismatch');
  });

  it('rejects a signature made with another secret', () => {
    const other = createHmac('sha256', 'another-secret-entirely').update(`${now}.${body}`).digest('hex');
    expect(verifySignature({ secret, timestampHeader: String(now), signatureHeader: `v1=${other}`, rawBody: body, nowSeconds: now })).toBe('signature-mismatch');
  });

  it('rejects timestamps more than 300 seconds off in either direction', () => {
    const sign = (ts: number) => `v1=${independentSignature(ts, body)}`;
    expect(verifySignature({ secret, timestampHeader: String(now - 301), signatureHeader: sign(now - 301), rawBody: body, nowSeconds: now })).toBe('stale-timestamp');
    expect(verifySignature({ secret, timestampHeader: String(now + 301), signatureHeader: sign(now + 301), rawBody: body, nowSeconds: now })).toBe('stale-timestamp');
    expect(verifySignature({ secret, timestampHeader: String(now - 300), signatureHeader: sign(now - 300), rawBody: body, nowSeconds: now })).toBeNull();
  });

  it('names what is missing or malformed', () => {
    const base = { secret, rawBody: body, nowSeconds: now };
    expect(verifySignature({ ...base, timestampHeader: undefined, signatureHeader: 'v1=00' })).toBe('missing-timestamp');
    expect(verifySignature({ ...base, timestampHeader: '17e8', signatureHeader: 'v1=00' })).toBe('bad-timestamp');
    expect(verifySignature({ ...base, timestampHeader: String(now), signatureHeader: undefined })).toBe('missing-signature');
    expect(verifySignature({ ...base, timestampHeader: String(now), signatureHeader: independentSignature(now, body) })).toBe('bad-signature-format');
    expect(verifySignature({ ...base, timestampHeader: String(now), signatureHeader: `v1=${independentSignature(now, body).toUpperCase()}` })).toBe('bad-signature-format');
  });
});

describe('Function: bodilessSigningContent', () => {
  it('signs "<METHOD> <path>" when there is no query, as before queries were signed, so older signatures still verify', () => {
    const headers = signRequest({ platform: 'chatapp', secret, body: bodilessSigningContent('delete', '/v1/accounts/u-1', ''), nowSeconds: now });
    expect(headers[SIGNATURE_HEADER]).toBe(`v1=${independentSignature(now, 'DELETE /v1/accounts/u-1')}`);
  });

  it('signs "<METHOD> <path>?<query>" with the query as given, not re-serialised', () => {
    expect(bodilessSigningContent('GET', '/v1/lookup', 'account=a%40b&x=a+b').toString()).toBe('GET /v1/lookup?account=a%40b&x=a+b');
  });
});

describe('Function: rawQueryOf', () => {
  it.each([
    ['https://api.example.org/v1/lookup?account=a%3Fb%23c', 'account=a%3Fb%23c'],
    ['https://api.example.org/v1/lookup?account=a?b', 'account=a?b'],
    ['https://api.example.org/v1/lookup?account=a#fragment', 'account=a'],
    ['https://api.example.org/v1/lookup?', ''],
    ['https://api.example.org/v1/lookup/u-1', ''],
  ])('takes the query of %s as written', (url, query) => {
    expect(rawQueryOf(url)).toBe(query);
  });
});
