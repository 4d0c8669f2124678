/**
 * Withdrawing an account that holds many signals. The deletion was recorded as one change-log item
 * naming every identifier deleted, which outgrew DynamoDB's 400 KB item limit at about 6,000 signals:
 * the withdrawal then failed after its deletes (500), and the next incremental run was never told.
 */
import { describe, expect, it } from 'vitest';
import { hashed, OBSERVED_AT } from '../support/factories.js';
import { useTestStack } from '../support/local-stack.js';

const local = useTestStack();

describe('SignalRepository.withdrawAccount: an account with many signals', () => {
  it('withdraws it and records the change', async () => {
    const account = 'many-ips';
    const signals = Array.from({ length: 6500 }, (_, i) => ({ account, type: 'ip' as const, value: hashed(`ip-${i}`), observedAt: OBSERVED_AT }));
    await local.stack.core.signals.putSignals(local.platformId, signals, { receivedAt: new Date(Date.now() - 60_000).toISOString(), storedAt: new Date().toISOString(), expiresAtSeconds: Math.floor(Date.now() / 1000) + 86_400 });
    const since = new Date().toISOString();

    await expect(local.stack.core.signals.withdrawAccount(local.platformId, account, new Date().toISOString())).resolves.toEqual({ signalsDeleted: 6500 });
    const changes = await local.stack.core.changes.detailSince(since);
    expect(changes.reread.has(`${local.platformId}#${account}`)).toBe(true);
    // Every deleted identifier is named, across the change items the deletion was cut into.
    expect(changes.identifiers.size).toBe(6500);
  }, 120_000);
});
