/**
 * BatchWriteItem in calls of at most 25 items and about {@link CALL_BYTES}, several in flight, with the
 * unprocessed items retried (with backoff) until all are written. A call DynamoDB throttled whole (its
 * SDK retries spent) is retried the same way: a partition over its write rate, or a new on-demand table
 * below the rate a run's first save asks of it, slows a save down rather than failing it.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { UnavailableError } from '../errors.js';
import { inParallel } from './in-parallel.js';
import { itemKeyString } from './keys.js';
import { packBySize } from '../chunk.js';

const BATCH_LIMIT = 25;
/** Calls per batch before giving up: 11-22 s of waiting between them in all (under a consumer's 60 s, a task's 5 minutes). */
const MAX_ROUNDS = 12;
/** The wait before retry `round` (1, 2, ...): doubling from 50 ms up to 4 s, each between half and all of it (jitter, so that throttled calls do not come back together). */
export function retryWaitMs(round: number): number {
  return Math.min(4_000, 25 * 2 ** round) * (0.5 + Math.random() / 2);
}

/** DynamoDB's answers that a call was throttled (the SDK marks them too), as opposed to refused. */
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);
function isThrottled(error: unknown): boolean {
  const { name, $retryable } = (error ?? {}) as { name?: string; $retryable?: { throttling?: boolean } };
  return THROTTLED.has(name ?? '') || $retryable?.throttling === true;
}
/**
 * Bytes one call carries at most (an item larger than this goes alone). Large items (a run's graph or
 * tasks, in parts of 350 KB) go a few per call rather than 25: the same 9 MB took 2.3 s in calls of 25
 * parts and 0.4 s in calls of 4 on the local DynamoDB server, and a smaller call resends less on retry.
 */
export const CALL_BYTES = 1_500_000;

export type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

/** About how many bytes an item or key takes on the wire (binary and string lengths, names included). */
export function approximateBytes(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum: number, element) => sum + approximateBytes(element), 0);
  if (value !== null && typeof value === 'object') return Object.entries(value).reduce((sum, [name, element]) => sum + name.length + approximateBytes(element), 0);
  return 8;
}

/** Requests cut into calls of at most {@link BATCH_LIMIT} items and about {@link CALL_BYTES}, in order. */
export function callsOf<T extends WriteRequest>(requests: readonly T[]): T[][] {
  return packBySize(requests, (request) => approximateBytes('PutRequest' in request ? request.PutRequest.Item : request.DeleteRequest.Key), BATCH_LIMIT, CALL_BYTES);
}

function keyOf(request: WriteRequest): string {
  return itemKeyString('PutRequest' in request ? request.PutRequest.Item : request.DeleteRequest.Key);
}

/**
 * Writes every request; a later request for the same key wins (BatchWriteItem refuses duplicate keys
 * in one call, so they are folded first). Returns how many items were written or deleted (after folding).
 */
export async function batchWriteAll(
  db: DynamoDBDocumentClient,
  tableName: string,
  requests: WriteRequest[],
  /** The wait before each retry (tests shorten it). */
  waitMs: (round: number) => number = retryWaitMs,
): Promise<number> {
  const byKey = new Map<string, WriteRequest>();
  for (const request of requests) byKey.set(keyOf(request), request);
  const unique = [...byKey.values()];
  // Calls hold distinct keys, so they may go in parallel.
  await inParallel(callsOf(unique), async (requestsOfCall) => {
    let pending = requestsOfCall;
    let throttled = 0;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) {
        throw new UnavailableError(`DynamoDB left ${pending.length} writes unprocessed after ${MAX_ROUNDS} calls (${throttled} of them throttled whole): the table or an index is over its write rate; the work is retried later`);
      }
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, waitMs(round)));
      try {
        const result = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        pending = (result.UnprocessedItems?.[tableName] as WriteRequest[] | undefined) ?? [];
      } catch (error) {
        if (!isThrottled(error)) throw error;
        throttled += 1;
      }
    }
  });
  return unique.length;
}
