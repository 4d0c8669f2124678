/**
 * A withdrawal and a lookup name the account in the query (`?account=<id>`), and a bodiless request
 * signs its query with its path (found in review: an account id travelled in the path, and API Gateway
 * HTTP APIs are reported to hand the Lambda `rawPath` percent-decoded and cut at a decoded `?`, while
 * `rawQueryString` stays as sent; see docs/faults.md). The client's own requests go through the real app,
 * directly and as an HTTP API payload 2.0 event through `handle` of hono/aws-lambda.
 */
import { Hono } from 'hono';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApi, type ApiDeps } from '../../../lib/api/app.js';
import { DocumentCredentialStore } from '../../../lib/auth/credentials.js';
import { PlatformGate } from '../../../lib/auth/platform-gate.js';
import { bodilessSigningContent, signRequest } from '../../../lib/auth/signing.js';
import { accountRequestPath, SignalsTransport } from '../../../lib/client/transport.js';

const BASE = 'https://api.crosslink.test';
const platform = { id: 'chatapp', secret: 'chatapp-secret-of-some-length' };
// Ids that need escaping in a URL; fetch escapes the quote in a query, where encodeURIComponent leaves it.
const AWKWARD_IDS = ['a@b', 'a:b', 'a+b', 'a=b&c', 'a/b', 'a?b#c', '100%25', '%', 'zoë', 'acc 4', "a'b"];

type HttpApiEvent = Extract<LambdaEvent, { rawQueryString: string }>;

/** The platform surface of the API over a real gate, recording which account each route acted on. */
function aPlatformApi() {
  const withdrawn: string[] = [];
  const lookedUp: string[] = [];
  const stub = {} as never;
  const deps: ApiDeps = {
    platform: {
      gate: new PlatformGate({
        credentials: new DocumentCredentialStore(async () => ({ platforms: [platform], investigatorToken: 'i'.repeat(32) })),
        replayGuard: { claim: async () => true, release: async () => undefined },
        rateLimiter: { take: async () => ({ allowed: true, retryAfterSeconds: 0 }) },
        defaultRequestsPerMinute: 1000,
      }),
      ingest: stub,
      signals: {
        withdrawAccount: async (_platform, account) => {
          withdrawn.push(account);
          return { signalsDeleted: 1 };
        },
      },
      investigator: {
        accountCluster: async ({ account }) => {
          lookedUp.push(account);
          return null;
        },
      },
      releaseThreshold: 2,
      audit: { viewed: async () => undefined },
    },
    staff: stub,
    logger: { error: () => undefined, warn: () => undefined, info: () => undefined },
  };
  return { app: createApi(deps, 'platform'), withdrawn, lookedUp };
}

/** Sends what fetch would send straight to the app, as the local stack's Node server does. */
function direct(app: Hono): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => app.fetch(new Request(input, init))) as typeof fetch;
}

/**
 * Sends what fetch would send through an API Gateway HTTP API (payload format 2.0) and `handle(app)`:
 * `rawPath` percent-decoded and cut at a decoded `?`, `rawQueryString` as sent (the live captures
 * summarised in middleapi/standard-server#93 and hotsock/voker#8).
 */
function throughHttpApi(app: Hono): typeof fetch {
  const lambda = handle(app);
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const decodedPath = decodeURIComponent(url.pathname);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const event: HttpApiEvent = {
      version: '2.0',
      routeKey: '$default',
      rawPath: decodedPath.split('?')[0],
      rawQueryString: url.search.slice(1),
      headers,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        apiId: 'api',
        authentication: null,
        authorizer: {},
        domainName: url.host,
        domainPrefix: url.host.split('.')[0],
        http: { method: request.method, path: decodedPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'crosslink' },
        requestId: 'request-1',
        routeKey: '$default',
        stage: '$default',
        time: '01/Nov/2026:10:00:00 +0000',
        timeEpoch: 1_793_527_200_000,
      },
    };
    const result = await lambda(event);
    return new Response(result.body, { status: result.statusCode, headers: result.headers as Record<string, string> });
  }) as typeof fetch;
}

function aClient(fetchImpl: typeof fetch) {
  return new SignalsTransport({ baseUrl: BASE, platform: platform.id, secret: platform.secret, fetch: fetchImpl, retry: { maxAttempts: 1 } });
}

