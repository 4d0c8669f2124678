/**
 * The current clusters, kept in place across runs under their stable ids: reports, the risk ranking,
 * each account's cluster, and review state. A report is stored gzipped in one item so that large
 * clusters stay under DynamoDB's 400 KB limit. The ranking is an index over the current clusters'
 * report items (RANKING_INDEX), not items of its own: a save writes one item per changed cluster.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AccountRef } from '../contract/platforms.js';
import { byString } from '../detect/by-string.js';
import type { DetectedCluster } from '../detect/model.js';
import { ValidationError } from '../errors.js';
import { batchGetAll } from './batch-get.js';
import { batchWriteAll, type WriteRequest } from './batch-write.js';
import { accountPk, accountPkOf, clusterIdOfPk, clusterPk, rankPkOf, rankSk, SK_CLUSTER, SK_REPORT, SK_REVIEW } from './keys.js';
import { isRanked, RANK_SK_SHAPE, rankingFrom, wholeRanking } from './ranking-index.js';
import { contentFingerprint, FINGERPRINT_FORM, legacyContentFingerprint, reportBody, reportWithin } from './cluster-report.js';
import { moveLegacyRanking } from './legacy-ranking.js';
import { appendAll } from '../append-all.js';

/** Review states an investigator moves a cluster through. */
export const REVIEW_STATUSES = ['new', 'in-review', 'escalated', 'dismissed'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

/** One line of the ranking: what the queue shows. */
export interface ClusterSummary {
  id: string;
  size: number;
  platforms: string[];
  risk: number;
  status: ReviewStatus;
  /** When detection last changed this cluster. */
  detectedAt: string;
}

/** The full report of one cluster, as investigators read it. */
export interface ClusterReport extends ClusterSummary {
  runId: string;
  members: AccountRef[];
  links: Array<{
    a: AccountRef;
    b: AccountRef;
    weight: number;
    types: string[];
    evidence: Array<{ type: string; value: string; weight: number; observedAt: string; matchedValue?: string; distance?: number }>;
  }>;
  riskReasons: DetectedCluster['risk']['reasons'];
  verdicts: DetectedCluster['verdicts'];
  /**
   * Set when the report holds only part of the links (a maximum spanning forest first, then the strongest), the most that fit
   * DynamoDB's item limit: how many links the cluster has. A cluster that large is shared infrastructure
   * below the hub threshold rather than one actor.
   */
  linksTotal?: number;
  /** Set when a later run dissolved the cluster. */
  removedAt?: string;
  removedInRun?: string;
}

function encodeCursor(rankSk: string): string {
  return Buffer.from(JSON.stringify({ rankSk })).toString('base64url');
}

/** The ranking key a cursor resumes after. */
function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key && typeof key === 'object' && typeof key.rankSk === 'string' && RANK_SK_SHAPE.test(key.rankSk)) return key.rankSk;
  } catch {
    // fall through to the error below
  }
  throw new ValidationError('cursor is not one this API gave: start again without a cursor');
}

/** What a run changes in the stored clusters. */
export interface ClusterChanges {
  /** Clusters as detected now (new, or carried over under a stable id). */
  upserts: DetectedCluster[];
  /** Ids of earlier clusters that no cluster carries any more. */
  removed: string[];
  /**
   * The stored clusters these changes replace, as `clustersOfAccounts` read them (id and members). A
   * member already in the stored cluster of the same id already points to it, so its pointer is not
   * written again: a cluster that gains one member costs one pointer, not one per member.
   */
  previous?: ReadonlyArray<StoredCluster>;
}

/** What {@link ClusterRepository.applyRun} did. */
export interface AppliedRun {
  /** Clusters whose report was written (new or changed). */
  written: number;
  /** Clusters detected again unchanged, left alone. */
  unchanged: number;
  /** Clusters marked removed now. */
  removed: number;
  /** Written clusters whose report holds only part of its links, the most that fit DynamoDB's item limit (`linksTotal` in the report). */
  trimmed: number;
  /**
   * DynamoDB items put: per written cluster its report (which the ranking index lists) and a pointer per
   * new member; per removed cluster its report, put back out of the ranking. The write volume (and cost)
   * of the run's save, before the index's own writes.
   */
  itemsWritten: number;
  /** Every upserted cluster as the ranking now lists it (written or unchanged), for {@link rankingAfter}. */
  ranked: CurrentCluster[];
}

