/**
 * BatchGetItem over any number of keys: 100 a call, several calls in flight, duplicates folded (the
 * service refuses them in one call), unprocessed keys (and calls throttled whole) retried with backoff until
 * every key has been read (lib/graph/unprocessed.ts).
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunk } from '../chunk.js';
import { inParallel } from './in-parallel.js';
import { itemKeyString } from './keys.js';
import { untilProcessed, type RetryPolicy } from './unprocessed.js';

const BATCH_LIMIT = 100;

/** Every item found under the keys (missing keys are simply absent), in no particular order. */
export async function batchGetAll(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: Array<Record<string, unknown>>,
  /** `retry`: how calls are retried (tests shorten the waits). */
  options: { projection?: string; names?: Record<string, string>; consistentRead?: boolean; retry?: RetryPolicy } = {},
): Promise<Array<Record<string, any>>> {
  const unique = [...new Map(keys.map((key) => [itemKeyString(key), key])).values()];
  const found: Array<Record<string, any>> = [];
  await inParallel(chunk(unique, BATCH_LIMIT), (keysOfCall) =>
    untilProcessed(
      keysOfCall,
      async (pending) => {
        const result = await db.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: {
                Keys: pending,
                ...(options.projection ? { ProjectionExpression: options.projection } : {}),
                ...(options.names ? { ExpressionAttributeNames: options.names } : {}),
                ...(options.consistentRead ? { ConsistentRead: true } : {}),
              },
            },
          }),
        );
        found.push(...(result.Responses?.[tableName] ?? []));
        return (result.UnprocessedKeys?.[tableName]?.Keys as typeof pending | undefined) ?? [];
      },
      'reads',
      options.retry,
    ),
  );
  return found;
}
