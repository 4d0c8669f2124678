/**
 * The console's sign-in on AWS, in headless Chromium: a fake OpenID provider (discovery, authorize,
 * token with a PKCE check, logout) and the built console served with a `/config.json` naming it, as
 * CloudFront serves it. `/v1/*` goes, as on CloudFront, to the API: here a real local stack behind a
 * stand-in for API Gateway's JWT authorizer, which checks the fake provider's signature and then calls
 * the local API with its investigator token. When the authorizer stops accepting the token (expiry),
 * the JWT goes through unchanged and the local API itself answers 401.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_DIR, ensureConsoleBuilt } from '../../web/build.js';
import { startTestStack } from '../support/local-stack.js';

type TestStack = Awaited<ReturnType<typeof startTestStack>>;

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const CLIENT_ID = 'crosslink-console-test';
const SIGNING_KEY = randomBytes(32);
const USER = { sub: 'user-dana', email: 'dana@example.org' };

interface AuthorizeRequest {
  code: string;
  challenge: string;
  nonce: string;
  redirectUri: string;
  params: Record<string, string>;
}

/** What the fake provider and the console's API saw. */
const seen = {
  authorize: [] as AuthorizeRequest[],
  tokenRequests: [] as Array<{ params: Record<string, string>; answered: number }>,
  logouts: [] as Array<Record<string, string>>,
  apiCalls: [] as Array<{ path: string; authorization: string; status: number }>,
  issuedTokens: [] as string[],
};
let authorizerAccepts = true;

