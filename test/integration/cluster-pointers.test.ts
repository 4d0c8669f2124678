/**
 * Cluster reports applied in place on a real DynamoDB API (dynalite): an account's pointer to its
 * cluster is written when it joins the cluster, not again every time the cluster changes; the ranking
 * is the index over current clusters' reports, so a save writes one item per cluster besides pointers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectClusters } from '../../lib/detect/detect.js';
import type { Membership } from '../../lib/detect/model.js';
import { ClusterRepository } from '../../lib/graph/cluster-repository.js';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withPreviousClusters } from '../../lib/runs/detection-runner.js';
import { accountPk, SK_CLUSTER } from '../../lib/graph/keys.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';
import { gluedCluster, joinsAll } from '../support/glued-cluster.js';

const NOW_MS = Date.parse('2026-11-28T00:00:00Z');
let local: LocalDynamo;
let repository: ClusterRepository;
let db: DynamoDBDocumentClient;
/** Account-pointer items sent in BatchWriteItem requests since the last reset. */
let pointerWrites = 0;
/** Report heads asked for in BatchGetItem requests since the last reset. */
let reportReads = 0;
/** Items (puts and deletes) sent in BatchWriteItem requests since the last reset. */
let itemWrites = 0;
/** While set, every BatchWriteItem request that writes an item of this partition fails (a save cut off there). */
let failWritesOf: string | undefined;

beforeAll(async () => {
  local = await startLocalDynamo('pointers');
  await local.ensureTable();
  db = local.db;
  db.middlewareStack.add(
    (next) => async (args) => {
      const items = Object.values((args.input as { RequestItems?: Record<string, Array<{ PutRequest?: { Item: { kind?: string; pk?: string } } }>> }).RequestItems ?? {}).flat();
      if (failWritesOf && items.some((item) => item.PutRequest?.Item.pk === failWritesOf)) throw new Error('injected: the save was cut off');
      pointerWrites += items.filter((item) => item.PutRequest?.Item.kind === 'account-cluster').length;
      itemWrites += items.filter((item) => 'PutRequest' in item || 'DeleteRequest' in item).length;
      const keys = Object.values((args.input as { RequestItems?: Record<string, { Keys?: Array<{ sk?: string }> }> }).RequestItems ?? {}).flatMap((request) => request.Keys ?? []);
      reportReads += keys.filter((key) => key.sk === 'REPORT').length;
      return next(args);
    },
    { step: 'initialize', name: 'countPointerWrites' },
  );
  repository = new ClusterRepository(db, 'crosslink');
});
afterAll(async () => local?.stop());

const phone = (account: string): Membership => ({ account, type: 'phone', value: 'a'.repeat(64), observedAtMs: NOW_MS - 86_400_000 });
const detect = (accounts: string[], previousClusters: Array<{ id: string; members: string[] }> = []) =>
  detectClusters({ memberships: accounts.map(phone), accounts: new Map(), previousClusters, nowMs: NOW_MS }, { idSeed: 'pointers' }).clusters;

