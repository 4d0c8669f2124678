/**
 * Trust between Crosslink and its callers, over HTTP on the local stack: roles refused everything
 * not theirs, replay protection, per-platform rate limits, platform credential management with a
 * rotation grace, account withdrawal, and the platform lookup behind the release threshold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aSignal, hashed, postSigned } from '../support/factories.js';
import { investigatorHeaders, startTestStack } from '../support/local-stack.js';

type Role = 'platform' | 'investigator' | 'operator' | 'anonymous';
const ROUTES: Array<{ method: string; path: string; allowed: Role[] }> = [
  { method: 'POST', path: '/v1/signals', allowed: ['platform'] },
  { method: 'DELETE', path: '/v1/accounts/matrix-account', allowed: ['platform'] },
  { method: 'GET', path: '/v1/lookup/matrix-account', allowed: ['platform'] },
  { method: 'GET', path: '/v1/status', allowed: ['investigator', 'operator'] },
  { method: 'POST', path: '/v1/detect', allowed: ['investigator'] },
  { method: 'GET', path: '/v1/runs/no-such-run', allowed: ['investigator', 'operator'] },
  { method: 'GET', path: '/v1/clusters', allowed: ['investigator'] },
  { method: 'GET', path: '/v1/clusters/no-such-cluster', allowed: ['investigator'] },
  { method: 'GET', path: '/v1/accounts/chatapp/matrix-account', allowed: ['investigator'] },
  { method: 'GET', path: '/v1/platforms', allowed: ['operator'] },
  { method: 'POST', path: '/v1/platforms', allowed: ['operator'] },
  { method: 'POST', path: '/v1/platforms/no-such-platform/rotate', allowed: ['operator'] },
  { method: 'DELETE', path: '/v1/platforms/no-such-platform', allowed: ['operator'] },
  { method: 'POST', path: '/v1/keys/no-such-key/retire', allowed: ['operator'] },
];
const ROLES: Role[] = ['platform', 'investigator', 'operator', 'anonymous'];

let stack: Awaited<ReturnType<typeof startTestStack>>;
const platformOf = (id: string) => stack.credentials.platforms.find((p) => p.id === id)!;

async function call(role: Role, method: string, path: string, body = '') {
  const payload = method === 'POST' && path === '/v1/signals' ? JSON.stringify({ signals: [aSignal({ account: 'matrix-account' })] }) : body || (method === 'POST' ? '{"id":"matrix-new"}' : '');
  if (role === 'platform') return postSigned(stack.baseUrl, platformOf('chatapp'), payload, {}, { method, path });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (role === 'investigator') headers.authorization = `Bearer ${stack.credentials.investigatorToken}`;
  if (role === 'operator') headers.authorization = `Bearer ${stack.credentials.operatorToken}`;
  return fetch(`${stack.baseUrl}${path}`, { method, headers, body: method === 'GET' || method === 'DELETE' ? undefined : payload });
}

beforeAll(async () => {
  stack = await startTestStack({ releaseThreshold: 2 });
});

async function detect() {
  const response = await fetch(`${stack.baseUrl}/v1/detect`, { method: 'POST', headers: investigatorHeaders(stack) });
  const { runId } = await response.json();
  return stack.waitForRun(runId);
}
afterAll(async () => stack?.cleanup());

describe('roles', () => {
  const pairs = ROUTES.flatMap((route) => ROLES.map((role) => ({ ...route, role, expected: route.allowed.includes(role) })));

  it.each(pairs.filter((pair) => !pair.expected))('$role is refused $method $path', async ({ role, method, path }) => {
    const response = await call(role, method, path);
    expect([401, 403]).toContain(response.status);
    expect((await response.json()).error).toEqual(expect.any(String));
  });

  it.each(pairs.filter((pair) => pair.expected))('$role may $method $path', async ({ role, method, path }) => {
    const response = await call(role, method, path);
    expect([401, 403]).not.toContain(response.status);
    expect(response.status).toBeLessThan(500);
  });
});

describe('replay protection', () => {
  it('refuses the same signed request a second time with 409, and takes it signed afresh', async () => {
    const body = JSON.stringify({ signals: [aSignal({ account: 'replayed' })] });
    const now = Math.floor(Date.now() / 1000);
    expect((await postSigned(stack.baseUrl, platformOf('chatapp'), body, {}, { nowSeconds: now })).status).toBe(202);
    const replay = await postSigned(stack.baseUrl, platformOf('chatapp'), body, {}, { nowSeconds: now });
    expect(replay.status).toBe(409);
    expect((await replay.json()).error).toMatch(/replay.*sign every request afresh/);
    expect((await postSigned(stack.baseUrl, platformOf('chatapp'), body, {}, { nowSeconds: now + 1 })).status).toBe(202);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once a platform is over its rate, and only that platform', async () => {
    const limited = await startTestStack({ requestsPerMinute: 3 });
    try {
      const platform = limited.credentials.platforms[0];
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const response = await postSigned(limited.baseUrl, platform, JSON.stringify({ signals: [aSignal({ account: `rate-${i}` })] }), {}, { nowSeconds: Math.floor(Date.now() / 1000) + i });
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers.get('retry-after');
      }
      // A minute window may roll over mid-test: then at most one more request gets through.
      expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(3);
      expect(statuses.filter((s) => s === 202).length).toBeLessThanOrEqual(4);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
      const other = limited.credentials.platforms[1];
      expect((await postSigned(limited.baseUrl, other, JSON.stringify({ signals: [aSignal()] }))).status).toBe(202);
    } finally {
      await limited.cleanup();
    }
  });

  it('spends no quota on replays of a captured request or on bad signatures', async () => {
    const limited = await startTestStack({ requestsPerMinute: 3 });
    try {
      const platform = limited.credentials.platforms[0];
      const now = Math.floor(Date.now() / 1000);
      const captured = JSON.stringify({ signals: [aSignal({ account: 'captured' })] });
      expect((await postSigned(limited.baseUrl, platform, captured, {}, { nowSeconds: now })).status).toBe(202);
      const replays = [];
      for (let i = 0; i < 5; i++) replays.push((await postSigned(limited.baseUrl, platform, captured, {}, { nowSeconds: now })).status);
      expect(replays).toEqual([409, 409, 409, 409, 409]);
      for (let i = 0; i < 5; i++) expect((await postSigned(limited.baseUrl, { id: platform.id, secret: 'f'.repeat(64) }, captured, {}, { nowSeconds: now + 1 + i })).status).toBe(401);
      const fresh = [];
      for (let i = 0; i < 2; i++) fresh.push((await postSigned(limited.baseUrl, platform, JSON.stringify({ signals: [aSignal({ account: `fresh-${i}` })] }), {}, { nowSeconds: now + 10 + i })).status);
      expect(fresh).toEqual([202, 202]);
    } finally {
      await limited.cleanup();
    }
  });

  it('answers a replayed signed read without spending quota again', async () => {
    const limited = await startTestStack({ requestsPerMinute: 3 });
    try {
      const platform = limited.credentials.platforms[0];
      const now = Math.floor(Date.now() / 1000);
      const read = () => postSigned(limited.baseUrl, platform, '', {}, { method: 'GET', path: '/v1/lookup/read-twice', nowSeconds: now });
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push((await read()).status);
      // An idempotent GET sent again as it was is answered, but counted once.
      expect(answers).toEqual([200, 200, 200, 200, 200, 200]);
      const fresh = [];
      for (let i = 0; i < 2; i++) fresh.push((await postSigned(limited.baseUrl, platform, JSON.stringify({ signals: [aSignal({ account: `after-reads-${i}` })] }), {}, { nowSeconds: now + 1 + i })).status);
      expect(fresh).toEqual([202, 202]);
    } finally {
      await limited.cleanup();
    }
  });
});

describe('platform credentials (operator)', () => {
  const operator = () => ({ authorization: `Bearer ${stack.credentials.operatorToken}`, 'content-type': 'application/json' });

  it('adds a platform whose secret signs at once, and refuses a duplicate or a bad id', async () => {
    const response = await fetch(`${stack.baseUrl}/v1/platforms`, { method: 'POST', headers: operator(), body: JSON.stringify({ id: 'newplatform' }) });
    expect(response.status).toBe(201);
    const { secret } = await response.json();
    expect((await postSigned(stack.baseUrl, { id: 'newplatform', secret }, JSON.stringify({ signals: [aSignal()] }))).status).toBe(202);
    const again = await fetch(`${stack.baseUrl}/v1/platforms`, { method: 'POST', headers: operator(), body: JSON.stringify({ id: 'newplatform' }) });
    expect(again.status).toBe(409);
    const bad = await fetch(`${stack.baseUrl}/v1/platforms`, { method: 'POST', headers: operator(), body: JSON.stringify({ id: 'Bad Id!' }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/lowercase letters/);
  });

  it('rotates a secret: the new one signs, the old one keeps working through the grace period', async () => {
    const old = platformOf('gamehub').secret;
    const response = await fetch(`${stack.baseUrl}/v1/platforms/gamehub/rotate`, { method: 'POST', headers: operator() });
    expect(response.status).toBe(200);
    const rotated = await response.json();
    expect(rotated.secret).not.toBe(old);
    const body = JSON.stringify({ signals: [aSignal()] });
    const now = Math.floor(Date.now() / 1000);
    expect((await postSigned(stack.baseUrl, { id: 'gamehub', secret: rotated.secret }, body, {}, { nowSeconds: now })).status).toBe(202);
    expect((await postSigned(stack.baseUrl, { id: 'gamehub', secret: old }, body, {}, { nowSeconds: now + 1 })).status).toBe(202);
    expect((await postSigned(stack.baseUrl, { id: 'gamehub', secret: 'x'.repeat(64) }, body, {}, { nowSeconds: now + 2 })).status).toBe(401);
  });

  it('removes a platform: its signatures stop working', async () => {
    const secret = platformOf('clipvideo').secret;
    expect((await fetch(`${stack.baseUrl}/v1/platforms/clipvideo`, { method: 'DELETE', headers: operator() })).status).toBe(204);
    const response = await postSigned(stack.baseUrl, { id: 'clipvideo', secret }, JSON.stringify({ signals: [aSignal()] }));
    expect(response.status).toBe(401);
    const { platforms } = await (await fetch(`${stack.baseUrl}/v1/platforms`, { headers: operator() })).json();
    expect(platforms.map((p: { id: string }) => p.id)).not.toContain('clipvideo');
  });
});

describe('withdrawal and lookup', () => {
  const signal = (account: string, label: string) => aSignal({ account, type: 'payment', value: hashed(label) });

  async function lookup(platformId: string, account: string) {
    const response = await postSigned(stack.baseUrl, platformOf(platformId), '', {}, { method: 'GET', path: `/v1/lookup/${account}` });
    expect(response.status).toBe(200);
    return response.json();
  }

  beforeAll(async () => {
    const now = Math.floor(Date.now() / 1000);
    // A card shared across two platforms (released), and a card shared within one platform only (withheld).
    await postSigned(stack.baseUrl, platformOf('chatapp'), JSON.stringify({ signals: [signal('lw-1', 'card-x'), signal('lw-2', 'card-y'), signal('lw-3', 'card-y')] }), {}, { nowSeconds: now + 10 });
    await postSigned(stack.baseUrl, platformOf('photoshare'), JSON.stringify({ signals: [signal('lw-9', 'card-x')] }), {}, { nowSeconds: now + 11 });
    await stack.waitForDrain();
    await detect();
  });

  it("tells a platform its account is in a cross-platform cluster, with only that platform's own accounts", async () => {
    const answer = await lookup('chatapp', 'lw-1');
    expect(answer).toMatchObject({ account: 'lw-1', inCrossPlatformCluster: true, cluster: { size: 2, platformCount: 2, yourAccounts: ['lw-1'] } });
    expect(JSON.stringify(answer)).not.toMatch(/photoshare|lw-9/);
  });

  it('withholds a cluster below the release threshold', async () => {
    expect(await lookup('chatapp', 'lw-2')).toEqual({ account: 'lw-2', inCrossPlatformCluster: false, cluster: null });
  });

  it("cannot look up another platform's account", async () => {
    expect(await lookup('chatapp', 'lw-9')).toEqual({ account: 'lw-9', inCrossPlatformCluster: false, cluster: null });
  });

  it('withdraws an account: after the next run it is in no cluster and no report', async () => {
    const response = await postSigned(stack.baseUrl, platformOf('photoshare'), '', {}, { method: 'DELETE', path: '/v1/accounts/lw-9' });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ account: 'lw-9', withdrawn: true, signalsDeleted: 1 });
    await detect();
    expect(await lookup('chatapp', 'lw-1')).toMatchObject({ inCrossPlatformCluster: false });
    const investigator = await (await fetch(`${stack.baseUrl}/v1/accounts/photoshare/lw-9`, { headers: investigatorHeaders(stack) })).json();
    expect(investigator.cluster).toBeNull();
  });
});

describe('hashing-key rotation', () => {
  it('links accounts through either form during a rotation, and retiring the old key removes only its signals', async () => {
    const now = Math.floor(Date.now() / 1000) + 100;
    const oldForm = hashed('phone under key k1');
    const newForm = hashed('phone under key k2');
    // chatapp has rotated (sends both forms); photoshare still sends only the old form.
    await postSigned(stack.baseUrl, platformOf('chatapp'), JSON.stringify({ signals: [
      aSignal({ account: 'rot-1', type: 'phone', value: oldForm, keyId: 'k1' } as never),
      aSignal({ account: 'rot-1', type: 'phone', value: newForm, keyId: 'k2' } as never),
    ] }), {}, { nowSeconds: now });
    await postSigned(stack.baseUrl, platformOf('photoshare'), JSON.stringify({ signals: [aSignal({ account: 'rot-2', type: 'phone', value: oldForm, keyId: 'k1' } as never)] }), {}, { nowSeconds: now + 1 });
    await stack.waitForDrain();
    await detect();
    const linked = await (await fetch(`${stack.baseUrl}/v1/accounts/photoshare/rot-2`, { headers: investigatorHeaders(stack) })).json();
    expect(linked.cluster.members).toEqual(expect.arrayContaining([{ platform: 'chatapp', account: 'rot-1' }]));
    const before = await stack.core.signals.storedCount();
    const response = await fetch(`${stack.baseUrl}/v1/keys/k1/retire`, { method: 'POST', headers: { authorization: `Bearer ${stack.credentials.operatorToken}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ keyId: 'k1', signalsDeleted: 2 });
    expect(await stack.core.signals.storedCount()).toBe(before - 2);
  });
});
