/**
 * A retired hashing key id stays retired: signals stamped with it are not stored again, whether a
 * platform still sends them (as it does between the README's steps 3 and 4 of a key rotation) or they
 * were accepted before the retirement and were still in the queue (found in review: retirement deleted
 * what was stored at that moment and nothing more, so both kinds came back and linked again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aSignal, hashed, postSigned } from '../support/factories.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
const platformOf = (id: string) => stack.credentials.platforms.find((p) => p.id === id)!;
const operator = () => ({ authorization: `Bearer ${stack.credentials.operatorToken}` });
let clock = Math.floor(Date.now() / 1000);
/** A fresh timestamp for each post, so none is refused as a replay. */
const nextSecond = () => ++clock;

const phone = (account: string, keyId: string) => aSignal({ account, type: 'phone', value: hashed(`phone ${account} under ${keyId}`), keyId } as never);

async function post(platform: string, signals: unknown[]) {
  const response = await postSigned(stack.baseUrl, platformOf(platform), JSON.stringify({ signals }), {}, { nowSeconds: nextSecond() });
  expect(response.status).toBe(202);
  return response.json();
}

async function retire(keyId: string) {
  const response = await fetch(`${stack.baseUrl}/v1/keys/${keyId}/retire`, { method: 'POST', headers: operator() });
  expect(response.status).toBe(200);
  return response.json();
}

/** Stored signal items stamped with `keyId`. */
async function storedUnder(keyId: string): Promise<string[]> {
  const snapshot = await stack.core.signals.snapshot();
  const values = new Set([hashed(`phone kr-1 under ${keyId}`), hashed(`phone kr-2 under ${keyId}`), hashed(`phone kr-3 under ${keyId}`)]);
  return snapshot.memberships.filter((m) => values.has(m.value)).map((m) => m.account).sort();
}

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack?.cleanup());

describe('a retired hashing key id', () => {
  it('refuses signals stamped with it once retired, naming the key id, and stores none of them', async () => {
    await post('chatapp', [phone('kr-1', 'k1'), phone('kr-1', 'k2')]);
    await stack.waitForDrain();
    expect(await retire('k1')).toEqual({ keyId: 'k1', signalsDeleted: 1 });

    // chatapp has not yet dropped its PREVIOUS settings: it still sends both forms.
    const answer = await post('chatapp', [phone('kr-2', 'k1'), phone('kr-2', 'k2')]);
    expect(answer).toMatchObject({ accepted: 1, rejected: [{ list: 'signals', index: 0, field: 'keyId', error: expect.stringMatching(/k1 was retired/) }] });
    await stack.waitForDrain();
    expect(await storedUnder('k1')).toEqual([]);
    expect(await storedUnder('k2')).toEqual(['chatapp#kr-1', 'chatapp#kr-2']);
  });

  it('does not store signals stamped with it that were accepted before the retirement and still queued', async () => {
    await stack.worker.stop();
    try {
      await post('photoshare', [phone('kr-3', 'k3'), phone('kr-3', 'k4')]);
      expect(await retire('k3')).toEqual({ keyId: 'k3', signalsDeleted: 0 });
    } finally {
      stack.worker.start();
    }
    await stack.waitForDrain();
    expect(await storedUnder('k3')).toEqual([]);
    expect(await storedUnder('k4')).toEqual(['photoshare#kr-3']);
  });
});
