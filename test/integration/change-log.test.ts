/**
 * The change log on a real DynamoDB API (dynalite): which accounts' facts a change may have changed,
 * and which items a run skips because the run before it saw and applied them.
 */
import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_SHARDS, ChangeLog, changeLogSeen } from '../../lib/graph/change-log.js';
import { MessageStore } from '../../lib/ingest/store-message.js';
import { SignalRepository } from '../../lib/graph/signal-repository.js';
import { hashed, OBSERVED_AT } from '../support/factories.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

let tables = 0;
let local: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  local = await startLocalDynamo('change-log');
  db = local.db;
});
afterAll(async () => local?.stop());

/** A table of its own, with the change log, the consumer (on a clock from `clockAt`, a millisecond a tick) and the repository writing to it. */
async function setUp(clockAt = '2030-01-01T00:00:00.000Z') {
  const table = `change-log-${tables++}`;
  await local.ensureTable(table);
  const changes = new ChangeLog(db, table);
  const signals = new SignalRepository(db, table, changes, 30);
  let now = Date.parse(clockAt);
  const messages = new MessageStore(signals, changes, 30, () => new Date(now++));
  /** Stores a message whose change-log item is keyed `at` (a writer whose clock was taken then). */
  const storeAt = (at: string, requestId: string, accounts: string[]) => new MessageStore(signals, changes, 30, () => new Date(at)).store(message(requestId, { signals: accounts }));
  return { table, changes, signals, messages, storeAt };
}

const message = (requestId: string, body: { signals?: string[]; accounts?: string[] }) =>
  JSON.stringify({
    v: 1,
    platform: 'snap',
    requestId,
    receivedAt: new Date().toISOString(),
    signals: (body.signals ?? []).map((account) => ({ account, type: 'email', value: hashed(`${account}@example.com`), observedAt: OBSERVED_AT })),
    accounts: (body.accounts ?? []).map((account) => ({ account, reports30d: 2 })),
  });

describe('ChangeLog: accounts whose facts may have changed', () => {
  it("names a message's account records, never the accounts it only stored signals for", async () => {
    const { changes, messages } = await setUp();
    await messages.store(message('facts-1', { signals: ['sig-only', 'both'], accounts: ['both', 'meta-only'] }));
    await messages.store(message('facts-2', { signals: ['sig-only-2'] }));

    const detail = await changes.detailSince('2030-01-01T00:00:00.000Z');
    expect([...detail.accounts].sort()).toEqual(['snap#both', 'snap#meta-only', 'snap#sig-only', 'snap#sig-only-2']);
    expect([...detail.factsOf].sort()).toEqual(['snap#both', 'snap#meta-only']);
  });

  it('names every account of a deletion (a withdrawal deletes the account metadata too)', async () => {
    const { changes, signals } = await setUp();
    const since = new Date().toISOString();
    await signals.withdrawAccount('snap', 'gone', new Date().toISOString());

    const detail = await changes.detailSince(since);
    expect([...detail.reread]).toEqual(['snap#gone']);
    expect([...detail.factsOf]).toEqual(['snap#gone']);
  });

  it('counts every account of an item written before items named them (conservative)', async () => {
    const { table, changes } = await setUp();
    await db.send(
      new PutCommand({
        TableName: table,
        Item: { pk: 'CHANGED#3', sk: '2030-03-01T00:00:00.000Z#old-item', kind: 'change', accounts: ['snap#a', 'snap#b'], identifiers: [], expiresAt: 1_900_000_000 },
      }),
    );

    const detail = await changes.detailSince('2030-03-01T00:00:00.000Z');
    expect([...detail.factsOf].sort()).toEqual(['snap#a', 'snap#b']);
  });
});

describe('ChangeLog: what an item holds', () => {
  it("keeps a message's signals once: its accounts and identifiers are read from them, as an earlier version's lists gave them", async () => {
    const { table, changes, messages } = await setUp();
    await messages.store(message('lists-1', { signals: ['s-1', 's-2'], accounts: ['s-2', 'meta-only'] }));
    const shards = Array.from({ length: CHANGE_SHARDS }, (_, shard) => db.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `CHANGED#${shard}` } })));
    const written = (await Promise.all(shards)).flatMap((page) => page.Items ?? []);
    expect(written).toHaveLength(1);
    expect(written[0]).not.toHaveProperty('accounts');
    expect(written[0]).not.toHaveProperty('identifiers');
    const detail = await changes.detailSince('2030-01-01T00:00:00.000Z');
    expect([...detail.accounts].sort()).toEqual(['snap#meta-only', 'snap#s-1', 'snap#s-2']);
    expect([...detail.identifiers].sort()).toEqual(['s-1', 's-2'].map((account) => `email#${hashed(`${account}@example.com`)}`).sort());
    expect([...detail.factsOf].sort()).toEqual(['snap#meta-only', 'snap#s-2']);

    // The same change as an earlier version wrote it, lists beside the signals: read the same.
    const { table: earlierTable, changes: earlierChanges } = await setUp();
    await db.send(new PutCommand({ TableName: earlierTable, Item: { ...written[0], accounts: ['snap#meta-only', 'snap#s-1', 'snap#s-2'], identifiers: [...detail.identifiers] } }));
    const earlier = await earlierChanges.detailSince('2030-01-01T00:00:00.000Z');
    expect({ ...earlier, seen: [] }).toEqual({ ...detail, seen: [] });
  });
});

