/**
 * Cluster reports, the risk ranking of each run, each account's cluster, and review state.
 * A report is stored gzipped in one item so that large clusters stay under DynamoDB's 400 KB limit.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { BatchGetCommand, GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseAccountKey, type AccountRef } from '../contract/platforms.js';
import type { DetectedCluster } from '../detect/model.js';
import { ValidationError } from '../errors.js';
import { batchWriteAll } from './batch-write.js';
import { allItems } from './paginate.js';
import { accountPk, clusterPk, rankPk, rankSk, SK_CLUSTER, SK_REPORT, SK_REVIEW } from './keys.js';

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
    evidence: Array<{ type: string; value: string; weight: number; observedAt: string }>;
  }>;
  riskReasons: DetectedCluster['risk']['reasons'];
  verdicts: DetectedCluster['verdicts'];
  detectedAt: string;
}

/** Old runs' rankings expire on their own after this many days. */
const RANKING_RETENTION_DAYS = 30;

function encodeCursor(key: Record<string, unknown> | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
}

function decodeCursor(cursor: string | undefined, expectedPk: string): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key && typeof key === 'object' && key.pk === expectedPk && typeof key.sk === 'string') return key;
  } catch {
    // fall through to the error below
  }
  throw new ValidationError('cursor is not valid for the newest detection run: start again without a cursor');
}

export class ClusterRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Writes a run's clusters: reports, ranking, and each member's cluster pointer. */
  async saveRun(runId: string, clusters: DetectedCluster[], detectedAt: string): Promise<void> {
    const expiresAt = Math.floor(Date.parse(detectedAt) / 1000) + RANKING_RETENTION_DAYS * 86_400;
    const writes = clusters.flatMap((cluster) => {
      const report = {
        id: cluster.id,
        runId,
        size: cluster.members.length,
        platforms: cluster.platforms,
        risk: cluster.risk.score,
        members: cluster.members.map(parseAccountKey),
        links: cluster.links.map((link) => ({
          a: parseAccountKey(link.a),
          b: parseAccountKey(link.b),
          weight: link.weight,
          types: [...new Set(link.evidence.map((e) => e.type))].sort(),
          evidence: link.evidence.map((e) => ({ type: e.type, value: e.value, weight: e.weight, observedAt: new Date(e.observedAtMs).toISOString() })),
        })),
        riskReasons: cluster.risk.reasons,
        verdicts: cluster.verdicts,
        detectedAt,
      };
      return [
        { PutRequest: { Item: { pk: clusterPk(cluster.id), sk: SK_REPORT, kind: 'report', runId, body: gzipSync(JSON.stringify(report)) } } },
        {
          PutRequest: {
            Item: {
              pk: rankPk(runId),
              sk: rankSk(cluster.risk.score, cluster.id),
              kind: 'rank',
              id: cluster.id,
              size: cluster.members.length,
              platforms: cluster.platforms,
              platformCount: cluster.platforms.length,
              risk: cluster.risk.score,
              members: cluster.members,
              expiresAt,
            },
          },
        },
        ...cluster.members.map((member) => {
          const ref = parseAccountKey(member);
          return { PutRequest: { Item: { pk: accountPk(ref.platform, ref.account), sk: SK_CLUSTER, kind: 'account-cluster', clusterId: cluster.id, runId } } };
        }),
      ];
    });
    await batchWriteAll(this.db, this.tableName, writes);
  }

  /** A page of a run's clusters, highest risk first. */
  async list(
    runId: string,
    options: { limit: number; cursor?: string; minPlatforms?: number },
  ): Promise<{ clusters: ClusterSummary[]; next: string | null }> {
    const pk = rankPk(runId);
    let startKey = decodeCursor(options.cursor, pk);
    const found: Array<Record<string, unknown>> = [];
    let next: string | null = null;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk, ...(options.minPlatforms ? { ':min': options.minPlatforms } : {}) },
          FilterExpression: options.minPlatforms ? 'platformCount >= :min' : undefined,
          ProjectionExpression: 'pk, sk, id, #size, platforms, risk',
          ExpressionAttributeNames: { '#size': 'size' },
          ExclusiveStartKey: startKey,
          Limit: Math.max(options.limit - found.length, 1) * (options.minPlatforms ? 4 : 1),
        }),
      );
      for (const item of page.Items ?? []) {
        if (found.length === options.limit) break;
        found.push(item);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && found.length < options.limit);
    if (found.length === options.limit && (startKey || found.length > 0)) {
      const last = found[found.length - 1];
      // Only say there is more when the next page is not empty.
      const probe = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk > :sk',
          ExpressionAttributeValues: { ':pk': pk, ':sk': last.sk, ...(options.minPlatforms ? { ':min': options.minPlatforms } : {}) },
          FilterExpression: options.minPlatforms ? 'platformCount >= :min' : undefined,
          ProjectionExpression: 'pk',
          Limit: options.minPlatforms ? 200 : 1,
        }),
      );
      if ((probe.Items?.length ?? 0) > 0 || (options.minPlatforms && probe.LastEvaluatedKey)) next = encodeCursor({ pk: last.pk, sk: last.sk });
    }
    const statuses = await this.statuses(found.map((item) => String(item.id)));
    return {
      clusters: found.map((item) => ({
        id: String(item.id),
        size: Number(item.size),
        platforms: item.platforms as string[],
        risk: Number(item.risk),
        status: statuses.get(String(item.id)) ?? 'new',
      })),
      next,
    };
  }

  /** Every cluster of a run with its members (for stable ids in the next run). */
  async membersOfRun(runId: string): Promise<Array<{ id: string; members: string[] }>> {
    const items = await allItems(this.db, {
      query: { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': rankPk(runId) }, ProjectionExpression: 'id, members' },
    });
    return items.map((item) => ({ id: String(item.id), members: item.members as string[] }));
  }

  /** The newest report of a cluster, with its review status. */
  async report(clusterId: string): Promise<ClusterReport | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: clusterPk(clusterId), sk: SK_REPORT } }));
    if (!result.Item) return undefined;
    const body = JSON.parse(gunzipSync(result.Item.body as Uint8Array).toString('utf8'));
    const status = (await this.statuses([clusterId])).get(clusterId) ?? 'new';
    return { ...body, status };
  }

  /** The cluster an account belonged to in the given run, if any. */
  async clusterOfAccount(ref: AccountRef, runId: string): Promise<string | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: accountPk(ref.platform, ref.account), sk: SK_CLUSTER } }),
    );
    return result.Item && result.Item.runId === runId ? String(result.Item.clusterId) : undefined;
  }

  private async statuses(ids: string[]): Promise<Map<string, ReviewStatus>> {
    const statuses = new Map<string, ReviewStatus>();
    for (let start = 0; start < ids.length; start += 100) {
      let keys: Record<string, unknown>[] = ids.slice(start, start + 100).map((id) => ({ pk: clusterPk(id), sk: SK_REVIEW }));
      for (let round = 0; keys.length > 0; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** Math.min(round, 6)));
        const result = await this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ProjectionExpression: 'pk, #status', ExpressionAttributeNames: { '#status': 'status' } } },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          statuses.set(String(item.pk).slice('CLUSTER#'.length), item.status as ReviewStatus);
        }
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return statuses;
  }
}
