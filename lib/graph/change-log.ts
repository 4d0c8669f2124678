/**
 * What changed since a detection run, for incremental runs: the consumer records, per stored message,
 * which accounts and identifiers it touched (sharded so that no partition runs hot), and keeps a
 * registry of distinct photo hashes (so that near matches of a new photo can be found without a scan).
 */
import { createHash } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SignalType } from '../contract/signals.js';
import { batchWriteAll } from './batch-write.js';
import { pages } from './paginate.js';

/** Shards of the change log and of the photo registry. */
export const CHANGE_SHARDS = 8;

const changePk = (shard: number) => `CHANGED#${shard}`;
const photoPk = (shard: number) => `PHOTOS#${shard}`;
const shardOf = (text: string) => createHash('sha256').update(text).digest()[0] % CHANGE_SHARDS;

/** Accounts (`platform#account`) and identifiers (`type#value`) touched since some moment. */
export interface ChangeSet {
  accounts: Set<string>;
  identifiers: Set<string>;
}

export class ChangeLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Records what one stored message touched. Idempotent per message id. */
  async record(entry: { messageId: string; storedAt: string; expiresAtSeconds: number; accounts: string[]; identifiers: Array<{ type: SignalType; value: string }> }): Promise<void> {
    const photos = [...new Set(entry.identifiers.filter((identifier) => identifier.type === 'photo_pdq').map((identifier) => identifier.value))];
    await batchWriteAll(this.db, this.tableName, [
      {
        PutRequest: {
          Item: {
            pk: changePk(shardOf(entry.messageId)),
            sk: `${entry.storedAt}#${entry.messageId}`,
            kind: 'change',
            accounts: [...new Set(entry.accounts)],
            identifiers: [...new Set(entry.identifiers.map((identifier) => `${identifier.type}#${identifier.value}`))],
            expiresAt: entry.expiresAtSeconds,
          },
        },
      },
      ...photos.map((value) => ({ PutRequest: { Item: { pk: photoPk(shardOf(value)), sk: value, kind: 'photo', expiresAt: entry.expiresAtSeconds } } })),
    ]);
  }

  /** Everything recorded at or after `since` (ISO time). */
  async since(since: string): Promise<ChangeSet> {
    const changes: ChangeSet = { accounts: new Set(), identifiers: new Set() };
    for (let shard = 0; shard < CHANGE_SHARDS; shard++) {
      const query = { TableName: this.tableName, KeyConditionExpression: 'pk = :pk AND sk >= :since', ExpressionAttributeValues: { ':pk': changePk(shard), ':since': since } };
      for await (const page of pages(this.db, { query })) {
        for (const item of page.items) {
          for (const account of item.accounts ?? []) changes.accounts.add(account);
          for (const identifier of item.identifiers ?? []) changes.identifiers.add(identifier);
        }
      }
    }
    return changes;
  }

  /** Every distinct photo hash ever stored (and not expired by TTL). */
  async photoHashes(): Promise<string[]> {
    const hashes: string[] = [];
    for (let shard = 0; shard < CHANGE_SHARDS; shard++) {
      const query = { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': photoPk(shard) }, ProjectionExpression: 'sk' };
      for await (const page of pages(this.db, { query })) for (const item of page.items) hashes.push(String(item.sk));
    }
    return hashes;
  }
}
