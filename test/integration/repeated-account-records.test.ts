/**
 * One request that carries two records of one account (or one signal twice): what is stored must be the
 * later item of the request, whatever order the consumer stores the request's messages in (SQS does not
 * keep their order, and a message that failed once is stored after the others).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestMessage } from '../../lib/contract/signals.js';
import { ChangeLog } from '../../lib/graph/change-log.js';
import { SignalRepository } from '../../lib/graph/signal-repository.js';
import { IngestService, SIGNALS_PER_MESSAGE } from '../../lib/ingest/ingest-service.js';
import { MessageStore } from '../../lib/ingest/store-message.js';
import { aSignal, hashed } from '../support/factories.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

let local: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  local = await startLocalDynamo('repeated-account-records');
});
afterAll(async () => local?.stop());

/** Submits `body` as platform snap, then stores the request's messages last first. */
async function submitAndStoreInReverse(body: unknown) {
  const table = `repeated-${tables++}`;
  await local.ensureTable(table);
  const changes = new ChangeLog(local.db, table);
  const signals = new SignalRepository(local.db, table, changes, 30);
  const enqueued: IngestMessage[] = [];
  const queue = { enqueue: async (messages: IngestMessage[]) => void enqueued.push(...messages), depth: async () => ({ waiting: 0, inFlight: 0, deadLetter: 0 }) };
  const answer = await new IngestService(queue, { addAccepted: async () => {}, retiredKeyIds: async () => new Map() }).submit('snap', JSON.stringify(body));
  const store = new MessageStore(signals, changes, 30);
  for (const message of enqueued.reverse()) await store.store(JSON.stringify(message));
  return { answer, signals };
}

const filler = (n: number) => Array.from({ length: n }, (_, i) => ({ account: `filler-${i}`, reports30d: 0 }));

describe('A request that names one account twice', () => {
  it('stores the later of two account records of one account, though they went in different messages', async () => {
    const accounts = [{ account: 'twice', minorContacts7d: 1 }, ...filler(SIGNALS_PER_MESSAGE), { account: 'twice', minorContacts7d: 9 }];

    const { answer, signals } = await submitAndStoreInReverse({ signals: [], accounts });

    expect(answer.accountsAccepted).toBe(accounts.length);
    expect((await signals.factsOf(['snap#twice'])).get('snap#twice')?.minorContacts7d).toBe(9);
  });

  it('stores the later observation of one signal sent twice, though they went in different messages', async () => {
    const value = hashed('twice-phone');
    const signalsSent = [
      aSignal({ account: 'seen-twice', type: 'phone', value, observedAt: '2026-11-01T10:00:00Z' }),
      ...Array.from({ length: SIGNALS_PER_MESSAGE }, (_, i) => aSignal({ account: `filler-${i}`, value: hashed(`filler-${i}`) })),
      aSignal({ account: 'seen-twice', type: 'phone', value, observedAt: '2026-11-02T10:00:00Z' }),
    ];

    const { answer, signals } = await submitAndStoreInReverse({ signals: signalsSent });

    expect(answer.accepted).toBe(signalsSent.length);
    const held = (await signals.readAccounts(['snap#seen-twice'])).get('snap#seen-twice')!;
    expect(held.memberships.map((m) => new Date(m.observedAtMs).toISOString())).toEqual(['2026-11-02T10:00:00.000Z']);
  });
});
