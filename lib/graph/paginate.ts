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

/**
 * Segments a whole-table scan is read in side by side (DynamoDB's parallel scan): one sequential scan of a
 * large table is bound by one partition's pace and one call at a time.
 */
export const SCAN_SEGMENTS = 8;

/**
 * Each page of a scan read as {@link SCAN_SEGMENTS} segments side by side, handed to `onPage` with its
 * segment's number as it comes (a segment's pages in order); resolves once every segment is read.
 */
export async function scanInSegments(
  db: DynamoDBDocumentClient,
  scan: ScanCommandInput,
  onPage: (page: { items: Item[]; count: number }, segment: number) => Promise<void> | void,
  segments: number = SCAN_SEGMENTS,
): Promise<void> {
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      for await (const page of pages(db, { scan: { ...scan, Segment: segment, TotalSegments: segments } })) await onPage(page, segment);
    }),
  );
}
