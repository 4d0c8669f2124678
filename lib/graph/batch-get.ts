/**
 * BatchGetItem over any number of keys: 100 a call, several calls in flight, duplicates folded (the
 * service refuses them in one call), unprocessed keys retried with backoff until every key has been read.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunk } from '../chunk.js';
import { UnavailableError } from '../errors.js';
import { inParallel } from './in-parallel.js';
import { itemKeyString } from './keys.js';

const BATCH_LIMIT = 100;
const MAX_ROUNDS = 8;

/** Every item found under the keys (missing keys are simply absent), in no particular order. */
export async function batchGetAll(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: Array<Record<string, unknown>>,
  options: { projection?: string; names?: Record<string, string>; consistentRead?: boolean } = {},
): Promise<Array<Record<string, any>>> {
  const unique = [...new Map(keys.map((key) => [itemKeyString(key), key])).values()];
  const found: Array<Record<string, any>> = [];
  await inParallel(chunk(unique, BATCH_LIMIT), async (keysOfCall) => {
    let pending = keysOfCall;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) throw new UnavailableError(`DynamoDB left ${pending.length} reads unprocessed after ${MAX_ROUNDS} rounds`);
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round));
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
      pending = (result.UnprocessedKeys?.[tableName]?.Keys as typeof pending | undefined) ?? [];
    }
  });
  return found;
}
