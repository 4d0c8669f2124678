/**
 * Upgrading a table whose ranking was items of its own (before the `ranking` index), on a real DynamoDB
 * API (dynalite): `moveLegacyRanking` against states an earlier version could leave (a save cut off
 * between a cluster's report and its ranking entry; a report this version has written already while a
 * legacy entry of the same key is still there), and the reports' fingerprints of the earlier form.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { detectClusters } from '../../lib/detect/detect.js';
import type { DetectedCluster, Membership } from '../../lib/detect/model.js';
import { ClusterRepository } from '../../lib/graph/cluster-repository.js';
import { rankSk } from '../../lib/graph/keys.js';
import { ReviewRepository } from '../../lib/graph/review-repository.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

const NOW_MS = Date.parse('2026-11-28T00:00:00Z');
let local: LocalDynamo;
let db: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  local = await startLocalDynamo('ranking-migration');
  db = local.db;
});
afterAll(async () => local?.stop());

const phone = (account: string): Membership => ({ account, type: 'phone', value: 'b'.repeat(64), observedAtMs: NOW_MS - 86_400_000 });
const detect = (accounts: string[], previousClusters: Array<{ id: string; members: string[] }> = []) =>
  detectClusters({ memberships: accounts.map(phone), accounts: new Map(), previousClusters, nowMs: NOW_MS }, { idSeed: 'migration' }).clusters;

async function freshTable(): Promise<{ table: string; repository: ClusterRepository }> {
  const table = `legacy-${++tables}`;
  await local.ensureTable(table);
  return { table, repository: new ClusterRepository(db, table) };
}

/** Strips a report written by this version back to an earlier version's shape (no ranking attributes), keeping its rankSk. */
async function asLegacyReport(table: string, id: string): Promise<Record<string, any>> {
  const report = (await db.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk AND sk = :sk', ExpressionAttributeValues: { ':pk': `CLUSTER#${id}`, ':sk': 'REPORT' } }))).Items![0];
  await db.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: report.pk, sk: 'REPORT' },
      UpdateExpression: 'REMOVE rankPk, id, #size, platforms, platformCount, risk, members',
      ExpressionAttributeNames: { '#size': 'size' },
    }),
  );
  return report;
}

/** An earlier version's ranking entry of a cluster (partition RANK). */
async function putLegacyEntry(table: string, cluster: DetectedCluster, fingerprint: string, detectedAt: string): Promise<string> {
  const sk = rankSk(cluster.risk.score, cluster.id);
  await db.send(
    new PutCommand({
      TableName: table,
      Item: { pk: 'RANK', sk, kind: 'rank', id: cluster.id, size: cluster.members.length, platforms: cluster.platforms, platformCount: cluster.platforms.length, risk: cluster.risk.score, members: cluster.members, fingerprint, detectedAt },
    }),
  );
  return sk;
}

