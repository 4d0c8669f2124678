/**
 * `batchWriteAll` and `batchGetAll` on a real DynamoDB API (dynalite) with throttling injected in front of it: DynamoDB
 * answers a call over a partition's or a new on-demand table's write rate by throttling it whole (after
 * the SDK's own retries), which a save must wait out rather than fail on; anything else still fails at once.
 */
import { ProvisionedThroughputExceededException, ResourceNotFoundException, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchGetAll } from '../../lib/graph/batch-get.js';
import { batchWriteAll } from '../../lib/graph/batch-write.js';
import { DEFAULT_RETRY } from '../../lib/graph/unprocessed.js';
import { UnavailableError } from '../../lib/errors.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

const TABLE = 'crosslink';
let local: LocalDynamo;
/** What the next BatchWriteItem and BatchGetItem calls meet: each entry an error thrown instead of the call; empty: the call goes through. */
let refusals: Error[] = [];
let calls = 0;

beforeAll(async () => {
  local = await startLocalDynamo('batch-write-throttling');
  await local.ensureTable();
  local.db.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'BatchWriteItemCommand' || context.commandName === 'BatchGetItemCommand') {
        calls += 1;
        const refusal = refusals.shift();
        if (refusal) throw refusal;
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectThrottling' },
  );
});
afterAll(async () => local?.stop());

const items = (pk: string, count: number) => Array.from({ length: count }, (_, n) => ({ PutRequest: { Item: { pk, sk: `item-${String(n).padStart(4, '0')}`, n } } }));
const stored = async (pk: string) =>
  (await local.db.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }))).Items ?? [];
/** The default policy with waits of 1 ms. */
const FAST = { ...DEFAULT_RETRY, waitMs: () => 1 };
const throttled = () => new ProvisionedThroughputExceededException({ message: 'injected: the partition is over its write rate', $metadata: {} });

describe('Functions: batchWriteAll and batchGetAll under throttling', () => {
  it('writes every item once when calls are throttled whole, waiting them out', async () => {
    calls = 0;
    // 300 items go in 12 calls; 7 refusals in a row (two kinds DynamoDB sends) land on the first calls.
    refusals = [throttled(), new ThrottlingException({ message: 'injected: rate exceeded', $metadata: {} }), throttled(), throttled(), throttled(), throttled(), throttled()];
    const written = await batchWriteAll(local.db, TABLE, items('THROTTLED', 300), FAST);
    expect(written).toBe(300);
    expect(refusals).toHaveLength(0);
    expect(calls).toBe(12 + 7);
    const rows = await stored('THROTTLED');
    expect(rows.map((row) => row.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, n) => n));
  });

  it('gives up with an error that says the table is over its write rate when the throttling does not stop', async () => {
    calls = 0;
    refusals = Array.from({ length: 100 }, throttled);
    const failure = batchWriteAll(local.db, TABLE, items('NEVER', 10), FAST);
    await expect(failure).rejects.toThrow(UnavailableError);
    await expect(failure).rejects.toThrow(/left 10 writes unprocessed after 12 calls in 0 s \(12 of them throttled whole\): the table or an index is over its rate; try again later/);
    expect(calls).toBe(12);
    expect(await stored('NEVER')).toHaveLength(0);
    refusals = [];
  });

  it('gives up once its time is spent, however many calls it may still make', async () => {
    calls = 0;
    refusals = Array.from({ length: 100 }, throttled);
    const started = Date.now();
    await expect(batchWriteAll(local.db, TABLE, items('SLOW', 10), { waitMs: () => 40, maxCalls: 100, budgetMs: 150 })).rejects.toThrow(/left 10 writes unprocessed after \d calls/);
    // Calls at 0, 40, 80 and 120 ms; a fifth would start past 150 ms.
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(4);
    expect(Date.now() - started).toBeLessThan(1_000);
    refusals = [];
  });

  it('reads every item once when calls are throttled whole', async () => {
    await batchWriteAll(local.db, TABLE, items('READ', 150), FAST);
    calls = 0;
    // 150 keys go in 2 calls; 3 refusals land on them.
    refusals = [throttled(), throttled(), throttled()];
    const keys = items('READ', 150).map(({ PutRequest: { Item } }) => ({ pk: Item.pk, sk: Item.sk }));
    const found = await batchGetAll(local.db, TABLE, keys, { retry: FAST });
    expect(refusals).toHaveLength(0);
    expect(calls).toBe(2 + 3);
    expect(found.map((row) => row.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, n) => n));
  });

  it('fails at once on an error that is not throttling', async () => {
    calls = 0;
    refusals = [new ResourceNotFoundException({ message: 'injected: no such table', $metadata: {} })];
    await expect(batchWriteAll(local.db, TABLE, items('REFUSED', 5), FAST)).rejects.toThrow(/injected: no such table/);
    expect(calls).toBe(1);
  });

  it('waits between retries from about 50 ms, doubling, up to 4 s, with jitter of up to half', () => {
    const waits = (round: number) => Array.from({ length: 200 }, () => DEFAULT_RETRY.waitMs(round));
    const within = (round: number, low: number, high: number) => {
      for (const wait of waits(round)) {
        expect(wait).toBeGreaterThanOrEqual(low);
        expect(wait).toBeLessThanOrEqual(high);
      }
    };
    within(1, 25, 50);
    within(2, 50, 100);
    within(7, 1_600, 3_200);
    within(8, 2_000, 4_000);
    within(12, 2_000, 4_000);
    // Jittered: throttled calls do not all come back at the same instant.
    expect(new Set(waits(5)).size).toBeGreaterThan(100);
  });
});
