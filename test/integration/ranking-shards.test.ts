/**
 * The ranking spread over partitions of its index (RANK_SHARDS), on a real DynamoDB API (dynalite):
 * reports go under many partitions, and every reader (the whole ranking, the cluster list, the review
 * queue and its counts) gives the clusters in ranking-key order, each once, page after page, together
 * with the reports an earlier version left under its one partition (`RANK`).
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectClusters } from '../../lib/detect/detect.js';
import type { DetectedCluster } from '../../lib/detect/model.js';
import { ClusterRepository } from '../../lib/graph/cluster-repository.js';
import { clusterPk, RANK_PK, RANK_SHARDS, RANKING_PARTITIONS, rankPkOf, SK_REPORT } from '../../lib/graph/keys.js';
import { ReviewRepository } from '../../lib/graph/review-repository.js';
import { RANKING_INDEX } from '../../lib/graph/table-schema.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

const NOW_MS = Date.parse('2026-11-28T00:00:00Z');
const TABLE = 'crosslink';
let local: LocalDynamo;

beforeAll(async () => {
  local = await startLocalDynamo('ranking-shards');
  await local.ensureTable();
});
afterAll(async () => local?.stop());

/** `count` clusters of two accounts, on one or two platforms, their risks spread over the scale (some equal). */
function clusters(prefix: string, count: number): DetectedCluster[] {
  const [template] = detectClusters(
    { memberships: ['snap#t1', 'wa#t2'].map((account) => ({ account, type: 'phone', value: 'a'.repeat(64), observedAtMs: NOW_MS })), accounts: new Map(), nowMs: NOW_MS },
    { idSeed: 'shards' },
  ).clusters;
  return Array.from({ length: count }, (_, i) => {
    const members = [`snap#${prefix}${i}`, `${i % 3 === 0 ? 'snap' : 'wa'}#${prefix}${i}x`].sort();
    return { ...template, id: `${prefix}-${i}`, members, platforms: [...new Set(members.map((m) => m.split('#')[0]))].sort(), risk: { ...template.risk, score: (i * 7.31) % 60 } };
  });
}

/** Entries of every partition of the ranking index, read one partition at a time, as the table holds them. */
async function indexEntries(): Promise<Array<Record<string, any>>> {
  const all: Array<Record<string, any>> = [];
  for (const partition of RANKING_PARTITIONS) {
    const { Items } = await local.db.send(new QueryCommand({ TableName: TABLE, IndexName: RANKING_INDEX.name, KeyConditionExpression: 'rankPk = :p', ExpressionAttributeValues: { ':p': partition } }));
    all.push(...(Items ?? []));
  }
  return all;
}

describe('The ranking over partitions', () => {
  it('spreads the reports of current clusters over the partitions, each under the one its id gives', async () => {
    const repository = new ClusterRepository(local.db, TABLE);
    const saved = clusters('spread', 120);
    await repository.applyRun('run-spread', { upserts: saved, removed: [] }, '2026-11-28T01:00:00Z');
    const entries = (await indexEntries()).filter((entry) => String(entry.id).startsWith('spread-'));
    expect(entries).toHaveLength(120);
    for (const entry of entries) expect(entry.rankPk).toBe(rankPkOf(String(entry.id)));
    // 120 ids over 16 partitions: every partition holds some (a hash that sent them all to a few would fail).
    expect(new Set(entries.map((entry) => entry.rankPk)).size).toBe(RANK_SHARDS);
  });

  it('reads, lists and queues every cluster once in ranking-key order, page after page, with those an earlier version left under its one partition', async () => {
    const repository = new ClusterRepository(local.db, TABLE);
    const saved = clusters('mixed', 60);
    await repository.applyRun('run-mixed', { upserts: saved, removed: [] }, '2026-11-28T02:00:00Z');
    // As an earlier version wrote them: every third report under the one partition `RANK`.
    const earlier = saved.filter((_, i) => i % 3 === 1).map((cluster) => cluster.id);
    for (const id of earlier) {
      await local.db.send(new UpdateCommand({ TableName: TABLE, Key: { pk: clusterPk(id), sk: SK_REPORT }, UpdateExpression: 'SET rankPk = :old', ExpressionAttributeValues: { ':old': RANK_PK } }));
    }
    expect((await indexEntries()).filter((entry) => entry.rankPk === RANK_PK).map((entry) => entry.id).sort()).toEqual([...earlier].sort());

    // The ranking as the table holds it, partition by partition, sorted here.
    const expected = (await indexEntries()).sort((x, y) => (x.rankSk < y.rankSk ? -1 : 1));
    const whole = await new ClusterRepository(local.db, TABLE, 5).currentClusters();
    expect(whole.map((cluster) => cluster.head.rankSk)).toEqual(expected.map((entry) => entry.rankSk));

    // The list, 7 at a time, with and without a filter (which DynamoDB applies after its page limit).
    for (const minPlatforms of [undefined, 2]) {
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await repository.list({ limit: 7, cursor, minPlatforms });
        expect(page.clusters.length).toBeLessThanOrEqual(7);
        listed.push(...page.clusters.map((cluster) => cluster.id));
        cursor = page.next ?? undefined;
      } while (cursor);
      expect(listed).toEqual(expected.filter((entry) => !minPlatforms || entry.platformCount >= minPlatforms).map((entry) => entry.id));
    }

    const reviews = new ReviewRepository(local.db, TABLE);
    const queued: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await reviews.queue({ minPlatforms: 2 }, { limit: 4, cursor });
      queued.push(...page.clusters.map((cluster) => cluster.id));
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(queued).toEqual(expected.filter((entry) => entry.platformCount >= 2).map((entry) => entry.id));
    expect(await reviews.rankCounts()).toEqual({ total: expected.length, crossPlatform: expected.filter((entry) => entry.platformCount >= 2).length });

    // A report of the earlier partition rewritten (its risk moved) goes under its shard, listed once.
    const moved = { ...saved.find((cluster) => cluster.id === earlier[0])!, risk: { ...saved[0].risk, score: 99 } };
    await repository.applyRun('run-moved', { upserts: [moved], removed: [] }, '2026-11-28T03:00:00Z');
    const after = await repository.currentClusters();
    expect(after.filter((cluster) => cluster.id === moved.id)).toHaveLength(1);
    expect(after[0].id).toBe(moved.id);
    expect((await indexEntries()).find((entry) => entry.id === moved.id)?.rankPk).toBe(rankPkOf(moved.id));
  });
});
