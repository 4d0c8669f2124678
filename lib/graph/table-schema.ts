/**
 * The table and queue settings that the CDK stack and the local stack must share, stated once so that
 * the local stack is the deployed one in miniature.
 */

/** Primary key attributes (both strings). */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
/** The one global secondary index: signals by account (`gsi1pk` = `ACC#...`). */
export const GSI1 = { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;
/** Epoch seconds after which DynamoDB's TTL may delete an item (readers also skip expired items). */
export const TTL_ATTRIBUTE = 'expiresAt';
/** Receives before a signal message moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
