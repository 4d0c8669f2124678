/**
 * The risk ranking: the sparse index over current clusters' report items (RANKING_INDEX in
 * table-schema.ts), highest risk first.
 *
 * A report goes under one of `RANK_SHARDS` partitions of the index (`rankPkOf` in keys.ts, by a hash of its cluster's id),
 * and readers merge them in ranking-key order. DynamoDB serves one partition of an index at about
 * 1,000 write units a second, and a write to the table waits for its index entries: a single partition
 * key held every report of a run (28,000 at 100k accounts, 278,000 at a million), so that a full run's
 * tasks saving side by side on AWS would be throttled on that one partition, beyond the retries of a
 * save. Reports an earlier version wrote stay under its one partition (`RANK`) until rewritten, so it is
 * read too.
 */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { appendAll } from '../append-all.js';
import { byString } from '../detect/by-string.js';
import { RANKING_PARTITIONS } from './keys.js';
import { pages } from './paginate.js';
import { RANKING_INDEX } from './table-schema.js';

/** A ranking key: the inverted risk in 7 digits, `#` and the cluster id (`rankSk` in keys.ts). */
export const RANK_SK_SHAPE = /^\d{7}#./;

/** Whether a report item is listed in the ranking (its cluster is current): it holds the index's partition key. */
export function isRanked(report: Record<string, any> | undefined): report is Record<string, any> {
  return report?.rankPk !== undefined;
}

/** What a ranking query may say besides the index and its key condition. */
export type RankingQueryParts = Omit<QueryCommandInput, 'TableName' | 'IndexName' | 'KeyConditionExpression'>;

/** A query of one partition of the ranking index, optionally of the entries after a ranking key only. */
export function rankingQuery(tableName: string, partition: string, parts: RankingQueryParts, after?: string): QueryCommandInput {
  const { ExpressionAttributeValues, ...query } = parts;
  return {
    ...query,
    TableName: tableName,
    IndexName: RANKING_INDEX.name,
    KeyConditionExpression: after === undefined ? 'rankPk = :rankPk' : 'rankPk = :rankPk AND rankSk > :after',
    ExpressionAttributeValues: { ':rankPk': partition, ...(after === undefined ? {} : { ':after': after }), ...ExpressionAttributeValues },
  };
}

type Entry = Record<string, any>;

/** Every entry of the ranking the query gives, highest risk first: each partition read whole, side by side. */
export async function wholeRanking(db: DynamoDBDocumentClient, tableName: string, parts: RankingQueryParts): Promise<Entry[]> {
  const found = await Promise.all(
    RANKING_PARTITIONS.map(async (partition) => {
      const items: Entry[] = [];
      for await (const page of pages(db, { query: rankingQuery(tableName, partition, parts) })) appendAll(items, page.items);
      return items;
    }),
  );
  const all: Entry[] = [];
  for (const items of found) appendAll(all, items);
  return all.sort((x, y) => byString(x.rankSk, y.rankSk));
}

/** How many entries of the ranking the query counts (`Select: 'COUNT'`), over every partition. */
export async function rankingCount(db: DynamoDBDocumentClient, tableName: string, parts: RankingQueryParts): Promise<number> {
  const counts = await Promise.all(
    RANKING_PARTITIONS.map(async (partition) => {
      let count = 0;
      for await (const page of pages(db, { query: rankingQuery(tableName, partition, { ...parts, Select: 'COUNT' }) })) count += page.count;
      return count;
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

/**
 * The entries of the ranking after the ranking key `after` (from the top when unset), highest risk
 * first, as long as the caller takes them: every partition is read a page of `pageLimit` at a time
 * (DynamoDB's limit: entries read, before the query's filter), and the pages are merged on their keys.
 *
 * @example
 * for await (const entry of rankingFrom(db, table, { ProjectionExpression: 'rankSk, id' }, cursorKey, 51)) { ... }
 */
export async function* rankingFrom(db: DynamoDBDocumentClient, tableName: string, parts: RankingQueryParts, after: string | undefined, pageLimit: number): AsyncGenerator<Entry> {
  const partitions = RANKING_PARTITIONS.map((partition) => ({ partition, items: [] as Entry[], at: 0, resumeAt: undefined as Record<string, unknown> | undefined, done: false }));
  type Partition = (typeof partitions)[number];
  const readPage = async (read: Partition) => {
    const page = await db.send(new QueryCommand({ ...rankingQuery(tableName, read.partition, { ...parts, Limit: pageLimit }, after), ExclusiveStartKey: read.resumeAt }));
    read.items = (page.Items ?? []) as Entry[];
    read.at = 0;
    read.resumeAt = page.LastEvaluatedKey;
    read.done = !read.resumeAt;
  };
  for (;;) {
    // A partition whose page is used up (or filtered empty) is read on before any entry is given: its
    // next entry may rank above every other partition's.
    const drained = partitions.filter((read) => read.at === read.items.length && !read.done);
    if (drained.length > 0) {
      await Promise.all(drained.map(readPage));
      continue;
    }
    let next: Partition | undefined;
    for (const read of partitions) if (read.at < read.items.length && (!next || read.items[read.at].rankSk < next.items[next.at].rankSk)) next = read;
    if (!next) return;
    yield next.items[next.at++];
  }
}
