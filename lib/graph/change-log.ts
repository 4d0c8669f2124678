/**
 * What changed since a detection run, for incremental runs: the consumer records, per stored message,
 * which accounts and identifiers it touched (sharded so that no partition runs hot), and keeps a
 * registry of distinct photo hashes (so that near matches of a new photo can be found without a scan).
 * A run records which items it saw ({@link ChangeLogSeen}), so that the next one skips those it finds
 * again unchanged.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { byString } from '../detect/by-string.js';
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

/**
 * What a run saw of the change log from `from` (its own start less the log's margin) on, recorded on
 * the run for the next one, whose window starts at `from`: the highest key it saw (read or skipped),
 * and how many items it saw from `from` to there and a digest of their keys.
 */
export interface ChangeLogSeen {
  from: string;
  through: string;
  count: number;
  /** sha256 of the keys counted, sorted: the same number of items could be other items (see detailSince). */
  digest: string;
}

/** A change set with the stored signals themselves, for a run that applies them to the previous run's graph. */
export interface ChangeDetail extends ChangeSet {
  /** Signals stored, in the order they were stored. */
  stored: StoredSignals[];
  /** Accounts touched by changes that carry no signals (deletions, withdrawals): read them afresh. */
  reread: Set<string>;
  /** Accounts whose facts (account metadata) the changes may have changed: read their facts afresh. */
  factsOf: Set<string>;
  /** The key of every item seen: read, or skipped as applied already. */
  seen: string[];
  /** Items read (what the sets above and `stored` hold). */
  itemsRead: number;
  /** Items skipped: the previous run saw and applied them. */
  itemsSkipped: number;
}

const keysDigest = (keys: readonly string[]) => createHash('sha256').update(JSON.stringify([...keys].sort())).digest('hex');

/**
 * What a run records of the change-log items it saw (`seen`, their keys) for the next run, counted
 * from `from`; undefined when it saw none there (the next run has nothing to skip).
 *
 * @example
 * changeLogSeen(['2026-11-20T10:00:00.000Z#m1', '2026-11-20T10:04:00.000Z#m2'], '2026-11-20T10:02:00.000Z')
 * // -> { from: '2026-11-20T10:02:00.000Z', through: '2026-11-20T10:04:00.000Z#m2', count: 1, digest: '…' }
 */
