/**
 * The review side of a cluster: its status and assignee (`CLUSTER#<id>` / `REVIEW`), its notes
 * (`CLUSTER#<id>` / `NOTE#<at>#<n>`), and the console's queue over the risk ranking with review filters.
 * Everything is keyed by cluster id, which detection keeps stable, so review state survives re-detection.
 *
 * A review item is also on gsi1 (`REVIEWS` / `<status>#<id>`): the clusters someone has touched are
 * few next to the ranking, so a status filter reads that small set instead of the whole ranking.
 */
import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from './batch-get.js';
import { ValidationError } from '../errors.js';
import { REVIEW_STATUSES, type ClusterSummary, type ReviewStatus } from './cluster-repository.js';
import { clusterIdOfPk, clusterPk, SK_REPORT, SK_REVIEW } from './keys.js';
import { isRanked, RANK_SK_SHAPE, rankingCount, rankingFrom } from './ranking-index.js';
import { allItems } from './paginate.js';
import { GSI1 } from './table-schema.js';

/** The gsi1 partition of review items. */
export const REVIEWS_INDEX_PK = 'REVIEWS';
/** The index partition listing every note by its cluster: which clusters have notes, in one query. */
export const NOTES_INDEX_PK = 'NOTED';
const NOTE_PREFIX = 'NOTE#';

/** Who reviews a cluster, and how far they got. */
export interface ReviewState {
  status: ReviewStatus;
  /** Who works on it; null when nobody does. */
  assignee: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** An investigator's note on a cluster. */
export interface ReviewNote {
  id: string;
  text: string;
  by: string;
  at: string;
}

/** Which clusters the queue shows. `status: 'open'` is everything not dismissed. */
export interface QueueFilters {
  status?: ReviewStatus | 'open';
  minPlatforms?: number;
  /** Only clusters spanning this platform. */
  platform?: string;
  minSize?: number;
  maxSize?: number;
  minRisk?: number;
  maxRisk?: number;
  /** ISO-8601: only clusters detection changed at or after this time. */
  updatedSince?: string;
  assignee?: string;
}

/** One line of the console's queue. */
export interface QueueRow extends ClusterSummary {
  assignee: string | null;
}

/** The counts above the queue. */
export interface QueueCounts {
  total: number;
  crossPlatform: number;
  byStatus: Record<ReviewStatus, number>;
}

const NEW_REVIEW: ReviewState = { status: 'new', assignee: null, updatedAt: null, updatedBy: null };
const CURSOR_PREFIX = 'q.';

/** Cursors of the queue start with `q.` so that a route can tell them from the plain list's. */
export function isQueueCursor(cursor: string | undefined): boolean {
  return cursor?.startsWith(CURSOR_PREFIX) ?? false;
}

function encodeCursor(rankSk: string): string {
  return CURSOR_PREFIX + Buffer.from(JSON.stringify({ after: rankSk })).toString('base64url');
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString('utf8'));
    if (isQueueCursor(cursor) && typeof parsed?.after === 'string' && RANK_SK_SHAPE.test(parsed.after)) return parsed.after;
  } catch {
    // fall through to the error below
  }
  throw new ValidationError('cursor is not one this API gave: start again without a cursor');
}

type RankItem = Record<string, any>;

