/**
 * The platform contract over real HTTP against the local stack (real dynalite and SQS API servers):
 * every whole-request rejection, item-by-item rejection, and idempotent storage.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeSignature } from '../../lib/auth/signing.js';
import type { IngestMessage } from '../../lib/contract/signals.js';
import { aSignal, hashed, postSigned } from '../support/factories.js';
import { investigatorHeaders, useTestStack } from '../support/local-stack.js';

const local = useTestStack();

async function status() {
  const response = await fetch(`${local.stack.baseUrl}/v1/status?count=exact`, { headers: investigatorHeaders(local.stack) });
  expect(response.status).toBe(200);
  return response.json() as Promise<{ signalsAccepted: number; signalsStored: number; queue: { waiting: number; inFlight: number; deadLetter: number } }>;
}

describe('POST /v1/signals', () => {
  it('answers 202 with the count accepted once the signals are enqueued, and stores them', async () => {
    const before = await status();
    const body = JSON.stringify({ signals: [aSignal({ account: 'store-1', value: hashed('store-1') }), aSignal({ account: 'store-2', value: hashed('store-2') })] });
    const response = await postSigned(local.stack.baseUrl, local.platform, body);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 2, accountsAccepted: 0, rejected: [] });
    await local.stack.waitForDrain();
    const after = await status();
    expect(after.signalsAccepted - before.signalsAccepted).toBe(2);
    expect(after.signalsStored - before.signalsStored).toBe(2);
  });

  it('rejects invalid items one by one while the valid ones go through', async () => {
    const before = await status();
    const body = JSON.stringify({
      signals: [aSignal({ account: 'mixed-1', value: hashed('mixed-1') }), aSignal({ value: '+44 7700 900123', type: 'phone' }), aSignal({ account: 'mixed-2', value: hashed('mixed-2') })],
    });
    const response = await postSigned(local.stack.baseUrl, local.platform, body);
    expect(response.status).toBe(202);
    const answer = await response.json();
    expect(answer.accepted).toBe(2);
    expect(answer.rejected).toEqual([{ list: 'signals', index: 1, field: 'value', error: expect.stringMatching(/raw identifier/) }]);
    await local.stack.waitForDrain();
    expect((await status()).signalsStored - before.signalsStored).toBe(2);
  });

  it('stores a request sent twice only once', async () => {
    const before = await status();
    const body = JSON.stringify({ signals: Array.from({ length: 120 }, (_, i) => aSignal({ account: `twice-${i}`, value: hashed(`twice-${i}`) })) });
    const now = Math.floor(Date.now() / 1000);
    // Each send is signed afresh (a new timestamp), as the contract asks of a retry.
    expect((await postSigned(local.stack.baseUrl, local.platform, body, {}, { nowSeconds: now })).status).toBe(202);
    expect((await postSigned(local.stack.baseUrl, local.platform, body, {}, { nowSeconds: now + 1 })).status).toBe(202);
    await local.stack.waitForDrain();
    const after = await status();
    expect(after.signalsAccepted - before.signalsAccepted).toBe(240);
    expect(after.signalsStored - before.signalsStored).toBe(120);
  });

  it('stores a queue message delivered twice only once', async () => {
    const before = await status();
    const message: IngestMessage = {
      v: 1,
      platform: local.platform.id,
      requestId: 'redelivered',
      receivedAt: new Date().toISOString(),
      signals: Array.from({ length: 7 }, (_, i) => aSignal({ account: `redelivered-${i}`, value: hashed(`redelivered-${i}`) })),
      accounts: [],
    };
    for (let i = 0; i < 2; i++) await local.stack.sqs.send(new SendMessageCommand({ QueueUrl: local.stack.core.config.signalQueueUrl, MessageBody: JSON.stringify(message) }));
    await local.stack.waitForDrain();
    expect((await status()).signalsStored - before.signalsStored).toBe(7);
  });

  describe('refuses a request that cannot be taken at all', () => {
    const valid = JSON.stringify({ signals: [aSignal()] });

    it.each([
      ['malformed JSON', '{"signals":[', 400, /not valid JSON/],
      ['the wrong shape', '{"signal":[]}', 400, /signals/],
      ['more than 500 signals', JSON.stringify({ signals: Array.from({ length: 501 }, () => aSignal()) }), 400, /more than 500/],
      ['a body over 1 MiB', JSON.stringify({ signals: [aSignal()], padding: 'x'.repeat(1024 * 1024) }), 413, /limit: split the batch/],
    ])('%s: %i', async (_name, body, statusCode, message) => {
      const response = await postSigned(local.stack.baseUrl, local.platform, body);
      expect(response.status).toBe(statusCode);
      expect((await response.json()).error).toMatch(message);
    });

    it.each([
      ['an unknown platform', { 'x-crosslink-platform': 'nosuchplatform' }, /unknown platform/],
      ['no platform header', { 'x-crosslink-platform': undefined }, /missing x-crosslink-platform/],
      ['no signature', { 'x-crosslink-signature': undefined }, /missing x-crosslink-signature/],
      ['a malformed signature', { 'x-crosslink-signature': 'sha256=abc' }, /must be v1=/],
      ['a signature over another body', { 'x-crosslink-signature': `v1=${'0'.repeat(64)}` }, /does not match/],
      ['no timestamp', { 'x-crosslink-timestamp': undefined }, /missing x-crosslink-timestamp/],
    ])('%s: 401', async (_name, overrides, message) => {
      const response = await postSigned(local.stack.baseUrl, local.platform, valid, overrides);
      expect(response.status).toBe(401);
      expect((await response.json()).error).toMatch(message);
    });

    it.each([
      ['stale', -301],
      ['future', 301],
    ])('a %s timestamp (301 s off): 401', async (_name, offset) => {
      const timestamp = Math.floor(Date.now() / 1000) + offset;
      const response = await postSigned(local.stack.baseUrl, local.platform, valid, {
        'x-crosslink-timestamp': String(timestamp),
        'x-crosslink-signature': `v1=${computeSignature(local.platform.secret, timestamp, valid)}`,
      });
      expect(response.status).toBe(401);
      expect((await response.json()).error).toMatch(/more than 300 seconds/);
    });

    it('nothing from refused requests is counted as accepted', async () => {
      const before = await status();
      await postSigned(local.stack.baseUrl, local.platform, valid, { 'x-crosslink-platform': 'nosuchplatform' });
      await postSigned(local.stack.baseUrl, local.platform, '{"signals":[');
      expect((await status()).signalsAccepted).toBe(before.signalsAccepted);
    });
  });
});

describe('generated garbage over HTTP', () => {
  it('answers every signed body with 202 or a 4xx that says what is wrong, never a 5xx', async () => {
    // Distinct timestamps inside the window, so that no two posts share a signature.
    let timestamp = Math.floor(Date.now() / 1000) - 200;
    const bodies = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.record({ signals: fc.array(fc.anything(), { maxLength: 5 }), accounts: fc.option(fc.array(fc.anything(), { maxLength: 3 }), { nil: undefined }) }).map((value) => JSON.stringify(value)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const response = await postSigned(local.stack.baseUrl, local.platform, body, {}, { nowSeconds: timestamp++ });
        expect([202, 400, 413]).toContain(response.status);
        const answer = await response.json();
        if (response.status !== 202) expect(answer.error).toEqual(expect.any(String));
      }),
      { numRuns: 60 },
    );
  });
});

describe('investigator endpoints', () => {
  const paths = ['/v1/status', '/v1/clusters', '/v1/clusters/c1', '/v1/runs/r1', '/v1/accounts/chatapp/a1'];

  it.each(paths)('GET %s refuses a platform signature with 403', async (path) => {
    const response = await fetch(`${local.stack.baseUrl}${path}`, {
      headers: { 'x-crosslink-platform': local.platform.id, 'x-crosslink-timestamp': String(Math.floor(Date.now() / 1000)), 'x-crosslink-signature': `v1=${'0'.repeat(64)}` },
    });
    expect(response.status).toBe(403);
  });

  it.each(paths)('GET %s refuses a platform secret used as a bearer token with 401', async (path) => {
    const response = await fetch(`${local.stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${local.platform.secret}` } });
    expect(response.status).toBe(401);
  });

  it('POST /v1/detect refuses callers without the investigator token', async () => {
    expect((await fetch(`${local.stack.baseUrl}/v1/detect`, { method: 'POST' })).status).toBe(401);
  });

  it('says what is wrong with a bad query', async () => {
    const response = await fetch(`${local.stack.baseUrl}/v1/clusters?limit=0`, { headers: investigatorHeaders(local.stack) });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/limit must be at least 1/);
  });

  it('counts the stored signals only when asked (the count reads the whole table), and says how to ask', async () => {
    const plain = await (await fetch(`${local.stack.baseUrl}/v1/status`, { headers: investigatorHeaders(local.stack) })).json();
    expect(plain).not.toHaveProperty('signalsStored');
    expect(plain).toHaveProperty('signalsAccepted');
    expect(typeof (await status()).signalsStored).toBe('number');
    const wrong = await fetch(`${local.stack.baseUrl}/v1/status?count=all`, { headers: investigatorHeaders(local.stack) });
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error).toMatch(/count must be exact/);
  });

  it('answers 404 with a hint for an unknown run', async () => {
    const response = await fetch(`${local.stack.baseUrl}/v1/runs/nope`, { headers: investigatorHeaders(local.stack) });
    expect(response.status).toBe(404);
    expect((await response.json()).error).toMatch(/POST \/v1\/detect/);
  });
});