describe('upgrading to the ranking index', () => {
  it('refuses a local table kept from before the ranking index, saying what to do (dynalite cannot add an index)', async () => {
    // The table as versions before the index created it: keys and gsi1 only.
    const attribute = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
    const keyed = (hash: string, range: string) => [
      { AttributeName: hash, KeyType: 'HASH' as const },
      { AttributeName: range, KeyType: 'RANGE' as const },
    ];
    const gsi1 = { IndexName: 'gsi1', KeySchema: keyed('gsi1pk', 'gsi1sk'), Projection: { ProjectionType: 'ALL' as const } };
    await db.send(
      new CreateTableCommand({ TableName: 'before-index', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map(attribute), KeySchema: keyed('pk', 'sk'), GlobalSecondaryIndexes: [gsi1] }),
    );
    await expect(local.ensureTable('before-index')).rejects.toThrow(/the local table before-index predates the ranking index \(ranking\).*move the state folder's dynamodb directory aside/);
    // A table of today's layout is taken as it is.
    await local.ensureTable('current-layout');
    await expect(local.ensureTable('current-layout')).resolves.toBeUndefined();
  });

  it('keeps a current cluster whose earlier-version save was cut off after its report and before its new ranking entry', async () => {
    const { table, repository } = await freshTable();
    const [cluster] = detect(['snap#m1', 'wa#m2']);
    // The earlier version's first save, complete: report and entry.
    await repository.applyRun('run-1', { upserts: [cluster], removed: [] }, '2026-11-28T01:00:00Z');
    const first = await asLegacyReport(table, cluster.id);
    await putLegacyEntry(table, cluster, first.fingerprint, first.detectedAt);
    // Its second save (the cluster grew, its risk moved) wrote the report only, then was cut off: the
    // entry under the new risk never landed, the old one is still there (puts went before deletes).
    const [grown] = detect(['snap#m1', 'wa#m2', 'fb#m3'], [cluster]);
    expect(grown.id).toBe(cluster.id);
    expect(rankSk(grown.risk.score, grown.id)).not.toBe(rankSk(cluster.risk.score, cluster.id));
    await repository.applyRun('run-2', { upserts: [grown], removed: [], previous: [] }, '2026-11-28T02:00:00Z');
    await asLegacyReport(table, cluster.id);
    // Before the index, the earlier version listed this cluster (by its old entry) and kept its id.

    await repository.moveLegacyRanking();
    expect((await repository.currentClusters()).map((c) => c.id)).toContain(cluster.id);
    expect(await repository.clusterOfAccount({ platform: 'wa', account: 'm2' })).toBe(cluster.id);
  });

  it('does not overwrite a report this version wrote with a legacy entry of the same ranking key', async () => {
    const { table, repository } = await freshTable();
    const [cluster] = detect(['snap#n1', 'wa#n2']);
    await repository.applyRun('run-1', { upserts: [cluster], removed: [] }, '2026-11-28T01:00:00Z');
    const first = await asLegacyReport(table, cluster.id);
    const sk = await putLegacyEntry(table, cluster, first.fingerprint, first.detectedAt);
    // A task of a run an earlier version coordinated, run by this version (or an earlier save cut off
    // between report and entry): the cluster gains a member at the same risk; the report is written
    // with the ranking attributes, and the legacy entry of that key is still there.
    const [grown] = detect(['snap#n1', 'wa#n2', 'fb#n3'], [cluster]);
    const sameRisk = { ...grown, risk: cluster.risk };
    await repository.applyRun('run-2', { upserts: [sameRisk], removed: [], previous: [{ id: cluster.id, members: cluster.members, head: { rankSk: sk, fingerprint: first.fingerprint } }] }, '2026-11-28T02:00:00Z');
    expect((await repository.currentClusters()).find((c) => c.id === cluster.id)?.members).toEqual(['fb#n3', 'snap#n1', 'wa#n2']);

    await repository.moveLegacyRanking();
    expect((await repository.currentClusters()).find((c) => c.id === cluster.id)?.members).toEqual(['fb#n3', 'snap#n1', 'wa#n2']);
    expect(await repository.clusterOfAccount({ platform: 'fb', account: 'n3' })).toBe(cluster.id);
  });

  it("keeps an unchanged cluster's detectedAt across the upgrade (its report's fingerprint is the earlier version's)", async () => {
    const { table, repository } = await freshTable();
    const [cluster] = detect(['snap#p1', 'wa#p2']);
    await repository.applyRun('run-1', { upserts: [cluster], removed: [] }, '2026-11-28T01:00:00Z');
    // The earlier version's fingerprint (lib/graph/cluster-repository.ts at 173cbfb).
    const links = cluster.links.map((link) => `${link.a}|${link.b}|${link.weight.toFixed(6)}`).sort();
    const legacyFingerprint = createHash('sha256').update(JSON.stringify([cluster.members, cluster.risk.score, cluster.risk.reasons.map((reason) => reason.detail), links, cluster.verdicts])).digest('hex');
    await asLegacyReport(table, cluster.id);
    await db.send(new UpdateCommand({ TableName: table, Key: { pk: `CLUSTER#${cluster.id}`, sk: 'REPORT' }, UpdateExpression: 'SET fingerprint = :f', ExpressionAttributeValues: { ':f': legacyFingerprint } }));
    await putLegacyEntry(table, cluster, legacyFingerprint, '2026-11-28T01:00:00Z');
    expect(await repository.moveLegacyRanking()).toBe(1);

    // The first run after the upgrade detects the same cluster.
    await repository.applyRun('run-2', { upserts: [cluster], removed: [], previous: await repository.currentClusters() }, '2026-11-28T09:00:00Z');
    const reviews = new ReviewRepository(db, table);
    // Detection did not change it: the console's "updated since" filter leaves it out.
    expect((await reviews.queue({ updatedSince: '2026-11-28T05:00:00Z' }, { limit: 10 })).clusters).toEqual([]);
    expect((await repository.list({ limit: 10 })).clusters[0].detectedAt).toBe('2026-11-28T01:00:00Z');
  });
});
