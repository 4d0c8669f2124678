/**
 * Upgrading a table whose risk ranking was items of its own (partition `RANK`, before the `ranking`
 * index over the reports, RANKING_INDEX in table-schema.ts).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { appendAll } from '../append-all.js';
import { batchWriteAll } from './batch-write.js';
import { inParallel } from './in-parallel.js';
import { clusterPk, RANK_PK, rankPkOf, SK_REPORT } from './keys.js';
import { pages } from './paginate.js';

/**
 * Moves a ranking kept as items of its own (partition `RANK`, before the ranking index) onto the
 * reports, then deletes it. The whole legacy ranking is read first (duplicates of one cluster may lie
 * on different pages). An entry moves onto its cluster's report when the report holds its ranking key;
 * a cluster none of whose entries matches its report (a save cut off after the report, before its new
 * entry) is listed by its newest entry, as the earlier version listed it, with that entry's key and
 * fingerprint (so that the next run that sees it rewrites it whole). A report marked removed, or one
 * this version has written already (it holds `rankPk`), is left alone. Resumable: entries go only once
 * every report holds its move. The runner calls it as a run begins, and each queued task before it
 * reads its clusters. Returns the reports moved onto.
 */
export async function moveLegacyRanking(db: DynamoDBDocumentClient, tableName: string): Promise<number> {
  const legacy = { TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': RANK_PK } };
  const entries: Array<Record<string, any>> = [];
  for await (const page of pages(db, { query: legacy })) appendAll(entries, page.items);
  if (entries.length === 0) return 0;
  const move = async (entry: Record<string, any>, exact: boolean): Promise<boolean> => {
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: clusterPk(String(entry.id)), sk: SK_REPORT },
          UpdateExpression:
            'SET rankPk = :rankPk, rankSk = :rankSk, id = :id, #size = :size, platforms = :platforms, platformCount = :platformCount, risk = :risk, members = :members' +
            (exact ? '' : ', fingerprint = :fingerprint, detectedAt = :detectedAt'),
          ConditionExpression: `${exact ? 'rankSk = :rankSk' : 'attribute_exists(pk)'} AND attribute_not_exists(removedAt) AND attribute_not_exists(rankPk)`,
          ExpressionAttributeNames: { '#size': 'size' },
          ExpressionAttributeValues: {
            ':rankPk': rankPkOf(String(entry.id)),
            ':rankSk': entry.sk,
            ':id': entry.id,
            ':size': entry.size,
            ':platforms': entry.platforms,
            ':platformCount': entry.platformCount,
            ':risk': entry.risk,
            ':members': entry.members,
            ...(exact ? {} : { ':fingerprint': entry.fingerprint, ':detectedAt': entry.detectedAt }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  };
  let moved = 0;
  const matched = new Set<string>();
  await inParallel(entries, async (entry) => {
    if (await move(entry, true)) {
      moved += 1;
      matched.add(String(entry.id));
    }
  });
  // Clusters whose report holds none of their entries' keys: the newest entry, as the earlier version took it.
  const newest = new Map<string, Record<string, any>>();
  for (const entry of entries) {
    const id = String(entry.id);
    if (matched.has(id)) continue;
    const other = newest.get(id);
    if (!other || String(entry.detectedAt) > String(other.detectedAt)) newest.set(id, entry);
  }
  await inParallel([...newest.values()], async (entry) => {
    if (await move(entry, false)) moved += 1;
  });
  await batchWriteAll(db, tableName, entries.map((entry) => ({ DeleteRequest: { Key: { pk: RANK_PK, sk: entry.sk } } })));
  return moved;
}