/** The headers of a request signed, as the client signs it, for `method` and `url`. */
function signedHeaders(method: string, url: string): Record<string, string> {
  const { pathname, search } = new URL(url);
  return signRequest({ platform: platform.id, secret: platform.secret, body: bodilessSigningContent(method, pathname, search.slice(1)) });
}

async function answerOf(response: Response) {
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

describe('Routes: DELETE /v1/accounts?account= and GET /v1/lookup?account=', () => {
  let api: ReturnType<typeof aPlatformApi>;
  beforeEach(() => {
    api = aPlatformApi();
  });

  describe.each([
    ['on the Node server', direct],
    ['through an API Gateway HTTP API (decoded rawPath, rawQueryString as sent)', throughHttpApi],
  ])('%s', (_where, transportFor) => {
    it.each(AWKWARD_IDS)('verifies the client\'s withdrawal of account %j and withdraws that account', async (account) => {
      const answer = await aClient(transportFor(api.app)).requestBodiless('DELETE', accountRequestPath('withdraw', account));

      expect(answer).toMatchObject({ account, withdrawn: true });
      expect(api.withdrawn).toEqual([account]);
    });

    it.each(AWKWARD_IDS)('verifies the client\'s lookup of account %j and looks up that account', async (account) => {
      const answer = await aClient(transportFor(api.app)).requestBodiless('GET', accountRequestPath('lookup', account));

      expect(answer).toEqual({ account, inCrossPlatformCluster: false, cluster: null });
      expect(api.lookedUp).toEqual([account]);
    });
  });

  it('refuses a signature made for ?account=a when the same request is sent for ?account=b', async () => {
    const headers = signedHeaders('DELETE', `${BASE}/v1/accounts?account=a`);

    const forA = await answerOf(await api.app.request(`${BASE}/v1/accounts?account=a`, { method: 'DELETE', headers }));
    const forB = await answerOf(await api.app.request(`${BASE}/v1/accounts?account=b`, { method: 'DELETE', headers }));

    expect(forA.status).toBe(202);
    expect(forB.status).toBe(401);
    expect(forB.body.error).toMatch(/\?<query as sent>/);
    expect(api.withdrawn).toEqual(['a']);
  });

  it('refuses a signature made over the path alone when the request carries a query', async () => {
    const headers = signedHeaders('GET', `${BASE}/v1/lookup`);

    const answer = await answerOf(await api.app.request(`${BASE}/v1/lookup?account=a`, { headers }));

    expect(answer.status).toBe(401);
    expect(api.lookedUp).toEqual([]);
  });

  it.each(['', '?account=', '?account', '?acount=a'])('answers 400 naming the account parameter when the query is %j', async (query) => {
    const response = await api.app.request(`${BASE}/v1/lookup${query}`);

    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe('missing the account query parameter: send ?account=<your account id>, percent-encoded');
  });

  it('answers 400 when the account parameter is given more than once', async () => {
    const response = await api.app.request(`${BASE}/v1/accounts?account=a&account=b`, { method: 'DELETE' });

    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe('the account query parameter is given 2 times: send it once');
  });

  it('refuses an account id over 128 characters with the message the path form gives', async () => {
    const tooLong = 'x'.repeat(129);
    const inQuery = await api.app.request(`${BASE}/v1/lookup?account=${tooLong}`);
    const inPath = await api.app.request(`${BASE}/v1/lookup/${tooLong}`);

    expect(inQuery.status).toBe(400);
    expect(await inQuery.json()).toEqual(await inPath.json());
  });
});

describe('Routes: the older path forms, /v1/accounts/{account} and /v1/lookup/{account}', () => {
  it('still verifies a client that names the account in the path, on the Node server', async () => {
    const api = aPlatformApi();

    const answer = await aClient(direct(api.app)).requestBodiless('DELETE', `/v1/accounts/${encodeURIComponent('a@b')}`);

    expect(answer).toMatchObject({ account: 'a@b', withdrawn: true });
  });

  it('documents the limitation: through an HTTP API that decodes rawPath, a path-form id with @ fails the signature check', async () => {
    const api = aPlatformApi();

    // The client signs "/v1/lookup/a%40b"; hono sees the decoded "/v1/lookup/a@b". Use the query form.
    const refused = aClient(throughHttpApi(api.app)).requestBodiless('GET', `/v1/lookup/${encodeURIComponent('a@b')}`);

    await expect(refused).rejects.toMatchObject({ httpStatus: 401 });
    expect(api.lookedUp).toEqual([]);
  });
});
