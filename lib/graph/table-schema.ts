/**
 * The table and queue settings that the CDK stack and the local stack must share, stated once so that
 * the local stack is the deployed one in miniature.
 */

/** Primary key attributes (both strings). */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** The one global secondary index: signals by account (`gsi1pk` = `ACC#...`). */
export const GSI1 = { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;
/**
 * The risk ranking: the report items of the current clusters, highest risk first. Sparse: a report
 * holds `rankPk` only while its cluster is current, so a dissolved cluster leaves the ranking when its
 * report is put back without it, and a cluster can never be listed twice. The index carries what the
 * queue and the next run read of a cluster; the report's body stays in the table.
 */
export const RANKING_INDEX = {
  name: 'ranking',
  partitionKey: 'rankPk',
  sortKey: 'rankSk',
  attributes: ['id', 'size', 'platforms', 'platformCount', 'risk', 'members', 'fingerprint', 'detectedAt'],
} as const;
/** Epoch seconds after which DynamoDB's TTL may delete an item (readers also skip expired items). */
export const TTL_ATTRIBUTE = 'expiresAt';
/** Receives before a signal message moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
