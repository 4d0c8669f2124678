/**
 * Signal memberships and account metadata in DynamoDB: what the consumer writes and detection reads.
 * Keys make every write idempotent: the same signal stored twice is one item.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { allItems, pages, SCAN_SEGMENTS, scanInSegments } from './paginate.js';
import { appendAll } from '../append-all.js';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { AccountMeta, Signal, SignalType } from '../contract/signals.js';
import type { StoredFacts, StoredMembership } from '../runs/run-graph.js';
import { batchGetAll } from './batch-get.js';
import { inParallel } from './in-parallel.js';
import { batchWriteAll } from './batch-write.js';
import type { ChangeLog } from './change-log.js';
import { accountPk, accountPkOf, isAccountMeta, KIND_WITHDRAWN_META, parseAccountPk, retiredKeyPk, SK_COUNTERS, SK_META, SK_RETIRED, SK_WITHDRAWN, signalPk, STAT_PK } from './keys.js';
import { GSI1 } from './table-schema.js';
import { factsOfItem, isLiveRecord } from './account-records.js';
import { chunk } from '../chunk.js';

/**
 * Deleted signals one change-log item names: each an identifier (up to about 80 bytes) and its account
 * (up to about 150), so 1,000 stay well under DynamoDB's 400 KB item (an account withdrawn with 6,500
 * signals made one item of over 400 KB, and the withdrawal failed after its deletes).
 */
const DELETIONS_PER_CHANGE = 1_000;

/**
 * A message stored more than this long after the API received it is stored late: its signals are written
 * on condition ({@link SignalRepository.putSignals} `keepLater`). A message stored sooner is written in
 * batches, unconditionally; that can roll a signal back only to a message received less than this long
 * before the one it overwrites (which was stored earlier still), so by under a minute.
 */
export const LATE_AFTER_MS = 60_000;

/** When an item received at `receivedAt` (ISO time) expires, `retentionDays` later: epoch seconds, DynamoDB's TTL. */
export function expiresAtOf(receivedAt: string, retentionDays: number): number {
  return Math.floor(Date.parse(receivedAt) / 1000) + retentionDays * 86_400;
}

/** What detection needs from the store: every live membership and every account's metadata. */
export interface GraphSnapshot {
  memberships: Array<StoredMembership & { platform: string }>;
  accounts: Map<string, StoredFacts>;
  /** Withdrawn accounts and when (their signals received until then are left out). */
  withdrawnAt: Map<string, string>;
  /**
   * Signal items left out because their account was withdrawn after they were received: stored after
   * the withdrawal (from the queue), or missed by its look-up through the eventually consistent index.
   * {@link SignalRepository.deleteWithdrawnLeftovers} deletes them.
   */
  leftovers: WithdrawnLeftover[];
}

/** A signal item of a withdrawn account received before the withdrawal. */
export interface WithdrawnLeftover {
  key: { pk: string; sk: string };
  withdrawnAt: string;
}