/** What the report item says about a stored cluster: its ranking key, content fingerprint, removal. */
export type StoredHead = { rankSk?: string; fingerprint?: string; removedAt?: string };

/** A current cluster as the ranking lists it: what {@link ClusterRepository.currentClusters} reads. */
export type CurrentCluster = StoredCluster & { head: StoredHead };

/**
 * The current clusters after a save, from those before it and what the save applied: the removed and
 * upserted ones replaced by what the save ranked, highest risk first as the ranking reads. Exactly what
 * {@link ClusterRepository.currentClusters} would read then, provided nothing else wrote the ranking
 * between (only detection runs write it, one at a time); undefined when an entry's ranking key is not
 * known, so that the caller reads the ranking instead.
 *
 * @example
 * const saved = await clusters.applyRun(runId, { upserts, removed, previous }, startedAt);
 * const current = rankingAfter(before, removed, saved.ranked) ?? (await clusters.currentClusters());
 */
export function rankingAfter(before: readonly CurrentCluster[], removed: readonly string[], ranked: readonly CurrentCluster[]): CurrentCluster[] | undefined {
  const replaced = new Set([...removed, ...ranked.map((cluster) => cluster.id)]);
  const after = before.filter((cluster) => !replaced.has(cluster.id));
  appendAll(after, ranked);
  if (after.some((cluster) => cluster.head.rankSk === undefined)) return undefined;
  return after.sort((x, y) => byString(x.head.rankSk!, y.head.rankSk!));
}

/** A current cluster as `clustersOfAccounts` reads it; `head`, when read, saves `applyRun` reading it again. */
export interface StoredCluster {
  id: string;
  members: string[];
  head?: StoredHead;
}

/** A ranked report, or its entry in the ranking index, as a current cluster (its report holds its id). */
function currentClusterOf(item: Record<string, any>): CurrentCluster {
  return { id: String(item.id), members: item.members as string[], head: { rankSk: String(item.rankSk), fingerprint: item.fingerprint } };
}

/** Puts built before they are sent while the rest are built (see {@link ClusterRepository.applyRun}). */
const PUTS_PER_PART = 1_000;