/** The numeric and platform filters, applied to ranking items (as a FilterExpression and in memory). */
function rankFilter(filters: QueueFilters): { expression?: string; values: Record<string, unknown>; names: Record<string, string>; test(item: RankItem): boolean } {
  const clauses: string[] = [];
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  const tests: Array<(item: RankItem) => boolean> = [];
  const add = (clause: string, name: string, value: unknown, test: (item: RankItem) => boolean) => {
    clauses.push(clause);
    values[name] = value;
    tests.push(test);
  };
  if (filters.minPlatforms !== undefined) add('platformCount >= :minPlatforms', ':minPlatforms', filters.minPlatforms, (i) => i.platformCount >= filters.minPlatforms!);
  if (filters.minSize !== undefined) add('#size >= :minSize', ':minSize', filters.minSize, (i) => i.size >= filters.minSize!);
  if (filters.maxSize !== undefined) add('#size <= :maxSize', ':maxSize', filters.maxSize, (i) => i.size <= filters.maxSize!);
  if (filters.minRisk !== undefined) add('risk >= :minRisk', ':minRisk', filters.minRisk, (i) => i.risk >= filters.minRisk!);
  if (filters.maxRisk !== undefined) add('risk <= :maxRisk', ':maxRisk', filters.maxRisk, (i) => i.risk <= filters.maxRisk!);
  if (filters.updatedSince !== undefined) add('detectedAt >= :since', ':since', filters.updatedSince, (i) => String(i.detectedAt) >= filters.updatedSince!);
  if (filters.platform !== undefined) add('contains(platforms, :platform)', ':platform', filters.platform, (i) => (i.platforms as string[]).includes(filters.platform!));
  if (clauses.some((clause) => clause.includes('#size'))) names['#size'] = 'size';
  return { expression: clauses.length > 0 ? clauses.join(' AND ') : undefined, values, names, test: (item) => tests.every((test) => test(item)) };
}

function toReview(item: Record<string, any> | undefined): ReviewState {
  if (!item) return { ...NEW_REVIEW };
  return { status: item.status, assignee: item.assignee ?? null, updatedAt: item.updatedAt ?? null, updatedBy: item.updatedBy ?? null };
}

