import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodilessSigningContent, verifySignature } from '../../../lib/auth/signing.js';
import { EXIT, runCli, type CliIo } from '../../../lib/client/cli.js';
import { resolveOperatorToken } from '../../../lib/client/credentials.js';
import { ClientConfigError, OperatorRequestError } from '../../../lib/client/errors.js';
import { OperatorClient } from '../../../lib/client/operator.js';
import { serverSidePath, SignalsTransport } from '../../../lib/client/transport.js';

const TOKEN = 'operator-token-0123456789abcdef';
const BASE = 'http://crosslink.test';

type Call = { method: string; url: string; headers: Record<string, string>; body?: string };

/** A fetch that records each call and answers with the scripted status and JSON body. */
function scriptedFetch(answer: (call: Call) => { status: number; body?: unknown }) {
  const calls: Call[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    const call = { method: String(init.method), url, headers: init.headers as Record<string, string>, body: init.body as string | undefined };
    calls.push(call);
    const { status, body } = answer(call);
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

describe('Class: OperatorClient', () => {
  it('adds a platform with the bearer token and a JSON body, and returns the issued secret', async () => {
    const { calls, fetchImpl } = scriptedFetch(() => ({ status: 201, body: { id: 'newapp', secret: 'a'.repeat(64) } }));

    const issued = await new OperatorClient({ baseUrl: `${BASE}/`, token: TOKEN, fetch: fetchImpl }).addPlatform('newapp', { requestsPerMinute: 600 });

    expect(issued).toEqual({ id: 'newapp', secret: 'a'.repeat(64) });
    expect(calls).toEqual([
      { method: 'POST', url: `${BASE}/v1/platforms`, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"id":"newapp","requestsPerMinute":600}' },
    ]);
  });

  it.each([
    [401, 'missing or unknown bearer token', /^401 .*: missing or unknown bearer token\nthe operator token was not accepted/],
    [403, 'role investigator may not do this', /^403 .*: role investigator may not do this\nthis token does not carry the operator role/],
    [404, 'no platform ghost: list them with GET /v1/platforms', /^404 .*: no platform ghost: list them with GET \/v1\/platforms$/],
    [409, 'platform ghost exists already: rotate its secret instead', /^409 .*: platform ghost exists already: rotate its secret instead$/],
  ])('throws OperatorRequestError carrying %i and the server message', async (status, error, expected) => {
    const { fetchImpl } = scriptedFetch(() => ({ status, body: { error } }));

    const failure = await new OperatorClient({ baseUrl: BASE, token: TOKEN, fetch: fetchImpl }).rotatePlatform('ghost').catch((caught: unknown) => caught);

    expect(failure).toBeInstanceOf(OperatorRequestError);
    expect((failure as OperatorRequestError).httpStatus).toBe(status);
    expect((failure as Error).message).toMatch(expected);
  });

  it('says when --url has no operator routes at all', async () => {
    const { fetchImpl } = scriptedFetch(() => ({ status: 404, body: { error: 'no route GET /v1/platforms: see the API section of the README' } }));

    await expect(new OperatorClient({ baseUrl: BASE, token: TOKEN, fetch: fetchImpl }).listPlatforms()).rejects.toThrow(/no route GET \/v1\/platforms.*\n.*pass the investigator API URL as --url/);
  });

  it('says the server cannot be reached, naming --url, and does not retry', async () => {
    let attempts = 0;
    const fetchImpl = (async () => {
      attempts += 1;
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    }) as typeof fetch;

    await expect(new OperatorClient({ baseUrl: BASE, token: TOKEN, fetch: fetchImpl }).listPlatforms()).rejects.toThrow(/cannot reach http:\/\/crosslink.test \(ECONNREFUSED\): check --url/);
    expect(attempts).toBe(1);
  });

  it('refuses a 2xx answer that is not the API shape', async () => {
    const { fetchImpl } = scriptedFetch(() => ({ status: 200, body: { hello: 'world' } }));

    await expect(new OperatorClient({ baseUrl: BASE, token: TOKEN, fetch: fetchImpl }).listPlatforms()).rejects.toThrow(/unexpected body: is --url the Crosslink API\?/);
  });
});

describe('Function: resolveOperatorToken', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crosslink-operator-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('prefers --token, then CROSSLINK_OPERATOR_TOKEN, then the credentials file', async () => {
    const path = join(dir, 'credentials.json');
    await writeFile(path, JSON.stringify({ platforms: [], investigatorToken: 'x'.repeat(16), operatorToken: 'from-file-token-0000' }));

    expect(resolveOperatorToken({ token: 'flag', credentialsPath: path }, { CROSSLINK_OPERATOR_TOKEN: 'env' })).toBe('flag');
    expect(resolveOperatorToken({}, { CROSSLINK_OPERATOR_TOKEN: 'env', CROSSLINK_HOME: dir })).toBe('env');
    expect(resolveOperatorToken({ credentialsPath: path }, { CROSSLINK_OPERATOR_TOKEN: 'env' })).toBe('from-file-token-0000');
    expect(resolveOperatorToken({}, { CROSSLINK_HOME: dir })).toBe('from-file-token-0000');
  });

  it('throws ClientConfigError naming the three sources when there is no token', () => {
    expect(() => resolveOperatorToken({}, { CROSSLINK_HOME: join(dir, 'none') })).toThrow(ClientConfigError);
    expect(() => resolveOperatorToken({}, { CROSSLINK_HOME: join(dir, 'none') })).toThrow(/--token.*CROSSLINK_OPERATOR_TOKEN.*--credentials/);
  });

  it('throws ClientConfigError when the credentials file holds no operator token', async () => {
    const path = join(dir, 'credentials.json');
    await writeFile(path, JSON.stringify({ platforms: [], investigatorToken: 'x'.repeat(16) }));

    expect(() => resolveOperatorToken({ credentialsPath: path }, {})).toThrow(/cannot read the operator token from .*credentials.json/);
  });
});

describe('Function: serverSidePath', () => {
  // The server signs what hono reports as the path; check against hono itself, not a copy of its rule.
  const app = new Hono().get('/v1/lookup/:account', (c) => c.text(c.req.path));

  it.each(['acc-1', 'acc 4', 'a%b', 'a/b', 'a?b#c', 'zoë', '100%25', '%'])('matches the path hono routes for account %j', async (account) => {
    const url = `${BASE}/v1/lookup/${encodeURIComponent(account)}`;

    const response = await app.request(url);

    expect(response.status).toBe(200);
    expect(serverSidePath(url)).toBe(await response.text());
  });
});

describe('Method: SignalsTransport.requestBodiless', () => {
  it('signs "<METHOD> <path>" so that the server verifies it', async () => {
    const secret = 'chatapp-secret-0123456789';
    const { calls, fetchImpl } = scriptedFetch(() => ({ status: 202, body: { account: 'acc 4', withdrawn: true, signalsDeleted: 1 } }));
    const transport = new SignalsTransport({ baseUrl: BASE, platform: 'chatapp', secret, fetch: fetchImpl });

    const answer = await transport.requestBodiless('DELETE', `/v1/accounts/${encodeURIComponent('acc 4')}`);

    expect(answer).toEqual({ account: 'acc 4', withdrawn: true, signalsDeleted: 1 });
    const { headers, body } = calls[0];
    expect(body).toBeUndefined();
    const problem = verifySignature({
      secret,
      timestampHeader: headers['x-crosslink-timestamp'],
      signatureHeader: headers['x-crosslink-signature'],
      rawBody: bodilessSigningContent('DELETE', '/v1/accounts/acc 4'),
    });
    expect(problem).toBeNull();
  });
});

describe('Function: runCli (operator commands)', () => {
  async function run(argv: string[], fetchImpl: typeof fetch) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      env: { CROSSLINK_OPERATOR_TOKEN: TOKEN, CROSSLINK_URL: BASE, CROSSLINK_HOME: '/nonexistent' },
      stdout: { write: (text: string) => out.push(text) },
      stderr: { isTTY: false, write: (text: string) => err.push(text) },
      fetch: fetchImpl,
    };
    return { code: await runCli(argv, io), stdout: out.join(''), stderr: err.join('') };
  }

  it('prints a rotated secret once, when the previous one stops working, and how to hand it over', async () => {
    const { fetchImpl } = scriptedFetch(() => ({ status: 200, body: { id: 'chatapp', secret: 'b'.repeat(64), previousSecretExpiresAt: '2026-12-01T00:00:00.000Z' } }));

    const result = await run(['platform', 'rotate', 'chatapp'], fetchImpl);

    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toContain(`secret  ${'b'.repeat(64)}\n`);
    expect(result.stdout).toContain('the previous secret keeps working until 2026-12-01T00:00:00.000Z');
    expect(result.stdout).toMatch(/Hand this secret to the platform over a secure channel/);
  });

  it('lists platforms as a table', async () => {
    const { fetchImpl } = scriptedFetch(() => ({ status: 200, body: { platforms: [{ id: 'chatapp', rotating: true, requestsPerMinute: 600 }, { id: 'gamehub', rotating: false }] } }));

    const result = await run(['platform', 'list'], fetchImpl);

    expect(result.stdout).toBe('platform  requests/min   rotating\nchatapp   600            yes\ngamehub   default        no\n');
  });

  it('exits 1 with the server message on a refusal', async () => {
    const { fetchImpl } = scriptedFetch(() => ({ status: 404, body: { error: 'no platform ghost: list them with GET /v1/platforms' } }));

    const result = await run(['platform', 'remove', 'ghost'], fetchImpl);

    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toMatch(/crosslink platform: 404 .*no platform ghost/);
  });

  it.each([
    [['platform'], /crosslink platform list\|add ID\|rotate ID\|remove ID/],
    [['platform', 'rename', 'x'], /not "rename"/],
    [['platform', 'add'], /exactly one platform id/],
    [['platform', 'rotate', 'x', '--requests-per-minute', '5'], /--requests-per-minute goes with platform add/],
    [['platform', 'add', 'x', '--requests-per-minute', 'lots'], /--requests-per-minute must be a whole number/],
    [['key', 'retire'], /exactly one key id/],
    [['lookup'], /exactly one account id/],
  ])('exits 2 for the usage %j', async (argv, expected) => {
    const { calls, fetchImpl } = scriptedFetch(() => ({ status: 500 }));

    const result = await run(argv, fetchImpl);

    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(expected);
    expect(calls).toEqual([]);
  });
});