export class ClusterRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Ranking entries one page of {@link currentClusters} holds at most (DynamoDB's 1 MB page when unset); tests set it low. */
    private readonly rankingPageLimit?: number,
    /** Puts {@link applyRun} builds before it sends them and builds on; tests set it low. */
    private readonly putsPerPart: number = PUTS_PER_PART,
  ) {}

  /**
   * Applies a run to the stored clusters in place: a changed cluster gets a new report (its ranking
   * entry with it) and member pointers; an unchanged one is left alone; a removed one's report is put
   * back marked removed and out of the ranking (kept, with its review state, for the record).
   *
   * Each cluster's report and ranking entry are one item, so a save that fails halfway (the run then
   * fails and the next one redoes it) leaves every cluster listed once, as before or as after.
   */
  async applyRun(runId: string, changes: ClusterChanges, detectedAt: string): Promise<AppliedRun> {
    const stored = new Map<string, StoredHead>();
    for (const cluster of changes.previous ?? []) if (cluster.head) stored.set(cluster.id, cluster.head);
    // A dissolved cluster's report is kept, marked removed and out of the ranking: read whole (its head
    // with it, when not known already) and put back in the same batches as the other writes (one
    // UpdateItem each cost more than both, and only detection runs, one at a time, write reports).
    // Read while the other reports are built. (Those are compressed with gzipSync: 3,500 asynchronous
    // gzips at once cost the main thread 2.6 s in an incremental run's profile at 100k, against 0.43 s.)
    const reportsRead = batchGetAll(
      this.db,
      this.tableName,
      changes.removed.filter((id) => !stored.get(id)?.removedAt).map((id) => ({ pk: clusterPk(id), sk: SK_REPORT })),
    );
    // Awaited below; this keeps a failure from going unhandled meanwhile.
    reportsRead.catch(() => undefined);
    // Heads of dissolved clusters come with their whole reports; those of other clusters not read with the previous ones are read here.
    for (const [id, head] of await this.storedHeads(changes.upserts.map((c) => c.id).filter((id) => !stored.has(id)))) stored.set(id, head);
    // Puts go out in parts while the rest are built (their keys are all distinct: one report, ranking
    // entry and pointer per cluster and member), so that the server writes while this thread builds.
    let writes: WriteRequest[] = [];
    const sending: Array<Promise<number>> = [];
    const send = () => {
      if (writes.length === 0) return;
      const sent = batchWriteAll(this.db, this.tableName, writes);
      // Awaited below; this keeps a failure from going unhandled meanwhile.
      sent.catch(() => undefined);
      sending.push(sent);
      writes = [];
    };
    const storedMembers = new Map((changes.previous ?? []).map((cluster) => [cluster.id, new Set(cluster.members)]));
    let unchanged = 0;
    const ranked: CurrentCluster[] = [];
    /** Clusters unchanged since an earlier version stored them (see {@link legacyContentFingerprint}), written once their `detectedAt` is read. */
    const restamped: Array<{ cluster: DetectedCluster; fingerprint: string; sk: string; previous: StoredHead }> = [];
    let trimmed = 0;
    const build = (cluster: DetectedCluster, fingerprint: string, sk: string, previous: StoredHead | undefined, changedAt: string) => {
      const fitted = reportWithin(cluster, (links) => ({
        pk: clusterPk(cluster.id),
        sk: SK_REPORT,
        kind: 'report',
        runId,
        // The ranking entry (RANKING_INDEX's keys and attributes).
        rankPk: rankPkOf(cluster.id),
        rankSk: sk,
        id: cluster.id,
        size: cluster.members.length,
        platforms: cluster.platforms,
        platformCount: cluster.platforms.length,
        risk: cluster.risk.score,
        members: cluster.members,
        fingerprint,
        detectedAt: changedAt,
        body: gzipSync(JSON.stringify(reportBody(cluster, runId, changedAt, links)), { level: 1 }),
      }));
      const report = fitted.report;
      if (fitted.trimmed) trimmed += 1;
      writes.push(
        { PutRequest: { Item: report } },
        ...cluster.members
          .filter((member) => previous?.removedAt || !storedMembers.get(cluster.id)?.has(member))
          .map((member) => ({ PutRequest: { Item: { pk: accountPkOf(member), sk: SK_CLUSTER, kind: 'account-cluster', clusterId: cluster.id } } })),
      );
    };
    for (const cluster of changes.upserts) {
      if (writes.length >= this.putsPerPart) {
        send();
        // Lets the calls just made go out before building on.
        await new Promise((resolve) => setImmediate(resolve));
      }
      const fingerprint = contentFingerprint(cluster);
      const previous = stored.get(cluster.id);
      if (previous && previous.fingerprint === fingerprint && !previous.removedAt) {
        unchanged += 1;
        ranked.push({ id: cluster.id, members: cluster.members, head: { rankSk: previous.rankSk, fingerprint } });
        continue;
      }
      const sk = rankSk(cluster.risk.score, cluster.id);
      ranked.push({ id: cluster.id, members: cluster.members, head: { rankSk: sk, fingerprint } });
      // Stored by an earlier version under a fingerprint of its form and unchanged since: rewritten in this
      // form, keeping when detection last changed it.
      const unchangedSinceEarlierForm =
        previous !== undefined && !previous.removedAt && previous.fingerprint !== undefined && !previous.fingerprint.startsWith(FINGERPRINT_FORM) && previous.fingerprint === legacyContentFingerprint(cluster);
      if (unchangedSinceEarlierForm) restamped.push({ cluster, fingerprint, sk, previous });
      else build(cluster, fingerprint, sk, previous, detectedAt);
    }
    if (restamped.length > 0) {
      const stamps = await this.batchGet(restamped.map(({ cluster }) => ({ pk: clusterPk(cluster.id), sk: SK_REPORT })), 'pk, detectedAt');
      const stampOf = new Map(stamps.map((item) => [clusterIdOfPk(item.pk), item.detectedAt as string | undefined]));
      for (const { cluster, fingerprint, sk, previous } of restamped) {
        if (writes.length >= this.putsPerPart) send();
        build(cluster, fingerprint, sk, previous, stampOf.get(cluster.id) ?? detectedAt);
      }
    }
    // A report found marked removed already (its head was not known beforehand) is left as it is.
    const removed = (await reportsRead).filter((report) => !report.removedAt);
    // Out of the ranking without its keys (the index is sparse).
    for (const { rankPk: _rankPk, rankSk: _rankSk, ...report } of removed) writes.push({ PutRequest: { Item: { ...report, removedAt: detectedAt, removedInRun: runId } } });
    send();
    // A failed part fails the save only once the others are settled, so that no write of a failed run
    // lands after the run has ended (the next run could be reading by then).
    const sent = await Promise.allSettled(sending);
    const failure = sent.find((part) => part.status === 'rejected');
    if (failure) throw failure.reason;
    const itemsWritten = sent.reduce((sum, part) => sum + (part.status === 'fulfilled' ? part.value : 0), 0);
    return { written: changes.upserts.length - unchanged, unchanged, removed: removed.length, trimmed, itemsWritten, ranked };
  }

  /**
   * Every current cluster with its members and head, from the ranking (for stable ids and for a full
   * run's changes), highest risk first; the ranking's partitions are read side by side.
   *
   * The ranking is a global secondary index, which DynamoDB updates shortly after each write (within a
   * second in normal operation): the runner lets that much time pass after a save before a run reads
   * it (`rankingSettleMs`). dynalite updates it with the write.
   */
  async currentClusters(): Promise<CurrentCluster[]> {
    return (await wholeRanking(this.db, this.tableName, { ProjectionExpression: 'rankSk, id, members, fingerprint', Limit: this.rankingPageLimit })).map(currentClusterOf);
  }

  /** Moves a ranking an earlier version kept as items of its own onto the reports (lib/graph/legacy-ranking.ts). */
  moveLegacyRanking(): Promise<number> {
    return moveLegacyRanking(this.db, this.tableName);
  }

  /**
   * The current clusters that any of these accounts (`platform#account`) belongs to (for a task that
   * loads its closure from the table), with their heads. Reads each account's pointer, then the
   * clusters' reports' heads and members: two items per cluster in calls of 100. (A run that reads the
   * whole ranking anyway gives its tasks their clusters from it instead: `withPreviousClusters`.)
   * A pointer is written when its account joins a cluster and left when it leaves, so a cluster counts
   * only where its members include one of the accounts, as `withPreviousClusters` and `clusterOfAccount`
   * judge it: a task given a cluster none of its accounts is in would take it for one it dissolved.
   */
  async clustersOfAccounts(accounts: string[]): Promise<Array<StoredCluster & { head: StoredHead }>> {
    const asked = new Set(accounts);
    const pointers = await this.batchGet(
      accounts.map((key) => ({ pk: accountPkOf(key), sk: SK_CLUSTER })),
      'clusterId',
    );
    const reports = await this.batchGet(
      [...new Set(pointers.map((item) => String(item.clusterId)))].map((id) => ({ pk: clusterPk(id), sk: SK_REPORT })),
      'id, rankPk, rankSk, fingerprint, members',
    );
    return reports.filter((report) => isRanked(report) && (report.members as string[]).some((member) => asked.has(member))).map(currentClusterOf);
  }

  private async storedHeads(ids: string[]): Promise<Map<string, StoredHead>> {
    const items = await this.batchGet(ids.map((id) => ({ pk: clusterPk(id), sk: SK_REPORT })), 'pk, rankSk, fingerprint, removedAt');
    return new Map(items.map((item) => [clusterIdOfPk(item.pk), { rankSk: item.rankSk, fingerprint: item.fingerprint, removedAt: item.removedAt }]));
  }

  /** Reads items by key; `status` in the projection is escaped (a reserved word). */
  private batchGet(keys: Array<Record<string, unknown>>, projection: string): Promise<Array<Record<string, any>>> {
    const escaped = projection.replace(/\bstatus\b/, '#status');
    return batchGetAll(this.db, this.tableName, keys, { projection: escaped, names: escaped === projection ? undefined : { '#status': 'status' } });
  }

  /** A page of the current clusters, highest risk first. */
  async list(options: { limit: number; cursor?: string; minPlatforms?: number }): Promise<{ clusters: ClusterSummary[]; next: string | null }> {
    const filter = options.minPlatforms ? { FilterExpression: 'platformCount >= :min', ExpressionAttributeValues: { ':min': options.minPlatforms } } : {};
    const query = { ...filter, ProjectionExpression: 'rankSk, id, #size, platforms, risk, detectedAt', ExpressionAttributeNames: { '#size': 'size' } };
    // One more than asked, so that the answer knows whether a next page exists.
    const found: Array<Record<string, any>> = [];
    for await (const item of rankingFrom(this.db, this.tableName, query, decodeCursor(options.cursor), this.rankingPageLimit ?? options.limit + 1)) {
      found.push(item);
      if (found.length > options.limit) break;
    }
    const pageItems = found.slice(0, options.limit);
    const more = found.length > options.limit;
    const last = pageItems[pageItems.length - 1];
    const statuses = await this.statuses(pageItems.map((item) => String(item.id)));
    return {
      clusters: pageItems.map((item) => ({
        id: String(item.id),
        size: Number(item.size),
        platforms: item.platforms as string[],
        risk: Number(item.risk),
        status: statuses.get(String(item.id)) ?? 'new',
        detectedAt: String(item.detectedAt),
      })),
      next: more && last ? encodeCursor(String(last.rankSk)) : null,
    };
  }

  /** The newest report of a cluster, with its review status; a removed cluster's report says when it went. */
  async report(clusterId: string): Promise<ClusterReport | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: clusterPk(clusterId), sk: SK_REPORT } }));
    if (!result.Item) return undefined;
    const body = JSON.parse(gunzipSync(result.Item.body as Uint8Array).toString('utf8'));
    const status = (await this.statuses([clusterId])).get(clusterId) ?? 'new';
    return { ...body, status, ...(result.Item.removedAt ? { removedAt: result.Item.removedAt, removedInRun: result.Item.removedInRun } : {}) };
  }

  /** The current cluster of an account, if it is in one. */
  async clusterOfAccount(ref: AccountRef): Promise<string | undefined> {
    const pointer = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: accountPk(ref.platform, ref.account), sk: SK_CLUSTER } }));
    const clusterId = pointer.Item?.clusterId as string | undefined;
    if (!clusterId) return undefined;
    // The pointer may be left from a cluster that has since gone; the report says what is current.
    const report = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: clusterPk(clusterId), sk: SK_REPORT }, ProjectionExpression: 'rankPk, members' }));
    if (!isRanked(report.Item)) return undefined;
    return (report.Item.members as string[]).includes(`${ref.platform}#${ref.account}`) ? clusterId : undefined;
  }

  private async statuses(ids: string[]): Promise<Map<string, ReviewStatus>> {
    const items = await this.batchGet(ids.map((id) => ({ pk: clusterPk(id), sk: SK_REVIEW })), 'pk, status');
    return new Map(items.map((item) => [clusterIdOfPk(item.pk), item.status as ReviewStatus]));
  }
}
