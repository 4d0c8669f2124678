/**
 * What changed since a detection run, for incremental runs: the consumer records, per stored message,
 * which accounts and identifiers it touched (sharded so that no partition runs hot), and keeps a
 * registry of distinct photo hashes (so that near matches of a new photo can be found without a scan).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SignalType } from '../contract/signals.js';
import type { StoredSignals } from '../runs/run-graph.js';
import { batchWriteAll } from './batch-write.js';
import { allItems, pages } from './paginate.js';

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

/** A change set with the stored signals themselves, for a run that applies them to the previous run's graph. */
export interface ChangeDetail extends ChangeSet {
  /** Signals stored, in the order they were stored. */
  stored: StoredSignals[];
  /** Accounts touched by changes that carry no signals (deletions, withdrawals): read them afresh. */
  reread: Set<string>;
  /** Accounts whose facts (account metadata) the changes may have changed: read their facts afresh. */
  factsOf: Set<string>;
}

export class ChangeLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Records what one stored message touched, and the signals it stored (gzipped) when it stored some;
   * a change without them (a deletion) names accounts to read afresh. `factsOf` names the accounts
   * whose facts the change may have changed (a message's account records; a deletion's accounts), so
   * that a run reads only those facts afresh. Idempotent per message id.
   */
  async record(entry: {
    messageId: string;
    storedAt: string;
    expiresAtSeconds: number;
    accounts: string[];
    identifiers: Array<{ type: SignalType; value: string }>;
    factsOf: string[];
    stored?: StoredSignals;
  }): Promise<void> {
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
            factsOf: [...new Set(entry.factsOf)],
            ...(entry.stored ? { stored: gzipSync(JSON.stringify(entry.stored)) } : {}),
            expiresAt: entry.expiresAtSeconds,
          },
        },
      },
      ...photos.map((value) => ({ PutRequest: { Item: { pk: photoPk(shardOf(value)), sk: value, kind: 'photo', expiresAt: entry.expiresAtSeconds } } })),
    ]);
  }

  /** Everything recorded at or after `since` (ISO time), with the signals stored (in the order they were stored). */
  async detailSince(since: string): Promise<ChangeDetail> {
    const changes: ChangeDetail = { accounts: new Set(), identifiers: new Set(), stored: [], reread: new Set(), factsOf: new Set() };
    const entries: Array<{ sk: string; stored: StoredSignals }> = [];
    // The shards are read side by side, then taken in shard order (so the sets' order does not depend on timing).
    const shards = await Promise.all(
      Array.from({ length: CHANGE_SHARDS }, (_, shard) =>
        allItems(this.db, { query: { TableName: this.tableName, KeyConditionExpression: 'pk = :pk AND sk >= :since', ExpressionAttributeValues: { ':pk': changePk(shard), ':since': since } } }),
      ),
    );
    for (const items of shards) {
      for (const item of items) {
        for (const account of item.accounts ?? []) changes.accounts.add(account);
        for (const identifier of item.identifiers ?? []) changes.identifiers.add(identifier);
        // An item written before items listed `factsOf` counts all its accounts (conservative: it may hold account records).
        for (const account of item.factsOf ?? item.accounts ?? []) changes.factsOf.add(account);
        if (item.stored) entries.push({ sk: String(item.sk), stored: JSON.parse(gunzipSync(item.stored as Uint8Array).toString('utf8')) });
        else for (const account of item.accounts ?? []) changes.reread.add(account);
      }
    }
    changes.stored = entries.sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0)).map((entry) => entry.stored);
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