let stack: TestStack;
let idp: Server;
let site: Server;
let idpUrl: string;
let siteUrl: string;
let browser: Browser;
let page: Page;

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `console-signin-${name}.png`), fullPage: true });

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const readBody = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};
const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function signJwt(claims: Record<string, unknown>): string {
  const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'fake' }))}.${base64url(JSON.stringify(claims))}`;
  return `${unsigned}.${createHmac('sha256', SIGNING_KEY).update(unsigned).digest('base64url')}`;
}

/** API Gateway's JWT authorizer, as far as this test needs it: signature, issuer, audience, expiry. */
function jwtIsValid(token: string): boolean {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return false;
  if (createHmac('sha256', SIGNING_KEY).update(`${header}.${payload}`).digest('base64url') !== signature) return false;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss: string; aud: string; exp: number };
  return claims.iss === idpUrl && claims.aud === CLIENT_ID && claims.exp > Date.now() / 1000;
}

function fakeIdentityProvider(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', idpUrl);
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', ...headers });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  if (url.pathname === '/.well-known/openid-configuration') {
    return send(200, {
      issuer: idpUrl,
      authorization_endpoint: `${idpUrl}/authorize`,
      token_endpoint: `${idpUrl}/token`,
      end_session_endpoint: `${idpUrl}/logout`,
      jwks_uri: `${idpUrl}/jwks`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    });
  }
  if (url.pathname === '/authorize') {
    const params = Object.fromEntries(url.searchParams);
    if (params.client_id !== CLIENT_ID || params.response_type !== 'code' || params.code_challenge_method !== 'S256' || !params.code_challenge || !params.state) {
      return send(400, { error: 'invalid_request' });
    }
    const code = randomBytes(12).toString('hex');
    seen.authorize.push({ code, challenge: params.code_challenge, nonce: params.nonce ?? '', redirectUri: params.redirect_uri!, params });
    const back = new URL(params.redirect_uri!);
    back.search = new URLSearchParams({ code, state: params.state }).toString();
    // A sign-in page the user confirms, so the test sees the browser on the provider.
    return send(200, `<!doctype html><title>Fake IdP</title><h1>Fake identity provider</h1><a id="continue" href="${back}">Continue as ${USER.email}</a>`, { 'content-type': 'text/html' });
  }
  if (url.pathname === '/token' && request.method === 'POST') {
    void readBody(request).then((raw) => {
      const params = Object.fromEntries(new URLSearchParams(raw.toString()));
      const pending = seen.authorize.find((entry) => entry.code === params.code);
      const verifierMatches = pending && createHash('sha256').update(params.code_verifier ?? '').digest('base64url') === pending.challenge;
      const ok = pending && verifierMatches && params.grant_type === 'authorization_code' && params.client_id === CLIENT_ID && params.redirect_uri === pending.redirectUri;
      seen.tokenRequests.push({ params, answered: ok ? 200 : 400 });
      if (!ok) return send(400, { error: 'invalid_grant', error_description: 'code, verifier or redirect_uri do not match' });
      // A code is good once.
      seen.authorize.splice(seen.authorize.indexOf(pending), 1);
      const now = Math.floor(Date.now() / 1000);
      const idToken = signJwt({ iss: idpUrl, aud: CLIENT_ID, sub: USER.sub, email: USER.email, nonce: pending.nonce, iat: now, exp: now + 3600, 'cognito:groups': ['investigators'] });
      seen.issuedTokens.push(idToken);
      send(200, { id_token: idToken, access_token: signJwt({ iss: idpUrl, client_id: CLIENT_ID, sub: USER.sub }), token_type: 'Bearer', expires_in: 3600 });
    });
    return;
  }
  if (url.pathname === '/logout') {
    const params = Object.fromEntries(url.searchParams);
    seen.logouts.push(params);
    response.writeHead(302, { location: params.post_logout_redirect_uri ?? '/' });
    return void response.end();
  }
  send(404, { error: 'not found' });
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };

/** The console as CloudFront serves it: the build, `/config.json`, and `/v1/*` to the API. */
async function consoleSite(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', siteUrl);
  if (url.pathname.startsWith('/v1/')) {
    const authorization = request.headers.authorization ?? '';
    const bearer = authorization.replace(/^Bearer /, '');
    const headers: Record<string, string> = { authorization: authorizerAccepts && jwtIsValid(bearer) ? `Bearer ${stack.credentials.investigatorToken}` : authorization };
    for (const name of ['content-type', 'x-crosslink-reviewer']) if (request.headers[name]) headers[name] = String(request.headers[name]);
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await readBody(request);
    const answer = await fetch(`${stack.baseUrl}${url.pathname}${url.search}`, { method: request.method, headers, body });
    seen.apiCalls.push({ path: url.pathname, authorization, status: answer.status });
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    return void response.end(Buffer.from(await answer.arrayBuffer()));
  }
  if (url.pathname === '/config.json') {
    response.writeHead(200, { 'content-type': 'application/json' });
    return void response.end(JSON.stringify({ apiUrl: stack.baseUrl, oidcIssuer: idpUrl, oidcClientId: CLIENT_ID }));
  }
  const relative = normalize(url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
  if (relative.startsWith('..')) return void response.writeHead(400).end();
  try {
    const file = await readFile(join(DIST_DIR, relative));
    response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(relative)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    response.end(file);
  } catch {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

async function signInThroughProvider(): Promise<string> {
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.origin === idpUrl && url.pathname === '/authorize');
  await page.locator('#continue').click();
  await page.waitForURL((url) => url.origin === siteUrl && url.hash.startsWith('#/queue'));
  await expect.poll(() => page.locator('#account .who').textContent()).toBe(`Signed in as ${USER.email}`);
  return seen.issuedTokens.at(-1)!;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startTestStack();
  await ensureConsoleBuilt();
  idp = createServer(fakeIdentityProvider);
  idpUrl = await listen(idp);
  site = createServer((request, response) => void consoleSite(request, response).catch(() => response.writeHead(502).end()));
  siteUrl = await listen(site);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await new Promise((resolve) => idp?.close(resolve));
  await stack?.cleanup();
});

describe('the console signing in through an identity provider', () => {
  it('keeps the investigator token form where the site has no config.json (the local stack)', async () => {
    await page.goto(`${stack.baseUrl}/`);
    await page.getByLabel('Investigator token').waitFor();
  });

  it('sends the investigator to the provider with a PKCE challenge and state, and back signed in', async () => {
    await page.goto(`${siteUrl}/#/queue`);
    await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
    expect(await page.getByLabel('Investigator token').count()).toBe(0);
    await shot('provider-button');

    const idToken = await signInThroughProvider();

    const request = seen.tokenRequests.at(-1)!;
    expect(request.answered).toBe(200);
    expect(request.params.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(request.params).not.toHaveProperty('client_secret');
    expect(request.params.redirect_uri).toBe(`${siteUrl}/`);
    expect(new URL(page.url()).search).toBe('');
    expect(await page.evaluate(() => sessionStorage.getItem('crosslink.token'))).toBe(idToken);
    await page.locator('.counts').waitFor();
  });

  it('sends the ID token as the bearer token on its API calls', async () => {
    const idToken = seen.issuedTokens.at(-1)!;
    await expect.poll(() => seen.apiCalls.filter((call) => call.path === '/v1/queue/counts').length).toBeGreaterThan(0);
    expect(seen.apiCalls.length).toBeGreaterThan(0);
    for (const call of seen.apiCalls) expect(call).toMatchObject({ authorization: `Bearer ${idToken}`, status: 200 });
  });

  it('shows the sign-in-again state when the API refuses the token', async () => {
    const idToken = seen.issuedTokens.at(-1)!;
    authorizerAccepts = false;
    const before = seen.apiCalls.length;
    await page.goto(`${siteUrl}/#/queue?minSize=2`);
    await expect.poll(() => page.locator('.notice-error').textContent()).toMatch(/not accepted.*Sign in again/s);
    // The local API itself refused the provider's JWT.
    expect(seen.apiCalls.slice(before).some((call) => call.authorization === `Bearer ${idToken}` && call.status === 401)).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('crosslink.token'))).toBeNull();
    expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
    await shot('sign-in-again');
    authorizerAccepts = true;
  });

  it('refuses a callback whose state this tab did not send', async () => {
    const exchanges = seen.tokenRequests.length;
    await page.goto(`${siteUrl}/?code=stolen-code&state=forged`);
    await expect.poll(() => page.locator('.notice-error').textContent()).toMatch(/state mismatch/);
    expect(seen.tokenRequests.length).toBe(exchanges);
    expect(await page.evaluate(() => sessionStorage.getItem('crosslink.token'))).toBeNull();
  });

  it('signs out at the provider and comes back signed out', async () => {
    const idToken = await signInThroughProvider();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.locator('.notice-empty').textContent()).toMatch(/You are signed out/);
    expect(seen.logouts.at(-1)).toEqual({ client_id: CLIENT_ID, post_logout_redirect_uri: `${siteUrl}/`, id_token_hint: idToken });
    expect(await page.evaluate(() => sessionStorage.getItem('crosslink.token'))).toBeNull();
    await shot('signed-out');
  });
});