export function changeLogSeen(seen: readonly string[], from: string): ChangeLogSeen | undefined {
  const counted = seen.filter((sk) => sk >= from).sort();
  if (counted.length === 0) return undefined;
  return { from, through: counted[counted.length - 1], count: counted.length, digest: keysDigest(counted) };
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
   * that a run reads only those facts afresh. A change with signals does not list its accounts and
   * identifiers besides: they are the signals' and `factsOf`'s (`accounts` must hold no others), and
   * listing them again doubled what each run reads of the log. Idempotent per message id.
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
            ...(entry.stored
              ? { stored: gzipSync(JSON.stringify(entry.stored)) }
              : { accounts: [...new Set(entry.accounts)], identifiers: [...new Set(entry.identifiers.map((identifier) => `${identifier.type}#${identifier.value}`))] }),
            factsOf: [...new Set(entry.factsOf)],
            expiresAt: entry.expiresAtSeconds,
          },
        },
      },
      ...photos.map((value) => ({ PutRequest: { Item: { pk: photoPk(shardOf(value)), sk: value, kind: 'photo', expiresAt: entry.expiresAtSeconds } } })),
    ]);
  }

  /**
   * Everything recorded at or after `since` (ISO time), with the signals stored (in the order they were
   * stored), except what `applied` says the previous run saw and applied already.
   *
   * `applied` is what the previous run recorded ({@link changeLogSeen}) from `since` on. Its items up to
   * `through` are read by key only (no signals to transfer and gunzip, though DynamoDB still charges
   * their size) beside the items after `through` (in full). When exactly
   * those items are there (same count, same keys' digest), they are skipped: the previous run applied
   * them, and its graph is the one this run starts from. Otherwise an item landed in that range after
   * the previous run read it, and its write may be older than one applied already: the whole window is
   * read and applied again, in key order, as without a record. The digest, not the count alone, makes
   * the test exact even when an item seen then is gone now (TTL deletes the log item of a message
   * stored past its retention) or a read misses an item a former read saw (eventual consistency).
   */
  async detailSince(since: string, applied?: ChangeLogSeen): Promise<ChangeDetail> {
    if (applied === undefined || applied.from !== since || applied.through < since) return detailOf(await this.shards('sk >= :since', { ':since': since }), []);
    const range = { ':since': since, ':through': applied.through };
    const [known, newer] = await Promise.all([this.shards('sk BETWEEN :since AND :through', range, 'sk'), this.shards('sk > :through', { ':through': applied.through })]);
    const knownKeys = known.flat().map((item) => String(item.sk));
    if (knownKeys.length === applied.count && keysDigest(knownKeys) === applied.digest) return detailOf(newer, knownKeys);
    const window = await this.shards('sk BETWEEN :since AND :through', range);
    return detailOf(
      window.map((items, shard) => [...items, ...newer[shard]]),
      [],
    );
  }

  /** The items of every shard whose keys meet `condition`, read side by side; all attributes, or only `projection`. */
  private shards(condition: string, values: Record<string, string>, projection?: string): Promise<Array<Array<Record<string, any>>>> {
    return Promise.all(
      Array.from({ length: CHANGE_SHARDS }, (_, shard) =>
        allItems(this.db, {
          query: {
            TableName: this.tableName,
            KeyConditionExpression: `pk = :pk AND ${condition}`,
            ExpressionAttributeValues: { ':pk': changePk(shard), ...values },
            ...(projection ? { ProjectionExpression: projection } : {}),
          },
        }),
      ),
    );
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

/**
 * The detail of the items read (per shard, each in key order) after `skipped` (keys only). The shards
 * are taken in shard order, so that the sets' order does not depend on timing.
 */
function detailOf(shards: ReadonlyArray<ReadonlyArray<Record<string, any>>>, skipped: string[]): ChangeDetail {
  const changes: ChangeDetail = { accounts: new Set(), identifiers: new Set(), stored: [], reread: new Set(), factsOf: new Set(), seen: [...skipped], itemsRead: 0, itemsSkipped: skipped.length };
  const entries: Array<{ sk: string; stored: StoredSignals }> = [];
  for (const items of shards) {
    for (const item of items) {
      changes.seen.push(String(item.sk));
      changes.itemsRead++;
      const stored: StoredSignals | undefined = item.stored && JSON.parse(gunzipSync(item.stored as Uint8Array).toString('utf8'));
      // An item with signals lists its accounts and identifiers only when an earlier version wrote it; else they are its signals' and its account records' (`factsOf`).
      for (const account of item.accounts ?? []) changes.accounts.add(account);
      for (const identifier of item.identifiers ?? []) changes.identifiers.add(identifier);
      if (stored && item.accounts === undefined) {
        for (const signal of stored.signals) {
          changes.accounts.add(`${stored.platform}#${signal.account}`);
          changes.identifiers.add(`${signal.type}#${signal.value}`);
        }
        for (const account of item.factsOf ?? []) changes.accounts.add(account);
      }
      // An item written before items listed `factsOf` counts all its accounts (conservative: it may hold account records).
      for (const account of item.factsOf ?? item.accounts ?? []) changes.factsOf.add(account);
      if (stored) entries.push({ sk: String(item.sk), stored });
      else for (const account of item.accounts ?? []) changes.reread.add(account);
    }
  }
  changes.stored = entries.sort((a, b) => byString(a.sk, b.sk)).map((entry) => entry.stored);
  return changes;
}
