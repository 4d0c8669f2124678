/**
 * A withdrawal racing with account records of the same account still in the queue: a record received
 * before the withdrawal and stored after it must not bring the withdrawn account's metadata back, and one
 * received after it (the platform sent the account again) must be stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeLog } from '../../lib/graph/change-log.js';
import { MemberFactsReader } from '../../lib/graph/member-facts.js';
import { SignalRepository } from '../../lib/graph/signal-repository.js';
import { MessageStore } from '../../lib/ingest/store-message.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

let local: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  local = await startLocalDynamo('withdrawal-account-records');
});
afterAll(async () => local?.stop());

async function setUp() {
  const table = `withdrawal-${tables++}`;
  await local.ensureTable(table);
  const changes = new ChangeLog(local.db, table);
  const signals = new SignalRepository(local.db, table, changes, 30);
  return { signals, messages: new MessageStore(signals, changes, 30), members: new MemberFactsReader(local.db, table) };
}

/** When the records received after the withdrawal were received; they expire 30 days (the retention) later. */
const RECEIVED_AFTER_S = Date.parse('2030-01-01T00:15:00.000Z') / 1000;
const accountRecord = (requestId: string, receivedAt: string, account: string, minorContacts7d: number) =>
  JSON.stringify({ v: 1, platform: 'snap', requestId, receivedAt, signals: [], accounts: [{ account, minorContacts7d, reports30d: 2 }] });

describe('Withdrawal: account records of the account still in the queue', () => {
  it('does not bring back the metadata of a withdrawn account when a record received before the withdrawal is stored after it', async () => {
    const { signals, messages, members } = await setUp();
    await signals.withdrawAccount('snap', 'gone-1', '2030-01-01T00:10:00.000Z');

    await messages.store(accountRecord('before:0', '2030-01-01T00:05:00.000Z', 'gone-1', 4));

    expect(await signals.factsOf(['snap#gone-1'])).toEqual(new Map());
    expect(await members.facts([{ platform: 'snap', account: 'gone-1' }])).toEqual([{ platform: 'snap', account: 'gone-1', createdAt: null, minorContacts7d: null, reports30d: null }]);
  });

  it('deletes the metadata stored before the withdrawal', async () => {
    const { signals, messages } = await setUp();
    await messages.store(accountRecord('before:0', '2030-01-01T00:05:00.000Z', 'gone-2', 4));

    await signals.withdrawAccount('snap', 'gone-2', '2030-01-01T00:10:00.000Z');

    expect(await signals.factsOf(['snap#gone-2'])).toEqual(new Map());
  });

  it('stores a record received after the withdrawal (the platform sent the account again)', async () => {
    const { signals, messages } = await setUp();
    await signals.withdrawAccount('snap', 'back-1', '2030-01-01T00:10:00.000Z');

    await messages.store(accountRecord('after:0', '2030-01-01T00:15:00.000Z', 'back-1', 7));

    expect((await signals.factsOf(['snap#back-1'])).get('snap#back-1')).toEqual({ createdAtMs: undefined, minorContacts7d: 7, reports30d: 2, expiresAtS: RECEIVED_AFTER_S + 30 * 86_400 });
  });

  it('keeps a record received after the withdrawal that was stored before the withdrawal finished', async () => {
    const { signals, messages } = await setUp();
    await messages.store(accountRecord('after:0', '2030-01-01T00:15:00.000Z', 'back-2', 7));

    await signals.withdrawAccount('snap', 'back-2', '2030-01-01T00:10:00.000Z');

    expect((await signals.factsOf(['snap#back-2'])).get('snap#back-2')).toEqual({ createdAtMs: undefined, minorContacts7d: 7, reports30d: 2, expiresAtS: RECEIVED_AFTER_S + 30 * 86_400 });
  });
});
