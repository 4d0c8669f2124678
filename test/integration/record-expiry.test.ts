/**
 * Account records (behavioural metadata) expire `retentionDays` after they were received, as signals
 * do: before, they were kept for ever. Readers leave an expired record out (DynamoDB's TTL deletes
 * lazily), and an incremental run drops one that expired since the previous run, as a full run does.
 */
import { describe, expect, it } from 'vitest';
import type { IngestMessage } from '../../lib/contract/signals.js';
import { aSignal, hashed } from '../support/factories.js';
import { runDetection, useTestStack } from '../support/local-stack.js';

const local = useTestStack();

const retentionMs = () => local.stack.core.config.retentionDays * 86_400_000;

/** A message received at `receivedAt` with one account record, and the account's phone when given. */
function recordMessage(requestId: string, receivedAt: Date, account: string, minorContacts7d: number, phone?: string): IngestMessage {
  return {
    v: 1,
    platform: local.platformId,
    requestId,
    receivedAt: receivedAt.toISOString(),
    signals: phone ? [aSignal({ account, type: 'phone', value: hashed(phone) })] : [],
    accounts: [{ account, minorContacts7d }],
  };
}

const run = (mode: 'auto' | 'full') => runDetection(local.stack, mode);

describe('Account records: retention', () => {
  it('leaves out a record received longer ago than the retention, and reads one received since with its expiry', async () => {
    const [old, fresh] = [`${local.platformId}#record-old`, `${local.platformId}#record-fresh`];
    const receivedNow = new Date();
    await local.stack.core.messageStore.store(JSON.stringify(recordMessage('record-old:0', new Date(Date.now() - retentionMs() - 60_000), 'record-old', 7)));
    await local.stack.core.messageStore.store(JSON.stringify(recordMessage('record-fresh:0', receivedNow, 'record-fresh', 3)));

    const facts = await local.stack.core.signals.factsOf([old, fresh]);
    expect([...facts.keys()]).toEqual([fresh]);
    expect(facts.get(fresh)).toMatchObject({ minorContacts7d: 3, expiresAtS: Math.floor(receivedNow.getTime() / 1000) + local.stack.core.config.retentionDays * 86_400 });
    const snapshot = await local.stack.core.signals.snapshot();
    expect(snapshot.accounts.has(old)).toBe(false);
    expect(snapshot.accounts.get(fresh)?.minorContacts7d).toBe(3);
  });

  it('gives, in an incremental run after a record expired, the full run\'s answer', async () => {
    // Two accounts sharing a phone sent now; one's record (20 minors contacted), sent on its own long ago, expires in a few seconds.
    const expiresAtMs = Date.now() + 5_000;
    await local.stack.core.messageStore.store(JSON.stringify(recordMessage('expiring-a:0', new Date(expiresAtMs - retentionMs()), 'expiring-a', 20)));
    await local.stack.core.messageStore.store(JSON.stringify({ ...recordMessage('expiring-a:1', new Date(), 'expiring-a', 0, 'expiring-phone'), accounts: [] }));
    await local.stack.core.messageStore.store(JSON.stringify(recordMessage('expiring-b:0', new Date(), 'expiring-b', 0, 'expiring-phone')));
    await run('full');
    // An incremental run with nothing new, so that the next one skips the change log's items (it would
    // otherwise read the record again from the table) and only the expiry can tell it.
    expect((await run('auto')).counts?.clustersWritten ?? 0).toBe(0);
    const before = await local.stack.core.signals.factsOf([`${local.platformId}#expiring-a`]);
    expect(before.get(`${local.platformId}#expiring-a`)?.minorContacts7d).toBe(20);
    await new Promise((resolve) => setTimeout(resolve, expiresAtMs + 1_500 - Date.now()));

    const incremental = await run('auto');
    expect(incremental.mode).toBe('incremental');
    expect(incremental.counts).toMatchObject({ changeLogItemsApplied: 0, factsRead: 0 });
    // The cluster's risk lost the minors it was ranked for.
    expect(incremental.counts?.clustersWritten).toBe(1);
    const full = await run('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });
});
