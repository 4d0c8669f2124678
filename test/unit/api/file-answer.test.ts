/**
 * Exports sized for the Lambda behind API Gateway (found in review: an export of a large cluster with a
 * long audit log could pass the 6 MB a Lambda may answer with, which reaches the caller as a bare 502).
 * The export route gzips for a caller that accepts it and refuses, with a 413 that says what to ask for,
 * what would not fit even so; checked directly and through `handle` of hono/aws-lambda.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { describe, expect, it } from 'vitest';
import { createApi, type ApiDeps } from '../../../lib/api/app.js';
import { acceptsGzip, fileAnswer, LAMBDA_ANSWER_BYTES } from '../../../lib/api/file-answer.js';
import { PayloadTooLargeError } from '../../../lib/errors.js';

type HttpApiEvent = Extract<LambdaEvent, { rawQueryString: string }>;

describe('Function: acceptsGzip', () => {
  it.each([
    ['gzip, deflate, br', true],
    ['GZIP', true],
    ['x-gzip', true],
    ['br;q=1.0, gzip;q=0.5', true],
    ['*', true],
    [undefined, false],
    ['', false],
    ['br, deflate', false],
    ['identity', false],
    ['gzip;q=0', false],
    ['gzip; q=0.0, br', false],
    ['*, gzip;q=0', false],
    ['*;q=0', false],
  ])('%j -> %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('Function: fileAnswer', () => {
  const text = JSON.stringify({ evidence: Array.from({ length: 2000 }, (_, i) => ({ type: 'email', weight: 0.5, link: i })) }, null, 2);

  it('gzips for a caller that accepts gzip, and leaves the text as it is for one that does not', () => {
    const gzipped = fileAnswer(text, 'gzip, deflate', LAMBDA_ANSWER_BYTES, 'the export');
    expect(gzipped.encoding).toBe('gzip');
    expect(gzipped.body).toBeInstanceOf(Uint8Array);
    expect(gunzipSync(gzipped.body as Uint8Array).toString('utf8')).toBe(text);
    expect((gzipped.body as Uint8Array).length).toBeLessThan(text.length / 5);

    expect(fileAnswer(text, 'br', LAMBDA_ANSWER_BYTES, 'the export')).toEqual({ body: text });
  });

  it('refuses a text that would pass the limit, saying how large it is and what to ask for', () => {
    const limit = 64 * 1024;
    const large = 'x'.repeat(limit);
    expect(() => fileAnswer(large, undefined, limit, 'the CSV export of cluster c-1')).toThrow(PayloadTooLargeError);
    expect(() => fileAnswer(large, undefined, limit, 'the CSV export of cluster c-1')).toThrow(/the CSV export of cluster c-1 is 0\.1 MB, over the 0\.1 MB .*Accept-Encoding: gzip/);
    // Gzipped, the same text fits.
    expect(fileAnswer(large, 'gzip', limit, 'the export').encoding).toBe('gzip');
  });

  it('counts a text as the Lambda sends it: quotes and line breaks escaped inside a JSON string', () => {
    const limit = 64 * 1024;
    // 40 KB of text, 80 KB once every quote is escaped.
    const quoted = '"'.repeat(40 * 1024);
    expect(Buffer.byteLength(quoted)).toBeLessThan(limit);
    expect(() => fileAnswer(quoted, undefined, limit, 'the export')).toThrow(PayloadTooLargeError);
    expect(fileAnswer('"'.repeat(20 * 1024), undefined, limit, 'the export')).toEqual({ body: '"'.repeat(20 * 1024) });
  });

  it('refuses what would not fit even gzipped, counted as the base64 it travels in', () => {
    const limit = 64 * 1024;
    // Base64 of random bytes compresses only to its entropy: 60 KB of text, about 46 KB gzipped, 61 KB as base64.
    const noise = randomBytes(45 * 1024).toString('base64');
    expect(() => fileAnswer(noise, 'gzip', limit, 'the JSON export of cluster c-2')).toThrow(/the JSON export of cluster c-2 is .* MB even gzipped, over the 0\.1 MB .*another format/);
  });
});

describe('Route: GET /v1/clusters/:id/export through an API Gateway HTTP API', () => {
  const exportText = `${JSON.stringify({ format: 'crosslink-cluster-export/1', links: Array.from({ length: 3000 }, (_, i) => ({ a: `snap#a${i}`, b: `wa#b${i}`, weight: 0.25 })) }, null, 2)}\n`;

  function lambda(maxAnswerBytes?: number) {
    const stub = {} as never;
    const deps = {
      platform: stub,
      staff: { staffAuthenticator: async () => ({ roles: ['investigator'], subject: 'dana' }), investigator: stub, detection: stub, dispatcher: stub, signals: stub },
      review: { review: { export: async (id: string) => ({ fileName: `crosslink-cluster-${id}.json`, body: exportText }) }, maxAnswerBytes },
      logger: { warn: () => undefined, error: () => undefined },
    } as unknown as ApiDeps;
    return handle(createApi(deps, 'investigator'));
  }

  function event(headers: Record<string, string>): HttpApiEvent {
    return {
      version: '2.0',
      routeKey: 'GET /v1/clusters/{id}/export',
      rawPath: '/v1/clusters/c-1/export',
      rawQueryString: 'format=json',
      headers: { host: 'api.crosslink.test', ...headers },
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        apiId: 'api',
        domainName: 'api.crosslink.test',
        domainPrefix: 'api',
        http: { method: 'GET', path: '/v1/clusters/c-1/export', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
        requestId: 'request-1',
        routeKey: 'GET /v1/clusters/{id}/export',
        stage: '$default',
        time: '07/Dec/2026:05:00:00 +0000',
        timeEpoch: 0,
      },
    } as unknown as HttpApiEvent;
  }

  it('answers a caller that accepts gzip with the gzipped file as base64, and another with the text', async () => {
    const gzipped = (await lambda()(event({ 'accept-encoding': 'gzip, deflate, br' }))) as { statusCode: number; body: string; isBase64Encoded: boolean; headers: Record<string, string> };
    expect(gzipped.statusCode).toBe(200);
    expect(gzipped.isBase64Encoded).toBe(true);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers['content-disposition']).toBe('attachment; filename="crosslink-cluster-c-1.json"');
    expect(gunzipSync(Buffer.from(gzipped.body, 'base64')).toString('utf8')).toBe(exportText);
    expect(gzipped.body.length).toBeLessThan(exportText.length / 4);

    const plain = (await lambda()(event({}))) as { statusCode: number; body: string; isBase64Encoded: boolean; headers: Record<string, string> };
    expect(plain.statusCode).toBe(200);
    expect(plain.isBase64Encoded).toBe(false);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(exportText);
  });

  it('refuses with a 413 that says what to ask for, where the Lambda would have failed', async () => {
    const refused = (await lambda(Buffer.byteLength(exportText))(event({}))) as { statusCode: number; body: string };
    expect(refused.statusCode).toBe(413);
    expect(JSON.parse(refused.body).error).toMatch(/^the JSON export of cluster c-1 is .* MB, over the .* MB the API can answer with: ask again with the header Accept-Encoding: gzip/);
    // The same limit holds the gzipped file easily.
    expect(((await lambda(Buffer.byteLength(exportText))(event({ 'accept-encoding': 'gzip' }))) as { statusCode: number }).statusCode).toBe(200);
  });
});
