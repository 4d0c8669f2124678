/**
 * The change log on a real DynamoDB API (dynalite): which accounts' facts a change may have changed,
 * as the incremental run reads them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeLog } from '../../lib/graph/change-log.js';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { ensureTable, startLocalServers, type LocalServers } from '../../lib/runtime/local/local-servers.js';
import { MessageStore } from '../../lib/ingest/store-message.js';
import { SignalRepository } from '../../lib/graph/signal-repository.js';
import { hashed, OBSERVED_AT } from '../support/factories.js';

let tables = 0;
let home: string;
let servers: LocalServers;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'crosslink-change-log-'));
  servers = await startLocalServers(home);
  db = dynamoDocumentClient({ dynamodb: servers.dynamodbEndpoint });
});
afterAll(async () => {
  await servers?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** A table of its own, with the change log, the consumer (on a clock from `clockAt`, a millisecond a tick) and the repository writing to it. */
async function setUp(clockAt = '2030-01-01T00:00:00.000Z') {
  const table = `change-log-${tables++}`;
  await ensureTable(servers.dynamodbEndpoint, table);
  const changes = new ChangeLog(db, table);
  const signals = new SignalRepository(db, table, changes, 30);
  let now = Date.parse(clockAt);
  const messages = new MessageStore(signals, changes, 30, () => new Date(now++));
  return { table, changes, signals, messages };
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