describe('Class: ClusterRepository, account pointers', () => {
  it('writes a pointer for each new member only, and every member still finds its cluster', async () => {
    const first = detect(['snap#a', 'wa#b', 'fb#c']);
    pointerWrites = 0;
    itemWrites = 0;
    const initial = await repository.applyRun('run-1', { upserts: first, removed: [] }, '2026-11-28T01:00:00Z');
    expect(pointerWrites).toBe(3);
    // Its report (which the ranking index lists) and a pointer per member.
    expect(initial.itemsWritten).toBe(4);
    expect(itemWrites).toBe(4);

    // One more profile: the cluster keeps its id and changes (new member, new links, new risk).
    const previous = await repository.clustersOfAccounts(['snap#a', 'wa#b', 'fb#c', 'insta#d']);
    const second = detect(['snap#a', 'wa#b', 'fb#c', 'insta#d'], previous);
    expect(second[0].id).toBe(first[0].id);
    pointerWrites = 0;
    reportReads = 0;
    itemWrites = 0;
    const saved = await repository.applyRun('run-2', { upserts: second, removed: [], previous }, '2026-11-28T02:00:00Z');

    expect(saved.written).toBe(1);
    expect(pointerWrites).toBe(1);
    // The report (listed under its new risk in the same write) and one pointer.
    expect(second[0].risk.score).not.toBe(first[0].risk.score);
    expect(saved.itemsWritten).toBe(2);
    expect(itemWrites).toBe(2);
    const listed = (await repository.currentClusters()).filter((c) => c.id === first[0].id);
    expect(listed.map((c) => c.members)).toEqual([['fb#c', 'insta#d', 'snap#a', 'wa#b']]);
    // The head read with the previous clusters is not read again.
    expect(reportReads).toBe(0);
    for (const account of ['a', 'b', 'c']) expect(await repository.clusterOfAccount({ platform: ['snap', 'wa', 'fb'][['a', 'b', 'c'].indexOf(account)], account })).toBe(first[0].id);
    expect(await repository.clusterOfAccount({ platform: 'insta', account: 'd' })).toBe(first[0].id);
  });

  it('leaves a cluster whose content did not change, judged from the head read with the previous clusters', async () => {
    const previous = await repository.clustersOfAccounts(['snap#a']);
    const same = detect(['snap#a', 'wa#b', 'fb#c', 'insta#d'], previous);
    reportReads = 0;
    itemWrites = 0;
    const saved = await repository.applyRun('run-2b', { upserts: same, removed: [], previous }, '2026-11-28T02:30:00Z');
    expect(saved).toMatchObject({ written: 0, unchanged: 1, removed: 0, itemsWritten: 0 });
    expect(itemWrites).toBe(0);
    expect(reportReads).toBe(0);
  });

  it('finds the same clusters and heads by reading the whole ranking as through the pointers', async () => {
    const others = detect(['gamehub#x', 'clip#y']).map((cluster) => ({ ...cluster, id: 'c-other' }));
    await repository.applyRun('run-2c', { upserts: others, removed: [] }, '2026-11-28T02:40:00Z');
    const accounts = ['wa#b', 'nobody#z'];
    const byPointers = await repository.clustersOfAccounts(accounts);
    reportReads = 0;
    // As a run gives its tasks their clusters: from one read of the whole ranking.
    const [task] = withPreviousClusters([{ accounts, identifiers: [], memberships: [], facts: [] }], await repository.currentClusters());
    const byRanking = task.previous!;
    expect(reportReads).toBe(0);
    expect(byRanking).toEqual(byPointers);
    expect(byRanking.map((cluster) => cluster.members)).toEqual([['fb#c', 'insta#d', 'snap#a', 'wa#b']]);
    expect(byRanking[0].head!.fingerprint).toMatch(/^w3:[0-9a-f]{64}$/);
  });

  it("leaves out the cluster an account's pointer still names after the account left it, as the ranking does", async () => {
    const first = detect(['chat#p', 'chat#q', 'chat#r']);
    await repository.applyRun('run-left-1', { upserts: first, removed: [] }, '2026-11-28T02:50:00Z');
    // The cluster goes on without chat#p (withdrawn, say), under the same id.
    const previous = await repository.clustersOfAccounts(['chat#p', 'chat#q', 'chat#r']);
    const second = detect(['chat#q', 'chat#r'], previous);
    expect(second[0].id).toBe(first[0].id);
    await repository.applyRun('run-left-2', { upserts: second, removed: [], previous }, '2026-11-28T02:55:00Z');
    // Pointers are written when an account joins, not deleted when it leaves: chat#p's still names the cluster.
    const pointer = await db.send(new GetCommand({ TableName: 'crosslink', Key: { pk: accountPk('chat', 'p'), sk: SK_CLUSTER } }));
    expect(pointer.Item?.clusterId).toBe(first[0].id);

    // A task's previous clusters are those its accounts are in: read through the pointers or from the ranking, none for chat#p.
    expect(await repository.clustersOfAccounts(['chat#p'])).toEqual([]);
    const [task] = withPreviousClusters([{ accounts: ['chat#p'], identifiers: [], memberships: [], facts: [] }], await repository.currentClusters());
    expect(task.previous).toEqual([]);
    expect(await repository.clusterOfAccount({ platform: 'chat', account: 'p' })).toBeUndefined();
    // Its members still find it.
    expect((await repository.clustersOfAccounts(['chat#p', 'chat#q'])).map((cluster) => cluster.members)).toEqual([['chat#q', 'chat#r']]);
  });

  it('reads a dissolved cluster\'s report once, keeps it whole and marked removed, and takes it out of the ranking', async () => {
    const [cluster] = detect(['snap#p', 'wa#q']);
    await repository.applyRun('run-4', { upserts: [cluster], removed: [] }, '2026-11-28T04:00:00Z');
    const before = await repository.report(cluster.id);

    // Its head is not known beforehand (no previous clusters given): the one read of the report serves both.
    reportReads = 0;
    itemWrites = 0;
    // The report put back marked removed, out of the ranking by the same write.
    expect(await repository.applyRun('run-5', { upserts: [], removed: [cluster.id] }, '2026-11-28T05:00:00Z')).toMatchObject({ written: 0, unchanged: 0, removed: 1, itemsWritten: 1 });
    expect(itemWrites).toBe(1);
    expect(reportReads).toBe(1);
    expect(await repository.report(cluster.id)).toEqual({ ...before, removedAt: '2026-11-28T05:00:00Z', removedInRun: 'run-5' });
    expect((await repository.currentClusters()).map((c) => c.id)).not.toContain(cluster.id);
    // Dissolving it again changes nothing.
    expect(await repository.applyRun('run-6', { upserts: [], removed: [cluster.id] }, '2026-11-28T06:00:00Z')).toMatchObject({ written: 0, unchanged: 0, removed: 0, itemsWritten: 0 });
    expect((await repository.report(cluster.id))?.removedInRun).toBe('run-5');
  });

  it('reads a ranking of many pages, its partitions side by side, in the order one read gives', async () => {
    const [template] = detect(['snap#r1', 'wa#r2']);
    // Risks spread over the whole scale, several per risk point, some on the boundaries (0 and 100).
    const spread = Array.from({ length: 150 }, (_, i) => ({ ...template, id: `ranked-${i}`, members: [`snap#r${i}`, `wa#r${i}`], risk: { ...template.risk, score: i < 2 ? i * 100 : (i * 37.123) % 100 } }));
    await repository.applyRun('run-ranked', { upserts: spread, removed: [] }, '2026-11-28T07:00:00Z');

    const whole = await repository.currentClusters();
    const paged = await new ClusterRepository(db, 'crosslink', 4).currentClusters();
    expect(paged).toEqual(whole);
    expect(paged.map((cluster) => cluster.id)).toEqual(expect.arrayContaining(spread.map((cluster) => cluster.id)));
    const keys = paged.map((cluster) => cluster.head.rankSk!);
    expect(keys).toEqual([...keys].sort());
  });

  it('writes every pointer when it is not told what was stored', async () => {
    const previous = await repository.clustersOfAccounts(['snap#a']);
    const third = detect(['snap#a', 'wa#b', 'fb#c', 'insta#d', 'tiktok#e'], previous);
    pointerWrites = 0;
    await repository.applyRun('run-3', { upserts: third, removed: [] }, '2026-11-28T03:00:00Z');
    expect(pointerWrites).toBe(5);
  });
  it('lists every cluster once, as before or as after, when a save is cut off halfway; the next save completes it', async () => {
    const clusters = [detect(['snap#f1', 'wa#f2'])[0], { ...detect(['snap#h1', 'wa#h2'])[0], id: 'c-second' }];
    await repository.applyRun('run-f1', { upserts: clusters, removed: [] }, '2026-11-28T08:00:00Z');
    const accounts = ['snap#f1', 'snap#h1'];
    const previous = await repository.clustersOfAccounts(accounts);
    const grown = [detect(['snap#f1', 'wa#f2', 'fb#f3'], previous)[0], { ...detect(['snap#h1', 'wa#h2', 'fb#h3'])[0], id: 'c-second' }];
    expect(grown[0].id).toBe(clusters[0].id);

    // Each cluster's report goes in a call of its own; the second cluster's fails.
    const parted = new ClusterRepository(db, 'crosslink', undefined, 1);
    failWritesOf = 'CLUSTER#c-second';
    try {
      await expect(parted.applyRun('run-f2', { upserts: grown, removed: [], previous }, '2026-11-28T09:00:00Z')).rejects.toThrow(/cut off/);
    } finally {
      failWritesOf = undefined;
    }
    const membersOf = async () => (await repository.currentClusters()).filter((c) => c.id === clusters[0].id || c.id === 'c-second').map((c) => [c.id, c.members.length]);
    expect((await membersOf()).sort()).toEqual([[clusters[0].id, 3], ['c-second', 2]].sort());

    const again = await repository.clustersOfAccounts(accounts);
    expect(await repository.applyRun('run-f3', { upserts: grown, removed: [], previous: again }, '2026-11-28T10:00:00Z')).toMatchObject({ written: 1, unchanged: 1 });
    expect((await membersOf()).sort()).toEqual([[clusters[0].id, 3], ['c-second', 3]].sort());
    expect(await repository.clusterOfAccount({ platform: 'fb', account: 'h3' })).toBe('c-second');
  });

  it('stores weights to 3 decimals and rewrites a report only when a weight moves at the third (a link\'s or one of its evidence\'s)', async () => {
    const [cluster] = detect(['snap#w1', 'wa#w2']);
    const base = { ...cluster, links: cluster.links.map((link) => ({ ...link, weight: 0.8124, evidence: link.evidence.map((e) => ({ ...e, weight: 0.4064 })) })) };
    await repository.applyRun('run-w1', { upserts: [base], removed: [] }, '2026-11-28T15:00:00Z');
    const stored = await repository.report(cluster.id);
    expect(stored!.links[0].weight).toBe(0.812);
    expect(stored!.links[0].evidence[0].weight).toBe(0.406);
    const moved = (weight: number, evidenceWeight: number) => ({ ...base, links: base.links.map((link) => ({ ...link, weight, evidence: link.evidence.map((e) => ({ ...e, weight: evidenceWeight })) })) });
    const save = async (runId: string, upsert: typeof base) => repository.applyRun(runId, { upserts: [upsert], removed: [], previous: await repository.clustersOfAccounts(['snap#w1']) }, '2026-11-28T16:00:00Z');

    // Drift below the third decimal: the same report, left alone (its detectedAt with it).
    expect(await save('run-w2', moved(0.8121, 0.4061))).toMatchObject({ written: 0, unchanged: 1, itemsWritten: 0 });
    // The link's weight moves at the third decimal; then only an evidence weight does.
    expect(await save('run-w3', moved(0.8134, 0.4061))).toMatchObject({ written: 1, unchanged: 0 });
    expect(await save('run-w4', moved(0.8134, 0.4071))).toMatchObject({ written: 1, unchanged: 0 });
    expect((await repository.report(cluster.id))!.links[0]).toMatchObject({ weight: 0.813, evidence: [expect.objectContaining({ weight: 0.407 })] });
  });

  it("stores a cluster whose report is over DynamoDB's item limit with every member and the most links that fit, a chain to every member among them, saying how many it has", async () => {
    const members = Array.from({ length: 3_000 }, (_, i) => `chatapp#account-number-${String(i).padStart(8, '0')}`);
    const glued = gluedCluster('c-glued', members);
    pointerWrites = 0;

    const saved = await repository.applyRun('run-glued', { upserts: [glued], removed: [] }, '2026-11-28T14:00:00Z');

    expect(saved).toMatchObject({ written: 1, trimmed: 1 });
    expect(pointerWrites).toBe(members.length);
    expect(await repository.clusterOfAccount({ platform: 'chatapp', account: 'account-number-00002999' })).toBe('c-glued');
    const report = (await repository.report('c-glued'))!;
    expect(report.members).toHaveLength(members.length);
    expect(report.linksTotal).toBe(glued.links.length);
    expect(report.links.length).toBeLessThan(glued.links.length);
    const kept = report.links.map((link) => ({ a: `${link.a.platform}#${link.a.account}`, b: `${link.b.platform}#${link.b.account}` }));
    // The strongest links alone join only the even-numbered members; the weak chain to the others is kept first.
    expect(joinsAll(members, kept)).toBe(true);
    expect(joinsAll(members, [...glued.links].sort((x, y) => y.weight - x.weight).slice(0, report.links.length))).toBe(false);
    // The rest are the strongest: a chain to every member takes at most one link per member but the first,
    // so at least that many fewer than were kept are the strongest of all.
    const keptKeys = new Set(kept.map((link) => `${link.a}|${link.b}`));
    const strongest = [...glued.links].sort((x, y) => y.weight - x.weight).slice(0, report.links.length - (members.length - 1));
    expect(strongest.length).toBeGreaterThan(200);
    expect(strongest.filter((link) => !keptKeys.has(`${link.a}|${link.b}`))).toEqual([]);
    // Filled to near the limit (DynamoDB's, which the local server enforces): the most that fit.
    const item = (await db.send(new GetCommand({ TableName: 'crosslink', Key: { pk: 'CLUSTER#c-glued', sk: 'REPORT' } }))).Item!;
    expect((item.body as Uint8Array).byteLength + members.length * 32).toBeGreaterThan(390 * 1024);
  });

  it("refuses a cluster whose member list alone is over DynamoDB's item limit, naming it and what to change, and writes nothing of it", async () => {
    const members = Array.from({ length: 12_000 }, (_, i) => `chatapp#account-number-${String(i).padStart(8, '0')}`);
    const [template] = detect(['snap#big1', 'wa#big2']);
    const giant = { ...template, id: 'c-giant', members, links: members.slice(1).map((b, i) => ({ ...template.links[0], a: members[i], b })) };
    pointerWrites = 0;
    await expect(repository.applyRun('run-giant', { upserts: [giant], removed: [] }, '2026-11-28T14:00:00Z')).rejects.toThrow(
      /cluster c-giant has 12000 accounts: its report \(\d+ KB with its ranking entry, without a single link\) is over DynamoDB's 400 KB item limit.*lower the hub threshold/,
    );
    expect(pointerWrites).toBe(0);
    expect(await repository.report('c-giant')).toBeUndefined();
  });

  it('moves a ranking kept as items of its own onto the reports: current entries moved, stale and dissolved ones deleted', async () => {
    const legacyTable = 'crosslink-legacy';
    await local.ensureTable(legacyTable);
    const legacy = new ClusterRepository(db, legacyTable);
    const [kept, stale, dissolved] = [detect(['snap#l1', 'wa#l2'])[0], { ...detect(['snap#l3', 'wa#l4'])[0], id: 'c-stale' }, { ...detect(['snap#l5', 'wa#l6'])[0], id: 'c-gone' }];
    await legacy.applyRun('run-l1', { upserts: [kept, stale, dissolved], removed: [] }, '2026-11-28T13:00:00Z');
    await legacy.applyRun('run-l2', { upserts: [], removed: ['c-gone'] }, '2026-11-28T13:30:00Z');
    const current = await legacy.currentClusters();
    const listed = await legacy.list({ limit: 10 });
    // As an earlier version stored them: reports without the ranking's attributes, and an entry per
    // current cluster under pk RANK (plus a stale duplicate and a dissolved cluster's leftover entry).
    const entries: Array<Record<string, unknown>> = [];
    for (const cluster of [kept, stale, dissolved]) {
      const report = (await db.send(new QueryCommand({ TableName: legacyTable, KeyConditionExpression: 'pk = :pk AND sk = :sk', ExpressionAttributeValues: { ':pk': `CLUSTER#${cluster.id}`, ':sk': 'REPORT' } }))).Items![0];
      const rankSk = String(report.rankSk ?? `0500000#${cluster.id}`);
      await db.send(
        new UpdateCommand({
          TableName: legacyTable,
          Key: { pk: report.pk, sk: 'REPORT' },
          UpdateExpression: `REMOVE rankPk, id, #size, platforms, platformCount, risk, members SET rankSk = :rankSk`,
          ExpressionAttributeNames: { '#size': 'size' },
          ExpressionAttributeValues: { ':rankSk': rankSk },
        }),
      );
      entries.push({ pk: 'RANK', sk: rankSk, kind: 'rank', id: cluster.id, size: cluster.members.length, platforms: cluster.platforms, platformCount: cluster.platforms.length, risk: cluster.risk.score, members: cluster.members, fingerprint: report.fingerprint, detectedAt: report.detectedAt });
    }
    entries.push({ ...entries[1], sk: `0999999#c-stale`, members: ['snap#l3'] });
    for (const entry of entries) await db.send(new PutCommand({ TableName: legacyTable, Item: entry }));
    expect(await legacy.currentClusters()).toEqual([]);

    expect(await legacy.moveLegacyRanking()).toBe(2);
    expect(await legacy.currentClusters()).toEqual(current);
    expect(await legacy.list({ limit: 10 })).toEqual(listed);
    expect(await legacy.clusterOfAccount({ platform: 'wa', account: 'l4' })).toBe('c-stale');
    expect(await legacy.clusterOfAccount({ platform: 'wa', account: 'l6' })).toBeUndefined();
    const left = await db.send(new QueryCommand({ TableName: legacyTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'RANK' } }));
    expect(left.Items).toEqual([]);
    // Nothing left to move.
    expect(await legacy.moveLegacyRanking()).toBe(0);
  });
});
