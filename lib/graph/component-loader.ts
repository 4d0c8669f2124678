/**
 * Loads, for an incremental detection run, exactly the part of the graph that changes can reach: every
 * account linked (through non-hub identifiers, photo near matches and verdicts) to a changed account or
 * identifier, with all its signals. Detection over this closure gives the same clusters for it as a
 * full run would, because no link leaves it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SignalType } from '../contract/signals.js';
import { PdqIndex } from '../detect/pdq-index.js';
import type { AccountFacts, ExcludedHub, Membership, Verdict } from '../detect/model.js';
import type { ChangeSet } from './change-log.js';
import { inParallel } from './in-parallel.js';
import { factsOfItem, isLiveRecord } from './account-records.js';
import { accountPkOf, isAccountMeta, signalPk, SK_WITHDRAWN } from './keys.js';
import { batchGetAll } from './batch-get.js';
import { pages } from './paginate.js';
import { GSI1 } from './table-schema.js';
import { appendAll } from '../append-all.js';
import { partnersOf } from '../detect/verdicts.js';

export interface ClosureOptions {
  hubThreshold: number;
  pdqMaxDistance: number;
  pdqChunkBits: 8 | 16;
  nowMs: number;
  verdicts: readonly Verdict[];
  /** Every stored photo hash, loaded only when the closure meets a photo. */
  photoHashes: () => Promise<string[]>;
  /**
   * Signals stored before this time were seen by the previous run: its start less the change log's
   * margin (a store reads its clock before its write lands, as the log's writers do). An identifier that
   * is a hub now but was not then has just stopped linking its holders, so they are all revisited; one
   * that was a hub then too links nothing either way. Counting a holder as new when the previous run saw
   * it only revisits more.
   */
  seenBefore?: string;
}

export interface Closure {
  memberships: Membership[];
  accounts: Map<string, AccountFacts>;
  /** Identifiers met that are held by more than the hub threshold of accounts (not followed). */
  hubs: ExcludedHub[];
  /** Every account the closure reached, with or without live memberships (their old clusters are replaced). */
  visited: string[];
  /** How many DynamoDB queries the closure took. */
  queries: number;
}

const splitIdentifier = (identifier: string) => {
  const cut = identifier.indexOf('#');
  return { type: identifier.slice(0, cut) as SignalType, value: identifier.slice(cut + 1) };
};

export class ComponentLoader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async closure(seed: ChangeSet, options: ClosureOptions): Promise<Closure> {
    const nowSeconds = Math.floor(options.nowMs / 1000);
    const partners = partnersOf(options.verdicts.filter((verdict) => verdict.kind === 'same-actor'));
    const seenAccounts = new Set<string>();
    const seenIdentifiers = new Set<string>();
    const accountQueue = [...seed.accounts];
    const identifierQueue = [...seed.identifiers];
    const memberships: Membership[] = [];
    const accounts = new Map<string, AccountFacts>();
    const hubs: ExcludedHub[] = [];
    const hubIdentifiers = new Set<string>();
    let photoIndex: { index: PdqIndex; hashes: string[] } | undefined;
    let queries = 0;

    const nearPhotos = async (value: string): Promise<string[]> => {
      if (!photoIndex) {
        const hashes = await options.photoHashes();
        photoIndex = { hashes, index: PdqIndex.build(hashes, { maxDistance: options.pdqMaxDistance, chunkBits: options.pdqChunkBits }) };
      }
      return photoIndex.index.query(value).map((match) => photoIndex!.hashes[match.index]);
    };

    /** When each account read so far was withdrawn (absent: never), read by key for the holders of each identifier. */
    const withdrawals = new Map<string, string | undefined>();
    const readWithdrawals = async (accounts: string[]) => {
      const unread = [...new Set(accounts)].filter((account) => !withdrawals.has(account));
      if (unread.length === 0) return;
      const keys = unread.map((account) => ({ pk: accountPkOf(account), sk: SK_WITHDRAWN }));
      queries += Math.ceil(keys.length / 100);
      const found = await batchGetAll(this.db, this.tableName, keys, { projection: 'platform, account, withdrawnAt' });
      for (const account of unread) withdrawals.set(account, undefined);
      for (const item of found) withdrawals.set(`${item.platform}#${item.account}`, String(item.withdrawnAt));
    };
    const holderCache = new Map<string, Promise<{ all: string[]; before: string[] }>>();
    const holdersOf = (identifier: string) => {
      let found = holderCache.get(identifier);
      if (!found) {
        const { type, value } = splitIdentifier(identifier);
        found = (async () => {
          const all: string[] = [];
          const before: string[] = [];
          const query = {
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: 'expiresAt > :now',
            ExpressionAttributeValues: { ':pk': signalPk(type, value), ':now': nowSeconds },
            ProjectionExpression: 'platform, account, receivedAt, storedAt',
          };
          const items: Array<Record<string, any>> = [];
          for await (const page of pages(this.db, { query })) {
            queries += 1;
            appendAll(items, page.items);
          }
          await readWithdrawals(items.map((item) => `${item.platform}#${item.account}`));
          for (const item of items) {
            const holder = `${item.platform}#${item.account}`;
            // A signal of a withdrawn account received before the withdrawal (stored after it, from the
            // queue) holds nothing, as every other reader of the graph judges it.
            const withdrawn = withdrawals.get(holder);
            if (withdrawn !== undefined && String(item.receivedAt) <= withdrawn) continue;
            all.push(holder);
            // Judged by when it was stored: a message received before the previous run began may be stored
            // after it read the table. (A signal stored before storedAt was kept has its receipt, which is earlier.)
            if (options.seenBefore !== undefined && String(item.storedAt ?? item.receivedAt) < options.seenBefore) before.push(holder);
          }
          return { all, before };
        })();
        holderCache.set(identifier, found);
      }
      return found;
    };
    /** Whether a photo can join a family, as detection judges it: held by a live account, and no hub on its own. */
    const bridges = (holders: number) => holders > 0 && holders <= options.hubThreshold;
    /**
     * The family of near-identical photos `value` belongs to (single linkage through photos that bridge).
     * A photo that does not bridge (a hub on its own, or one no live account holds) is a unit alone, as in
     * detection; the photos near it may have lost or gained it as a bridge, so each is read as a unit of
     * its own (a photo its only holder left, or a hub new since the previous run; one that was a hub then
     * too bridged nothing either time).
     */
    const photoFamily = async (value: string): Promise<string[]> => {
      const own = await holdersOf(`photo_pdq#${value}`);
      if (!bridges(own.all.length)) {
        const hubBefore = options.seenBefore !== undefined && own.before.length > options.hubThreshold;
        if (own.all.length === 0 || !hubBefore) for (const near of await nearPhotos(value)) if (near !== value) identifierQueue.push(`photo_pdq#${near}`);
        seenIdentifiers.add(`photo_pdq#${value}`);
        return [`photo_pdq#${value}`];
      }
      const family = new Set([`photo_pdq#${value}`]);
      const frontier = [value];
      while (frontier.length > 0) {
        const current = frontier.pop()!;
        for (const near of await nearPhotos(current)) {
          const key = `photo_pdq#${near}`;
          if (family.has(key)) continue;
          if (!bridges((await holdersOf(key)).all.length)) continue;
          family.add(key);
          frontier.push(near);
        }
      }
      family.forEach((member) => seenIdentifiers.add(member));
      return [...family];
    };