describe('ChangeLog: items the previous run applied', () => {
  const since = '2030-01-01T00:00:00.000Z';
  const storedAccounts = (detail: { stored: Array<{ signals: Array<{ account: string }> }> }) => detail.stored.flatMap((batch) => batch.signals.map((signal) => signal.account));

  it('skips the items the previous run saw when exactly they are there, and reads those after them', async () => {
    const { changes, storeAt } = await setUp();
    await storeAt('2030-01-01T00:00:01.000Z', 'm-1', ['a']);
    await storeAt('2030-01-01T00:00:02.000Z', 'm-2', ['b']);
    const previous = changeLogSeen((await changes.detailSince(since)).seen, since)!;
    expect(previous).toMatchObject({ from: since, through: '2030-01-01T00:00:02.000Z#m-2', count: 2 });
    await storeAt('2030-01-01T00:00:03.000Z', 'm-3', ['c']);

    const detail = await changes.detailSince(since, previous);
    expect(storedAccounts(detail)).toEqual(['c']);
    expect([...detail.accounts]).toEqual(['snap#c']);
    expect([detail.itemsRead, detail.itemsSkipped]).toEqual([1, 2]);
    // What this run saw, skipped or read, is what it records for the next run.
    expect(changeLogSeen(detail.seen, since)).toMatchObject({ through: '2030-01-01T00:00:03.000Z#m-3', count: 3 });
  });

  it('reads and applies the whole window, in key order, when an item landed late inside what the previous run saw', async () => {
    const { changes, storeAt } = await setUp();
    await storeAt('2030-01-01T00:00:01.000Z', 'm-1', ['a']);
    await storeAt('2030-01-01T00:00:03.000Z', 'm-3', ['c']);
    const previous = changeLogSeen((await changes.detailSince(since)).seen, since)!;
    // A writer that took its clock before m-3 was stored, and whose write landed after the run read the log.
    await storeAt('2030-01-01T00:00:02.000Z', 'm-2', ['b']);
    await storeAt('2030-01-01T00:00:04.000Z', 'm-4', ['d']);

    const detail = await changes.detailSince(since, previous);
    expect(storedAccounts(detail)).toEqual(['a', 'b', 'c', 'd']);
    expect([detail.itemsRead, detail.itemsSkipped]).toEqual([4, 0]);
  });

  it('reads the whole window when an item seen then is gone and another landed late: the same count, other items', async () => {
    const { table, changes, storeAt } = await setUp();
    await storeAt('2030-01-01T00:00:01.000Z', 'm-1', ['a']);
    await storeAt('2030-01-01T00:00:03.000Z', 'm-3', ['c']);
    const previous = changeLogSeen((await changes.detailSince(since)).seen, since)!;
    // TTL deletes the item of a message stored past its retention; the shard is not known here, so every one is tried.
    for (let shard = 0; shard < CHANGE_SHARDS; shard++) await db.send(new DeleteCommand({ TableName: table, Key: { pk: `CHANGED#${shard}`, sk: '2030-01-01T00:00:01.000Z#m-1' } }));
    await storeAt('2030-01-01T00:00:02.000Z', 'm-2', ['b']);

    const detail = await changes.detailSince(since, previous);
    expect(storedAccounts(detail)).toEqual(['b', 'c']);
    expect([detail.itemsRead, detail.itemsSkipped]).toEqual([2, 0]);
  });

  it('reads the whole window when the previous run counted from another moment', async () => {
    const { changes, storeAt } = await setUp();
    await storeAt('2030-01-01T00:00:01.000Z', 'm-1', ['a']);
    const previous = changeLogSeen((await changes.detailSince(since)).seen, since)!;

    const detail = await changes.detailSince(since, { ...previous, from: '2029-12-31T23:59:00.000Z' });
    expect(storedAccounts(detail)).toEqual(['a']);
    expect(detail.itemsSkipped).toBe(0);
  });
});
