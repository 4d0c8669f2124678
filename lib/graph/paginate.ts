/** Walks every page of a DynamoDB Query or Scan, so that no caller writes the LastEvaluatedKey loop again. */
import { QueryCommand, ScanCommand, type DynamoDBDocumentClient, type QueryCommandInput, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { appendAll } from '../append-all.js';

type Item = Record<string, any>;

/** Each page of a query or scan: its items and (for `Select: COUNT`) its count. */
export async function* pages(
  db: DynamoDBDocumentClient,
  request: { query: QueryCommandInput } | { scan: ScanCommandInput },
  /** Where to start (a `LastEvaluatedKey` from before); the beginning when unset. */
  from?: Record<string, unknown>,
): AsyncGenerator<{ items: Item[]; count: number }> {
  let startKey = from;
  do {
    const page =
      'query' in request
        ? await db.send(new QueryCommand({ ...request.query, ExclusiveStartKey: startKey }))
        : await db.send(new ScanCommand({ ...request.scan, ExclusiveStartKey: startKey }));
    yield { items: (page.Items ?? []) as Item[], count: page.Count ?? 0 };
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Every item of a query or scan. */
export async function allItems(db: DynamoDBDocumentClient, request: { query: QueryCommandInput } | { scan: ScanCommandInput }): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of pages(db, request)) appendAll(items, page.items);
  return items;
}
