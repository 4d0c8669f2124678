/**
 * Withdrawing an account that holds many signals. The deletion was recorded as one change-log item
 * naming every identifier deleted, which outgrew DynamoDB's 400 KB item limit at about 6,000 signals:
 * the withdrawal then failed after its deletes (500), and the next incremental run was never told.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashed, OBSERVED_AT } from '../support/factories.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let platformId: string;

beforeAll(async () => {
  stack = await startTestStack();
  platformId = stack.credentials.platforms[0]!.id;
});
afterAll(async () => stack?.cleanup());

describe('SignalRepository.withdrawAccount: an account with many signals', () => {
  it('withdraws it and records the change', async () => {
    const account = 'many-ips';
    const signals = Array.from({ length: 6500 }, (_, i) => ({ account, type: 'ip' as const, value: hashed(`ip-${i}`), observedAt: OBSERVED_AT }));
    await stack.core.signals.putSignals(platformId, signals, { receivedAt: new Date(Date.now() - 60_000).toISOString(), expiresAtSeconds: Math.floor(Date.now() / 1000) + 86_400 });
    const since = new Date().toISOString();

    await expect(stack.core.signals.withdrawAccount(platformId, account, new Date().toISOString())).resolves.toEqual({ signalsDeleted: 6500 });
    const changes = await stack.core.changes.detailSince(since);
    expect(changes.reread.has(`${platformId}#${account}`)).toBe(true);
    // Every deleted identifier is named, across the change items the deletion was cut into.
    expect(changes.identifiers.size).toBe(6500);
  }, 120_000);
});