export class SignalRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Deletions are changes too: the next incremental run must revisit what they touched. */
    private readonly changes: Pick<ChangeLog, 'record'>,
    private readonly retentionDays: number,
  ) {}

  /**
   * Records deleted signal items (keys `SIG#<type>#<value>` / `ACC#<platform>#<account>`) as changes,
   * {@link DELETIONS_PER_CHANGE} to a change-log item, so that no item outgrows DynamoDB's 400 KB.
   */
  private async recordDeletion(id: string, keys: Array<{ pk: string; sk: string }>, alsoAccounts: string[] = []): Promise<void> {
    if (keys.length === 0 && alsoAccounts.length === 0) return;
    const now = new Date();
    const parts = chunk(keys, DELETIONS_PER_CHANGE);
    for (const [part, partKeys] of (parts.length > 0 ? parts : [[]]).entries()) {
      const accounts = [
        ...new Set([
          ...alsoAccounts,
          ...partKeys.map((key) => {
            const ref = parseAccountPk(key.sk);
            return `${ref.platform}#${ref.account}`;
          }),
        ]),
      ];
      await this.changes.record({
        messageId: parts.length > 1 ? `${id}:${part}` : id,
        storedAt: now.toISOString(),
        expiresAtSeconds: expiresAtOf(now.toISOString(), this.retentionDays),
        accounts,
        identifiers: partKeys.map((key) => {
          const [, type, value] = key.pk.split('#');
          return { type: type as SignalType, value };
        }),
        // A withdrawal deletes the account's metadata; every deletion counts all the accounts it names (safe;
        // a key retirement, which leaves metadata alone, costs a few facts read for nothing).
        factsOf: accounts,
      });
    }
  }

  /**
   * Stores signals of one platform. Idempotent: keyed by (type, value, platform, account).
   *
   * With `keepLater`, each signal is written alone on condition that no stored copy of it expires later
   * (a copy from a message received later): for a message stored late (redelivered, redriven, or from a
   * backlog), which must not roll back what a newer message stored. Otherwise in batches, unconditionally.
   * The consumer sets it when a message is stored over {@link LATE_AFTER_MS} after it was received, and
   * `applyChanges` (lib/runs/run-graph.ts) applies the same rule to the change log's copy.
   */
  async putSignals(platform: string, signals: Signal[], options: { receivedAt: string; storedAt: string; expiresAtSeconds: number; keepLater?: boolean }): Promise<void> {
    const items = signals.map((signal) => ({
      pk: signalPk(signal.type, signal.value),
      sk: accountPk(platform, signal.account),
      gsi1pk: accountPk(platform, signal.account),
      gsi1sk: signalPk(signal.type, signal.value),
      kind: 'signal',
      type: signal.type,
      value: signal.value,
      platform,
      account: signal.account,
      observedAt: signal.observedAt,
      keyId: signal.keyId,
      receivedAt: options.receivedAt,
      // When the consumer stored it (its clock before the write): what an incremental run that reads the
      // table judges the previous run saw by (lib/graph/component-loader.ts).
      storedAt: options.storedAt,
      expiresAt: options.expiresAtSeconds,
    }));
    if (!options.keepLater) {
      await batchWriteAll(this.db, this.tableName, items.map((Item) => ({ PutRequest: { Item } })));
      return;
    }
    await inParallel(items, async (Item) => {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item,
            ConditionExpression: 'attribute_not_exists(expiresAt) OR expiresAt <= :expiresAt',
            ExpressionAttributeValues: { ':expiresAt': options.expiresAtSeconds },
          }),
        );
      } catch (error) {
        // A copy from a later message is stored: it stays.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
  }

  /**
   * Stores account metadata; a record older than the one stored (by `reportedAt`) is ignored,
   * so that redelivered or reordered messages never roll an account back. A record expires
   * `retentionDays` after it was received, as signals do, unless a later one replaces it.
   */
  async putAccountMeta(platform: string, accounts: AccountMeta[], reportedAt: string): Promise<void> {
    await Promise.all(
      accounts.map(async (meta) => {
        try {
          await this.db.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: accountPk(platform, meta.account), sk: SK_META },
              UpdateExpression:
                'SET kind = :kind, platform = :platform, account = :account, reportedAt = :reportedAt, createdAt = :createdAt, minorContacts7d = :minors, reports30d = :reports, expiresAt = :expiresAt',
              ConditionExpression: 'attribute_not_exists(reportedAt) OR reportedAt <= :reportedAt',
              ExpressionAttributeValues: {
                ':kind': 'account',
                ':platform': platform,
                ':account': meta.account,
                ':reportedAt': reportedAt,
                ':createdAt': meta.createdAt ?? null,
                ':minors': meta.minorContacts7d ?? null,
                ':reports': meta.reports30d ?? null,
                ':expiresAt': expiresAtOf(reportedAt, this.retentionDays),
              },
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }),
    );
  }

  /**
   * Withdraws an account at a platform's request: deletes its signals and metadata, and leaves a
   * tombstone so that signals of it still in the queue (received before now) are never linked.
   */
  async withdrawAccount(platform: string, account: string, withdrawnAt: string): Promise<{ signalsDeleted: number }> {
    const pk = accountPk(platform, account);
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { pk, sk: SK_WITHDRAWN, kind: 'withdrawal', platform, account, withdrawnAt } }));
    const keys = (
      await allItems(this.db, {
        query: { TableName: this.tableName, IndexName: GSI1.name, KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ProjectionExpression: 'pk, sk' },
      })
    ).map((item) => ({ pk: String(item.pk), sk: String(item.sk) }));
    await batchWriteAll(this.db, this.tableName, keys.map((Key) => ({ DeleteRequest: { Key } })));
    await this.withdrawMeta(platform, account, withdrawnAt);
    await this.recordDeletion(`withdraw:${pk}:${withdrawnAt}`, keys, [`${platform}#${account}`]);
    return { signalsDeleted: keys.length };
  }

  /**
   * Replaces the account's metadata with a marker dated `withdrawnAt`, so that an account record received
   * before the withdrawal and stored after it (still in the queue) is refused by {@link putAccountMeta}'s
   * condition, as a deleted item would not be. A record received after the withdrawal is kept.
   */
  private async withdrawMeta(platform: string, account: string, withdrawnAt: string): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          // It expires as a record received then would: one received before it and stored later is expired already.
          Item: { pk: accountPk(platform, account), sk: SK_META, kind: KIND_WITHDRAWN_META, platform, account, reportedAt: withdrawnAt, expiresAt: expiresAtOf(withdrawnAt, this.retentionDays) },
          ConditionExpression: 'attribute_not_exists(reportedAt) OR reportedAt <= :withdrawnAt',
          ExpressionAttributeValues: { ':withdrawnAt': withdrawnAt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Retires a hashing key after a key rotation: records `keyId` as retired, so that signals stamped with it
   * are refused from now on ({@link retiredKeyIds}), then deletes every signal hashed under it (a full
   * scan; run once per rotation). Returns how many were deleted. Running it again deletes what a store
   * that checked just before the retirement wrote just after the scan passed it.
   */
  async retireKey(keyId: string, retiredAt: string = new Date().toISOString()): Promise<{ signalsDeleted: number }> {
    // Recorded before the scan: a signal stored after this is refused, one stored before is found by the scan.
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: retiredKeyPk(keyId), sk: SK_RETIRED },
        UpdateExpression: 'SET kind = :kind, keyId = :keyId, retiredAt = if_not_exists(retiredAt, :at)',
        ExpressionAttributeValues: { ':kind': 'retired-key', ':keyId': keyId, ':at': retiredAt },
      }),
    );
    let deleted = 0;
    const scan = {
      TableName: this.tableName,
      FilterExpression: 'kind = :signal AND keyId = :keyId',
      ExpressionAttributeValues: { ':signal': 'signal', ':keyId': keyId },
      ProjectionExpression: 'pk, sk',
      // Strongly consistent, so that a signal whose write finished before the retirement was recorded is seen.
      ConsistentRead: true,
    };
    let pageNo = 0;
    await scanInSegments(this.db, scan, async (page) => {
      // Numbered as pages arrive, whatever their segment: each change-log item gets an id of its own.
      const part = pageNo++;
      const keys = page.items.map((item) => ({ pk: String(item.pk), sk: String(item.sk) }));
      await batchWriteAll(this.db, this.tableName, keys.map((Key) => ({ DeleteRequest: { Key } })));
      await this.recordDeletion(`retire:${keyId}:${Date.now()}:${part}`, keys);
      deleted += keys.length;
    });
    return { signalsDeleted: deleted };
  }

  /**
   * The retired ones among `keyIds`, each with when it was retired. A strongly consistent read: a key id
   * retired a moment ago, on another Lambda, counts as retired.
   */
  async retiredKeyIds(keyIds: Iterable<string>): Promise<Map<string, string>> {
    const keys = [...new Set(keyIds)].map((keyId) => ({ pk: retiredKeyPk(keyId), sk: SK_RETIRED }));
    if (keys.length === 0) return new Map();
    const items = await batchGetAll(this.db, this.tableName, keys, { consistentRead: true });
    return new Map(items.map((item) => [String(item.keyId), String(item.retiredAt)]));
  }

  /** Adds to the count of signals accepted at the API. */
  async addAccepted(count: number): Promise<void> {
    if (count <= 0) return;
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: STAT_PK, sk: SK_COUNTERS },
        UpdateExpression: 'ADD signalsAccepted :n',
        ExpressionAttributeValues: { ':n': count },
      }),
    );
  }

  async acceptedCount(): Promise<number> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: STAT_PK, sk: SK_COUNTERS } }));
    return Number(result.Item?.signalsAccepted ?? 0);
  }

  /** Counts stored signal items exactly (a full scan: fine for status checks, not for hot paths). */
  async storedCount(): Promise<number> {
    let count = 0;
    const scan = {
      TableName: this.tableName,
      Select: 'COUNT' as const,
      FilterExpression: 'kind = :signal AND expiresAt > :now',
      ExpressionAttributeValues: { ':signal': 'signal', ':now': Math.floor(Date.now() / 1000) },
    };
    await scanInSegments(this.db, scan, (page) => {
      count += page.count;
    });
    return count;
  }

  /**
   * Reads every live signal membership and account record (one scan) for a detection run. Expired
   * signals are left out here too, because DynamoDB's TTL deletes lazily; so are signals of withdrawn
   * accounts received before the withdrawal.
   */
  async snapshot(nowMs: number = Date.now()): Promise<GraphSnapshot> {
    const memberships: Array<GraphSnapshot['memberships'][number] & { receivedAt: string }> = [];
    const accounts = new Map<string, StoredFacts>();
    const withdrawnAt = new Map<string, string>();
    const nowS = Math.floor(nowMs / 1000);
    const scan = {
      TableName: this.tableName,
      FilterExpression: '(kind = :signal AND expiresAt > :now) OR kind IN (:account, :withdrawal)',
      ExpressionAttributeValues: { ':signal': 'signal', ':account': 'account', ':withdrawal': 'withdrawal', ':now': Math.floor(nowMs / 1000) },
    };
    // Read in segments side by side, each segment's finds kept apart and joined in segment order, which on
    // dynalite is the order one sequential scan gives (segments are ranges of the keys' hash order). The
    // answer does not depend on it: detection gives an incremental run, which sees another order, a full
    // run's answer (the property tests).
    const found = Array.from({ length: SCAN_SEGMENTS }, () => ({ memberships: [] as typeof memberships, accounts: [] as Array<[string, StoredFacts]>, withdrawals: [] as Array<[string, string]> }));
    await scanInSegments(this.db, scan, (page, segment) => {
      const into = found[segment];
      for (const item of page.items) {
        const key = `${item.platform}#${item.account}`;
        if (item.kind === 'signal') {
          into.memberships.push({
            account: key,
            platform: String(item.platform),
            type: item.type as SignalType,
            value: String(item.value),
            observedAtMs: Date.parse(String(item.observedAt)),
            expiresAtS: Number(item.expiresAt),
            receivedAt: String(item.receivedAt),
          });
        } else if (item.kind === 'withdrawal') {
          into.withdrawals.push([key, String(item.withdrawnAt)]);
        } else if (isLiveRecord(item, nowS)) {
          into.accounts.push([key, factsOfItem(item)]);
        }
      }
    });
    for (const segment of found) {
      appendAll(memberships, segment.memberships);
      for (const [key, facts] of segment.accounts) accounts.set(key, facts);
      for (const [key, at] of segment.withdrawals) withdrawnAt.set(key, at);
    }
    const live: typeof memberships = [];
    const leftovers: WithdrawnLeftover[] = [];
    for (const m of memberships) {
      const withdrawn = withdrawnAt.get(m.account);
      if (withdrawn === undefined || m.receivedAt > withdrawn) live.push(m);
      else leftovers.push({ key: { pk: signalPk(m.type, m.value), sk: accountPkOf(m.account) }, withdrawnAt: withdrawn });
    }
    return { memberships: live.map(({ receivedAt: _receivedAt, ...membership }) => membership), accounts, withdrawnAt, leftovers };
  }

  /**
   * Deletes signal items of withdrawn accounts received before their withdrawal, which every reader leaves
   * out already (so nothing detection sees changes, and no change is logged). Each on condition that it
   * is still one received by then: a copy the platform sent again since, after the withdrawal, stays.
   * Returns how many were deleted.
   */
  async deleteWithdrawnLeftovers(leftovers: readonly WithdrawnLeftover[]): Promise<number> {
    let deleted = 0;
    await inParallel(leftovers, async ({ key, withdrawnAt }) => {
      try {
        await this.db.send(
          new DeleteCommand({ TableName: this.tableName, Key: key, ConditionExpression: 'receivedAt <= :withdrawnAt', ExpressionAttributeValues: { ':withdrawnAt': withdrawnAt } }),
        );
        deleted += 1;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
    return deleted;
  }

  /**
   * What the table holds now for some accounts (`platform#account`): their live memberships, as
   * {@link snapshot} would read them, and their withdrawal if any. One query per account.
   */
  async readAccounts(accounts: readonly string[], nowMs: number = Date.now()): Promise<Map<string, { memberships: StoredMembership[]; withdrawnAt?: string }>> {
    const found = new Map<string, { memberships: StoredMembership[]; withdrawnAt?: string }>();
    const withdrawals = await batchGetAll(
      this.db,
      this.tableName,
      accounts.map((key) => ({ pk: accountPkOf(key), sk: SK_WITHDRAWN })),
      { projection: 'pk, withdrawnAt' },
    );
    const withdrawnAt = new Map(withdrawals.map((item) => [String(item.pk), String(item.withdrawnAt)]));
    await inParallel(accounts, async (key) => {
      const pk = accountPkOf(key);
      const withdrawn = withdrawnAt.get(pk);
      const memberships: StoredMembership[] = [];
      const query = {
        TableName: this.tableName,
        IndexName: GSI1.name,
        KeyConditionExpression: 'gsi1pk = :pk',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: { ':pk': pk, ':now': Math.floor(nowMs / 1000) },
      };
      for await (const page of pages(this.db, { query })) {
        for (const item of page.items) {
          if (withdrawn !== undefined && String(item.receivedAt) <= withdrawn) continue;
          memberships.push({ account: key, type: item.type as SignalType, value: String(item.value), observedAtMs: Date.parse(String(item.observedAt)), expiresAtS: Number(item.expiresAt) });
        }
      }
      found.set(key, withdrawn === undefined ? { memberships } : { memberships, withdrawnAt: withdrawn });
    });
    return found;
  }

  /** The facts (account metadata) stored for some accounts (`platform#account`) and live at `nowMs`; accounts without any are absent. */
  async factsOf(accounts: readonly string[], nowMs: number = Date.now()): Promise<Map<string, StoredFacts>> {
    const items = await batchGetAll(
      this.db,
      this.tableName,
      accounts.map((key) => ({ pk: accountPkOf(key), sk: SK_META })),
    );
    const nowS = Math.floor(nowMs / 1000);
    return new Map(items.filter((item) => isAccountMeta(item) && isLiveRecord(item, nowS)).map((item) => [`${item.platform}#${item.account}`, factsOfItem(item)]));
  }
}
