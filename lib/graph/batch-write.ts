/**
 * BatchWriteItem in chunks of 25, several in flight, with the unprocessed items retried (with backoff)
 * until all are written.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunk } from '../chunk.js';
import { UnavailableError } from '../errors.js';
import { inParallel } from './in-parallel.js';

const BATCH_LIMIT = 25;
const MAX_ROUNDS = 8;

type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

function keyOf(request: WriteRequest): string {
  const item = 'PutRequest' in request ? request.PutRequest.Item : request.DeleteRequest.Key;
  return `${item.pk}\u0000${item.sk}`;
}

/**
 * Writes every request; a later request for the same key wins (BatchWriteItem refuses duplicate keys
 * in one call, so they are folded first).
 */
export async function batchWriteAll(db: DynamoDBDocumentClient, tableName: string, requests: WriteRequest[]): Promise<void> {
  const byKey = new Map<string, WriteRequest>();
  for (const request of requests) byKey.set(keyOf(request), request);
  const unique = [...byKey.values()];
  // Chunks hold distinct keys, so they may go in parallel.
  await inParallel(chunk(unique, BATCH_LIMIT), async (requestsOfCall) => {
    let pending = requestsOfCall;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) throw new UnavailableError(`DynamoDB left ${pending.length} writes unprocessed after ${MAX_ROUNDS} rounds`);
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round));
      const result = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (result.UnprocessedItems?.[tableName] as WriteRequest[] | undefined) ?? [];
    }
  });
}
