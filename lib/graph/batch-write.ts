/**
 * BatchWriteItem in calls of at most 25 items and about {@link CALL_BYTES}, several in flight, with the
 * unprocessed items retried (with backoff, and calls throttled whole with them: lib/graph/unprocessed.ts)
 * until all are written.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inParallel } from './in-parallel.js';
import { itemKeyString } from './keys.js';
import { packBySize } from '../chunk.js';
import { DEFAULT_RETRY, untilProcessed, type RetryPolicy } from './unprocessed.js';

const BATCH_LIMIT = 25;
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
  /** How calls are retried (tests shorten the waits). */
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<number> {
  const byKey = new Map<string, WriteRequest>();
  for (const request of requests) byKey.set(keyOf(request), request);
  const unique = [...byKey.values()];
  // Calls hold distinct keys, so they may go in parallel.
  await inParallel(callsOf(unique), (requestsOfCall) =>
    untilProcessed(
      requestsOfCall,
      async (pending) => {
        const result = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        return (result.UnprocessedItems?.[tableName] as WriteRequest[] | undefined) ?? [];
      },
      'writes',
      retry,
    ),
  );
  return unique.length;
}
