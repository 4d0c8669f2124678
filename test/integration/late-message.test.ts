/**
 * A queue message stored late (SQS redelivery after a failed receive, or a dead letter redriven after an
 * outage) must not roll back what a newer message stored for the same signal. Once a known gap (the
 * signal write was an unconditional BatchWriteItem put, so the older message's receivedAt and expiresAt
 * won): a message stored over a minute after receipt is now written signal by signal on condition that
 * no stored copy expires later, and an incremental run applies the same rule to the change log's copy.
 *
 * A message received before its account was withdrawn and stored after it is never linked; the next
 * full run deletes its signals (they stayed in the table until their retention ran out before).
 */
import { describe, expect, it } from 'vitest';
import type { IngestMessage } from '../../lib/contract/signals.js';
import { accountPk, signalPk } from '../../lib/graph/keys.js';
import { aSignal, hashed } from '../support/factories.js';
import { scanStoredSignals, signalKey } from '../support/ingest-load.js';
import { runDetection, useTestStack } from '../support/local-stack.js';

const local = useTestStack();

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

function aMessage(requestId: string, receivedAt: string, account: string): IngestMessage {
  return { v: 1, platform: local.platformId, requestId, receivedAt, signals: [aSignal({ account, value: hashed(`${account}-phone`), type: 'phone' })], accounts: [] };
}

const run = (mode: 'auto' | 'full') => runDetection(local.stack, mode);

describe('Consumer: a late delivery of an older message', () => {
  it('keeps a signal re-sent after a withdrawal when the message from before the withdrawal is stored late', async () => {
    const account = 'late-withdrawn';
    const before = aMessage('before-withdrawal:0', minutesAgo(30), account);
    // The platform withdraws the account, then sends the signal again (the account is back).
    await local.stack.core.signals.withdrawAccount(local.platformId, account, minutesAgo(20));
    const after = aMessage('after-withdrawal:0', minutesAgo(10), account);

    await local.stack.core.messageStore.store(JSON.stringify(after));
    // The first message comes back late (redelivered, or redriven from the dead-letter queue).
    await local.stack.core.messageStore.store(JSON.stringify(before));

    const held = (await local.stack.core.signals.readAccounts([`${local.platformId}#${account}`])).get(`${local.platformId}#${account}`)!;
    expect(held.memberships.map((m) => m.value)).toEqual([hashed(`${account}-phone`)]);
  });

  it('keeps the later expiry of a signal when an older message for it is stored late', async () => {
    const account = 'late-refreshed';
    const older = aMessage('older:0', minutesAgo(3 * 24 * 60), account);
    const newer = aMessage('newer:0', minutesAgo(1), account);
    await local.stack.core.messageStore.store(JSON.stringify(newer));
    await local.stack.core.messageStore.store(JSON.stringify(older));

    const held = (await local.stack.core.signals.readAccounts([`${local.platformId}#${account}`])).get(`${local.platformId}#${account}`)!;
    const retentionS = local.stack.core.config.retentionDays * 86_400;
    expect(held.memberships.map((m) => m.expiresAtS)).toEqual([Math.floor(Date.parse(newer.receivedAt) / 1000) + retentionS]);
  });

  it('gives, in an incremental run after the late message, the full run\'s answer', async () => {
    const [returning, friend] = ['late-returning', 'late-friend'];
    await local.stack.core.messageStore.store(JSON.stringify(aMessage('friend:0', new Date().toISOString(), friend)));
    await run('full');
    // The friend's phone, sent now, then a message of it from past the retention stored late: kept, the
    // old copy would have expired already, and the link with it.
    await local.stack.core.messageStore.store(JSON.stringify(withPhoneOf(aMessage('returning-now:0', new Date().toISOString(), returning), friend)));
    const pastRetention = minutesAgo((local.stack.core.config.retentionDays + 1) * 24 * 60);
    await local.stack.core.messageStore.store(JSON.stringify(withPhoneOf(aMessage('returning-old:0', pastRetention, returning), friend)));

    const incremental = await run('auto');
    expect(incremental.mode).toBe('incremental');
    expect(incremental.counts?.clustersWritten).toBe(1);
    const full = await run('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });
});


describe('Detection: signals of a withdrawn account received before the withdrawal', () => {
  it('deletes, in the next full run, one stored after the withdrawal, and keeps one sent again since', async () => {
    const account = 'late-swept';
    const stored = async () => (await scanStoredSignals(local.stack.servers.dynamodbEndpoint, local.stack.core.config.tableName)).filter((key) => key.includes(`|${account}|`));
    await local.stack.core.signals.withdrawAccount(local.platformId, account, minutesAgo(20));
    // Received before the withdrawal, stored after it: kept out of every read, but still in the table.
    await local.stack.core.messageStore.store(JSON.stringify(aMessage('swept-before:0', minutesAgo(30), account)));
    // Sent again after the withdrawal, with another identifier.
    await local.stack.core.messageStore.store(JSON.stringify({ ...aMessage('swept-after:0', minutesAgo(10), account), signals: [aSignal({ account, type: 'email', value: hashed(`${account}-email`) })] }));
    expect(await stored()).toHaveLength(2);

    const full = await run('full');

    expect(full.counts?.withdrawnLeftoversDeleted).toBe(1);
    expect(await stored()).toEqual([signalKey(local.platformId, account, 'email', hashed(`${account}-email`))]);
  });

  it('leaves a leftover the read saw if it was sent again since (received after the withdrawal)', async () => {
    const account = 'late-resent';
    const withdrawnAt = minutesAgo(20);
    await local.stack.core.signals.withdrawAccount(local.platformId, account, withdrawnAt);
    await local.stack.core.messageStore.store(JSON.stringify(aMessage('resent-after:0', minutesAgo(10), account)));
    // As a full run's read would have named the copy from before the withdrawal, now overwritten.
    const key = { pk: signalPk('phone', hashed(`${account}-phone`)), sk: accountPk(local.platformId, account) };

    await expect(local.stack.core.signals.deleteWithdrawnLeftovers([{ key, withdrawnAt }])).resolves.toBe(0);
    const held = (await local.stack.core.signals.readAccounts([`${local.platformId}#${account}`])).get(`${local.platformId}#${account}`)!;
    expect(held.memberships.map((m) => m.value)).toEqual([hashed(`${account}-phone`)]);
  });
});

/** The message with its one signal's value replaced by the phone `account`'s messages carry. */
function withPhoneOf(message: IngestMessage, account: string): IngestMessage {
  return { ...message, signals: message.signals.map((signal) => ({ ...signal, value: hashed(`${account}-phone`) })) };
}
