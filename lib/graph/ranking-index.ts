/**
 * Reading the risk ranking: the sparse index over current clusters' report items (RANKING_INDEX in
 * table-schema.ts), highest risk first.
 */
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { clusterPk, RANK_PK, SK_REPORT } from './keys.js';
import { RANKING_INDEX } from './table-schema.js';

/** A ranking key: the inverted risk in 7 digits, `#` and the cluster id (`rankSk` in keys.ts). */
export const RANK_SK_SHAPE = /^\d{7}#./;

/** Whether a report item is listed in the ranking (its cluster is current): it holds the index's partition key. */
export function isRanked(report: Record<string, any> | undefined): report is Record<string, any> {
  return report?.rankPk !== undefined;
}

/** The index's whole key of the entry at `rankSk`, where a query resumes after it (the index's keys and the table's). */
export function rankingKey(rankSk: string): Record<string, string> {
  return { rankPk: RANK_PK, rankSk, pk: clusterPk(rankSk.slice(rankSk.indexOf('#') + 1)), sk: SK_REPORT };
}

/** What a ranking query may say besides the index and its key condition. */
export type RankingQueryParts = Omit<QueryCommandInput, 'TableName' | 'IndexName' | 'KeyConditionExpression'> & {
  /** Only entries whose ranking key lies between these (inclusive). */
  range?: { low: string; high: string };
};

/** A query of the ranking index, optionally over a range of ranking keys. */
export function rankingQuery(tableName: string, parts: RankingQueryParts): QueryCommandInput {
  const { range, ExpressionAttributeValues, ...query } = parts;
  return {
    ...query,
    TableName: tableName,
    IndexName: RANKING_INDEX.name,
    KeyConditionExpression: range ? 'rankPk = :rankPk AND rankSk BETWEEN :low AND :high' : 'rankPk = :rankPk',
    ExpressionAttributeValues: { ':rankPk': RANK_PK, ...(range ? { ':low': range.low, ':high': range.high } : {}), ...ExpressionAttributeValues },
  };
}