export class ReviewRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The review state of a cluster (`new`, unassigned, when nobody has touched it). */
  async get(clusterId: string): Promise<ReviewState> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: clusterPk(clusterId), sk: SK_REVIEW } }));
    return toReview(result.Item);
  }

  /**
   * Changes status and/or assignee (`assignee: null` unassigns) and answers the state before and after.
   * One UpdateItem sets only the fields given, so two investigators changing different fields at once
   * both keep their change.
   *
   * @example
   * await reviews.update('c-1f3a', { status: 'in-review', assignee: 'dana' }, 'investigator-token', new Date().toISOString());
   */
  async update(clusterId: string, change: { status?: ReviewStatus; assignee?: string | null }, by: string, at: string): Promise<{ before: ReviewState; after: ReviewState }> {
    const sets = ['kind = :kind', 'clusterId = :id', 'updatedAt = :at', 'updatedBy = :by', 'gsi1pk = :index'];
    const values: Record<string, unknown> = { ':kind': 'review', ':id': clusterId, ':at': at, ':by': by, ':index': REVIEWS_INDEX_PK };
    if (change.status !== undefined) {
      sets.push('#status = :status', 'gsi1sk = :indexSk');
      Object.assign(values, { ':status': change.status, ':indexSk': `${change.status}#${clusterId}` });
    } else {
      sets.push('#status = if_not_exists(#status, :new)', 'gsi1sk = if_not_exists(gsi1sk, :newSk)');
      Object.assign(values, { ':new': 'new', ':newSk': `new#${clusterId}` });
    }
    if (change.assignee !== undefined) {
      sets.push('assignee = :assignee');
      values[':assignee'] = change.assignee;
    }
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: clusterPk(clusterId), sk: SK_REVIEW },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    );
    const before = toReview(result.Attributes);
    const after: ReviewState = {
      status: change.status ?? before.status,
      assignee: change.assignee === undefined ? before.assignee : change.assignee,
      updatedAt: at,
      updatedBy: by,
    };
    return { before, after };
  }

  async addNote(clusterId: string, text: string, by: string, at: string): Promise<ReviewNote> {
    const id = `${at}#${randomBytes(4).toString('hex')}`;
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: clusterPk(clusterId), sk: `${NOTE_PREFIX}${id}`, kind: 'note', clusterId, text, by, at, gsi1pk: NOTES_INDEX_PK, gsi1sk: `${clusterId}#${id}` },
      }),
    );
    return { id, text, by, at };
  }

  /** A cluster's notes, oldest first. */
  async notes(clusterId: string): Promise<ReviewNote[]> {
    const items = await allItems(this.db, {
      query: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': clusterPk(clusterId), ':prefix': NOTE_PREFIX },
      },
    });
    return items.map((item) => ({ id: String(item.sk).slice(NOTE_PREFIX.length), text: item.text, by: item.by, at: item.at }));
  }

  /**
   * Every cluster an investigator has attended to: its review changed, or it has a note (two index
   * queries, as large as the number of such clusters, not of all clusters). Notes written before notes
   * were indexed are not seen here.
   */
  async attendedClusters(): Promise<Set<string>> {
    const indexed = (pk: string) =>
      allItems(this.db, { query: { TableName: this.tableName, IndexName: GSI1.name, KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ProjectionExpression: 'clusterId' } });
    const [reviewed, noted] = await Promise.all([indexed(REVIEWS_INDEX_PK), indexed(NOTES_INDEX_PK)]);
    return new Set([...reviewed, ...noted].map((item) => String(item.clusterId)));
  }

  /** Review states of many clusters at once. */
  async reviewsOf(clusterIds: string[]): Promise<Map<string, ReviewState>> {
    const items = await this.batchGet(clusterIds.map((id) => ({ pk: clusterPk(id), sk: SK_REVIEW })));
    const found = new Map(items.map((item) => [String(item.clusterId), toReview(item)]));
    return new Map(clusterIds.map((id) => [id, found.get(id) ?? { ...NEW_REVIEW }]));
  }

  /**
   * A page of the current clusters, highest risk first, that pass the filters. Paging holds at any
   * number of clusters: the ranking is read in key order from the cursor on, filtered by DynamoDB, and
   * a specific status other than `new` starts from the (small) set of clusters with that status.
   */
  async queue(filters: QueueFilters, page: { limit: number; cursor?: string }): Promise<{ clusters: QueueRow[]; next: string | null }> {
    const after = decodeCursor(page.cursor);
    const filter = rankFilter(filters);
    const status = filters.status;
    if ((status && status !== 'new' && status !== 'open') || filters.assignee !== undefined) return this.queueFromReviews(filters, filter, page.limit, after);

    // `new` and `open` exclude the few clusters whose status says otherwise.
    const excluded = new Set<string>();
    if (status === 'new' || status === 'open') {
      for (const other of REVIEW_STATUSES) {
        if (other === 'new' || (status === 'open' && other !== 'dismissed')) continue;
        for (const id of await this.idsWithStatus(other)) excluded.add(id);
      }
    }
    const rows: RankItem[] = [];
    const query = {
      FilterExpression: filter.expression,
      ExpressionAttributeValues: filter.values,
      ExpressionAttributeNames: { ...filter.names, '#size': 'size' },
      ProjectionExpression: 'rankSk, id, #size, platforms, risk, detectedAt',
    };
    // One more than asked, so that the page knows whether a next one exists.
    for await (const item of rankingFrom(this.db, this.tableName, query, after, Math.max(page.limit + 1, 25))) {
      if (!excluded.has(String(item.id))) rows.push(item);
      if (rows.length > page.limit) break;
    }
    return this.toPage(rows, page.limit);
  }

  private async queueFromReviews(filters: QueueFilters, filter: ReturnType<typeof rankFilter>, limit: number, after: string | undefined) {
    const statuses = filters.status === undefined ? REVIEW_STATUSES : filters.status === 'open' ? REVIEW_STATUSES.filter((s) => s !== 'dismissed') : [filters.status];
    const reviews = (await Promise.all(statuses.map((status) => this.reviewItemsWithStatus(status)))).flat();
    const ids = reviews.filter((review) => filters.assignee === undefined || review.assignee === filters.assignee).map((review) => String(review.clusterId));
    // Their reports' ranking entries: those of current clusters, after the cursor.
    const reports = await this.batchGet(ids.map((id) => ({ pk: clusterPk(id), sk: SK_REPORT })), 'rankPk, rankSk, id, #size, platforms, platformCount, risk, detectedAt');
    const ranks = reports.filter((report) => isRanked(report) && (!after || report.rankSk > after)).filter(filter.test);
    ranks.sort((x, y) => (x.rankSk < y.rankSk ? -1 : 1));
    return this.toPage(ranks, limit);
  }

  private async toPage(rows: RankItem[], limit: number): Promise<{ clusters: QueueRow[]; next: string | null }> {
    const pageRows = rows.slice(0, limit);
    const reviews = await this.reviewsOf(pageRows.map((row) => String(row.id)));
    return {
      clusters: pageRows.map((row) => {
        const review = reviews.get(String(row.id))!;
        return {
          id: String(row.id),
          size: Number(row.size),
          platforms: row.platforms as string[],
          risk: Number(row.risk),
          status: review.status,
          assignee: review.assignee,
          detectedAt: String(row.detectedAt),
        };
      }),
      next: rows.length > limit ? encodeCursor(String(pageRows[pageRows.length - 1].rankSk)) : null,
    };
  }

  /** How many current clusters there are and how many span platforms: two counting reads of the whole ranking. */
  async rankCounts(): Promise<{ total: number; crossPlatform: number }> {
    const countRank = (filterExpression?: string) =>
      rankingCount(this.db, this.tableName, filterExpression ? { FilterExpression: filterExpression, ExpressionAttributeValues: { ':two': 2 } } : {});
    const [total, crossPlatform] = await Promise.all([countRank(), countRank('platformCount >= :two')]);
    return { total, crossPlatform };
  }

  /**
   * The queue's counts, given the ranking's ({@link rankCounts}, which callers may cache per run):
   * clusters in each status other than `new` are read from the review index; `new` is the rest.
   */
  async counts(rank: { total: number; crossPlatform: number }): Promise<QueueCounts> {
    const reviewed = (await Promise.all(REVIEW_STATUSES.filter((s) => s !== 'new').map((status) => this.reviewItemsWithStatus(status)))).flat();
    const heads = await this.batchGet(reviewed.map((review) => ({ pk: clusterPk(String(review.clusterId)), sk: SK_REPORT })), 'pk, rankPk');
    const current = new Set(heads.filter(isRanked).map((head) => clusterIdOfPk(head.pk)));
    const byStatus = { new: 0, 'in-review': 0, escalated: 0, dismissed: 0 } as Record<ReviewStatus, number>;
    for (const review of reviewed) if (current.has(String(review.clusterId))) byStatus[review.status as ReviewStatus] += 1;
    byStatus.new = rank.total - byStatus['in-review'] - byStatus.escalated - byStatus.dismissed;
    return { ...rank, byStatus };
  }

  private async idsWithStatus(status: ReviewStatus): Promise<string[]> {
    return (await this.reviewItemsWithStatus(status)).map((item) => String(item.clusterId));
  }

  private reviewItemsWithStatus(status: ReviewStatus): Promise<Array<Record<string, any>>> {
    return allItems(this.db, {
      query: {
        TableName: this.tableName,
        IndexName: GSI1.name,
        KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)',
        ExpressionAttributeValues: { ':pk': REVIEWS_INDEX_PK, ':prefix': `${status}#` },
      },
    });
  }

  /** Reads items by key; `size` in the projection is escaped as `#size` (a reserved word). */
  private batchGet(keys: Array<Record<string, unknown>>, projection?: string): Promise<Array<Record<string, any>>> {
    return batchGetAll(this.db, this.tableName, keys, { projection, names: projection?.includes('#size') ? { '#size': 'size' } : undefined });
  }
}