    // Level by level, each level's look-ups in parallel: the closure's depth is small, its breadth is not.
    while (accountQueue.length > 0 || identifierQueue.length > 0) {
      const identifiers = [...new Set(identifierQueue.splice(0))].filter((identifier) => !seenIdentifiers.has(identifier));
      identifiers.forEach((identifier) => seenIdentifiers.add(identifier));
      await inParallel(identifiers, async (identifier) => {
        const { type, value } = splitIdentifier(identifier);
        // A photo links as part of its family of near-identical hashes; the family is a hub as a whole.
        const unit = type === 'photo_pdq' ? await photoFamily(value) : [identifier];
        const holders = new Set<string>();
        const holdersBefore = new Set<string>();
        // Whether the family was (at least) these photos then: none of its photos changed since (a photo
        // that was a hub on its own then, or held by nobody, bridged nothing, and may bridge now: the holders
        // it lost are gone from the table, so only the change says so), and each had a holder the previous
        // run saw (a photo stored since may be what joins two families now). Otherwise its holders then,
        // however many, may have been in families that were no hub.
        let familyThen = unit.length === 1 || !unit.some((member) => seed.identifiers.has(member));
        for (const member of unit) {
          const found = await holdersOf(member);
          if (unit.length > 1 && found.all.length > options.hubThreshold) continue;
          found.all.forEach((holder) => holders.add(holder));
          found.before.forEach((holder) => holdersBefore.add(holder));
          if (found.before.length === 0) familyThen = false;
        }
        if (holders.size > options.hubThreshold) {
          hubs.push({ type, value: [...unit].sort()[0].slice(type.length + 1), accounts: holders.size });
          unit.forEach((member) => hubIdentifiers.add(member));
          // Newly a hub: the links it made are gone, so its holders' clusters must be recomputed.
          if (options.seenBefore !== undefined && (!familyThen || holdersBefore.size <= options.hubThreshold)) appendAll(accountQueue, holders);
          return;
        }
        appendAll(accountQueue, holders);
      });

      const level = [...new Set(accountQueue.splice(0))].filter((account) => !seenAccounts.has(account));
      level.forEach((account) => seenAccounts.add(account));
      await inParallel(level, async (account) => {
        accountQueue.push(...(partners.get(account) ?? []));
        const pk = accountPkOf(account);
        let withdrawnAt: string | undefined;
        const own: Array<Membership & { receivedAt: string }> = [];
        for await (const page of pages(this.db, { query: { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } } })) {
          queries += 1;
          for (const item of page.items) {
            if (item.sk === 'META') {
              if (!isAccountMeta(item) || !isLiveRecord(item, nowSeconds)) continue;
              accounts.set(account, factsOfItem(item));
            } else if (item.sk === 'WITHDRAWN') withdrawnAt = String(item.withdrawnAt);
          }
        }
        const signals = {
          TableName: this.tableName,
          IndexName: GSI1.name,
          KeyConditionExpression: 'gsi1pk = :pk',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeValues: { ':pk': pk, ':now': nowSeconds },
        };
        for await (const page of pages(this.db, { query: signals })) {
          queries += 1;
          for (const item of page.items) {
            own.push({ account, type: item.type, value: String(item.value), observedAtMs: Date.parse(String(item.observedAt)), receivedAt: String(item.receivedAt) });
          }
        }
        for (const membership of own) {
          if (withdrawnAt !== undefined && membership.receivedAt <= withdrawnAt) continue;
          const { receivedAt: _receivedAt, ...plain } = membership;
          memberships.push(plain);
          identifierQueue.push(`${plain.type}#${plain.value}`);
        }
      });
    }
    // Hub identifiers link nothing; the closure holds only some of their holders, so they leave the input.
    return { memberships: memberships.filter((m) => !hubIdentifiers.has(`${m.type}#${m.value}`)), accounts, hubs, visited: [...seenAccounts], queries };
  }
}
