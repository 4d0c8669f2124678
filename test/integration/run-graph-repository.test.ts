/**
 * What a run keeps in the table, on a real DynamoDB API (dynalite): its graph and its component tasks,
 * stored in parts under DynamoDB's item limit however large, read back whole, and a graph whose
 * writing was cut short never read.
 */
import { randomBytes } from 'node:crypto';
import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPk } from '../../lib/graph/keys.js';
import { MAX_OVERLAYS, RunGraphRepository } from '../../lib/graph/run-graph-repository.js';
import { RunRepository } from '../../lib/graph/run-repository.js';
import { encodeGraphOverlay, overlayOf, type RunGraph } from '../../lib/runs/run-graph.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

let local: LocalDynamo;
let db: DynamoDBDocumentClient;
let repository: RunGraphRepository;

beforeAll(async () => {
  local = await startLocalDynamo('run-graph');
  await local.ensureTable();
  db = local.db;
  repository = new RunGraphRepository(db, 'crosslink');
});
afterAll(async () => local?.stop());

/** 20,000 memberships of random (incompressible) identifiers: about a megabyte gzipped. */
function largeGraph(): RunGraph {
  const memberships = Array.from({ length: 20_000 }, (_, i) => ({
    account: `snap#u${i % 7000}`,
    type: 'device' as const,
    value: randomBytes(32).toString('hex'),
    observedAtMs: Date.parse('2026-11-01T00:00:00Z') + i,
    expiresAtS: 1_800_000_000,
  }));
  return { memberships, facts: new Map([['snap#u1', { minorContacts7d: 4 }]]), withdrawnAt: new Map(), components: [['snap#u1', 'snap#u2']], hubs: [] };
}

const graphItems = async (runId: string) =>
  (await db.send(new QueryCommand({ TableName: 'crosslink', KeyConditionExpression: 'pk = :pk AND begins_with(sk, :g)', ExpressionAttributeValues: { ':pk': runPk(runId), ':g': 'GRAPH#' } }))).Items ?? [];

describe('RunGraphRepository', () => {
  it('stores a graph larger than one item in parts and reads it back whole', async () => {
    const graph = largeGraph();
    const { bytes, laidOver } = await repository.put('run-large', graph);
    expect(laidOver).toBeUndefined();

    const items = await graphItems('run-large');
    expect(bytes).toBeGreaterThan(400_000);
    expect(items.length).toBe(Math.ceil(bytes / 350_000) + 1);
    expect(Math.max(...items.map((item) => (item.body as Uint8Array | undefined)?.length ?? 0))).toBeLessThanOrEqual(350_000);
    expect(await repository.get('run-large')).toEqual({ graph, place: { runId: 'run-large', expiresAt: expect.any(Number), overlays: 0 } });
  });

  it('reads nothing for a run that kept no graph, or whose graph was cut short', async () => {
    expect(await repository.get('run-without-graph')).toBeUndefined();

    await repository.put('run-cut', largeGraph());
    await db.send(new DeleteCommand({ TableName: 'crosslink', Key: { pk: runPk('run-cut'), sk: 'GRAPH#00001' } }));
    expect(await repository.get('run-cut')).toBeUndefined();
  });
});

/**
 * The next graph: u1 gains a signal and sees another again (a later expiry), u2 is emptied, u3's facts
 * go, a new account; the component of u1 and u2 is recomputed into one of u1 and the new account.
 */
function nextGraph(graph: RunGraph): { graph: RunGraph; rewritten: string[]; regrouped: string[] } {
  const memberships = graph.memberships
    .filter((m) => m.account !== 'snap#u2')
    .map((m) => (m.account === 'snap#u1' && m === graph.memberships.find((x) => x.account === 'snap#u1') ? { ...m, expiresAtS: m.expiresAtS + 600 } : m));
  memberships.push({ account: 'snap#u1', type: 'phone', value: randomBytes(32).toString('hex'), observedAtMs: Date.parse('2026-11-02T00:00:00Z'), expiresAtS: 1_800_000_000 });
  memberships.push({ account: 'chat#new', type: 'phone', value: memberships[memberships.length - 1].value, observedAtMs: Date.parse('2026-11-02T00:00:00Z'), expiresAtS: 1_800_000_000 });
  const facts = new Map(graph.facts);
  facts.delete('snap#u3');
  facts.set('chat#new', { createdAtMs: Date.parse('2026-11-02T00:00:00Z') });
  return {
    graph: {
      memberships,
      facts,
      withdrawnAt: new Map([['snap#u2', '2026-11-02T00:00:00.000Z']]),
      components: [...graph.components.filter((members) => !members.includes('snap#u1')), ['chat#new', 'snap#u1']],
      hubs: [{ type: 'ip', value: 'nat', accounts: 900, values: ['nat'] }],
    },
    rewritten: ['snap#u1', 'snap#u2', 'snap#u3', 'chat#new'],
    regrouped: ['snap#u1', 'snap#u2', 'chat#new'],
  };
}

/** A graph's content regardless of the order of its memberships. */
const contentOf = (graph: RunGraph) => ({ ...graph, memberships: graph.memberships.map((m) => JSON.stringify(m)).sort() });

describe('RunGraphRepository overlays', () => {
  it("keeps an incremental run's graph as an overlay of the previous run's, a small fraction of its size, and reads the chain back whole", async () => {
    const first = { ...largeGraph(), facts: new Map([['snap#u1', { minorContacts7d: 4 }], ['snap#u3', { reports30d: 1 }]]) };
    const whole = await repository.put('run-whole', first);
    const place = (await repository.get('run-whole'))!.place;
    expect(place).toEqual({ runId: 'run-whole', expiresAt: expect.any(Number), overlays: 0 });

    const second = nextGraph(first);
    const kept = await repository.put('run-second', second.graph, { place, ...second });
    expect(kept.laidOver).toBe('run-whole');
    expect(kept.bytes).toBeLessThan(whole.bytes / 20);
    const read = (await repository.get('run-second'))!;
    expect(contentOf(read.graph)).toEqual(contentOf(second.graph));
    expect(read.place).toEqual({ runId: 'run-second', expiresAt: place.expiresAt, overlays: 1 });
    expect(kept.place).toEqual(read.place);

    // The run after lies over the second run's graph, with only what it changed itself.
    const third = nextGraph(read.graph);
    third.graph.memberships.push({ account: 'snap#u9', type: 'email', value: randomBytes(32).toString('hex'), observedAtMs: 1, expiresAtS: 1_800_000_000 });
    const thirdKept = await repository.put('run-third', third.graph, { place: read.place, rewritten: [...third.rewritten, 'snap#u9'], regrouped: third.regrouped });
    expect(thirdKept.laidOver).toBe('run-second');
    expect(thirdKept.bytes).toBeLessThan(whole.bytes / 20);
    const thirdRead = (await repository.get('run-third'))!;
    expect(contentOf(thirdRead.graph)).toEqual(contentOf(third.graph));
    expect(thirdRead.place).toEqual({ runId: 'run-third', expiresAt: place.expiresAt, overlays: 2 });
  });

  it('carries only the components of the accounts a run regrouped', async () => {
    // Two thousand components of the whole graph, of which the next run recomputes one.
    const components = Array.from({ length: 2000 }, (_, i) => [`snap#u${2 * i + 1}`, `snap#u${2 * i + 2}`]);
    const first: RunGraph = { ...largeGraph(), components };
    await repository.put('run-whole-4', first);
    const place = (await repository.get('run-whole-4'))!.place;
    const next = nextGraph(first);
    const kept = await repository.put('run-regrouped', next.graph, { place, ...next });
    const read = (await repository.get('run-regrouped'))!;
    expect(read.graph.components).toEqual(next.graph.components);
    expect(read.graph.components.length).toBe(2000);
    // Had every account been regrouped, every component would be carried, at the cost of their keys.
    const everyAccount = first.memberships.map((m) => m.account);
    const everyComponent = await repository.put('run-every-component', next.graph, { place, ...next, regrouped: everyAccount });
    expect(kept.bytes).toBeLessThan(everyComponent.bytes - 5_000);
    expect((await repository.get('run-every-component'))!.graph.components).toEqual(next.graph.components);
  });

  it('reads an overlay an earlier version kept (over the last whole graph, every component in it), and lays the next one over it', async () => {
    const first = largeGraph();
    await repository.put('run-whole-5', first);
    const next = nextGraph(first);
    // As the earlier version wrote it: the accounts as a bare list, the graph's every component.
    const bytes = await encodeGraphOverlay(overlayOf(next.graph, next.rewritten));
    const expiresAt = (await repository.get('run-whole-5'))!.place.expiresAt;
    await db.send(new PutCommand({ TableName: 'crosslink', Item: { pk: runPk('run-legacy'), sk: 'GRAPH#00000', kind: 'run-graph', body: bytes, expiresAt } }));
    await db.send(new PutCommand({ TableName: 'crosslink', Item: { pk: runPk('run-legacy'), sk: 'GRAPH#HEAD', kind: 'run-graph', parts: 1, bytes: bytes.length, expiresAt, base: 'run-whole-5' } }));
    const legacy = (await repository.get('run-legacy'))!;
    expect(contentOf(legacy.graph)).toEqual(contentOf(next.graph));
    expect(legacy.place).toEqual({ runId: 'run-legacy', expiresAt, overlays: 1 });
    const after = nextGraph(legacy.graph);
    expect((await repository.put('run-after-legacy', after.graph, { place: legacy.place, ...after })).laidOver).toBe('run-legacy');
    expect(contentOf((await repository.get('run-after-legacy'))!.graph)).toEqual(contentOf(after.graph));
  });

  it('keeps the graph whole when the overlay would be large, its whole graph is near the end of its life, or too many overlays lie under it', async () => {
    const first = largeGraph();
    await repository.put('run-whole-2', first);
    const place = (await repository.get('run-whole-2'))!.place;
    const next = nextGraph(first);
    // A fifth of the accounts or more rewritten: whole.
    const many = [...new Set(first.memberships.map((m) => m.account))].slice(0, 2000);
    expect((await repository.put('run-many', next.graph, { place, ...next, rewritten: [...next.rewritten, ...many] })).laidOver).toBeUndefined();
    expect(contentOf((await repository.get('run-many'))!.graph)).toEqual(contentOf(next.graph));
    // The whole graph expires within the day: whole.
    expect((await repository.put('run-late', next.graph, { place: { ...place, expiresAt: Math.floor(Date.now() / 1000) + 3600 }, ...next })).laidOver).toBeUndefined();
    // A chain of MAX_OVERLAYS overlays: the next graph is whole, and reads back whole.
    let graph = first;
    let at = place;
    for (let n = 1; n <= MAX_OVERLAYS + 1; n++) {
      const step = nextGraph(graph);
      const kept = await repository.put(`run-chain-${n}`, step.graph, { place: at, ...step });
      expect(kept.place.overlays).toBe(n <= MAX_OVERLAYS ? n : 0);
      const read = (await repository.get(`run-chain-${n}`))!;
      expect(contentOf(read.graph)).toEqual(contentOf(step.graph));
      graph = read.graph;
      at = read.place;
    }
  });

  it('reads nothing for an overlay when a graph under it is gone, so that the run reads the table instead', async () => {
    const first = largeGraph();
    await repository.put('run-whole-3', first);
    const next = nextGraph(first);
    const kept = await repository.put('run-over', next.graph, { place: (await repository.get('run-whole-3'))!.place, ...next });
    const after = nextGraph(next.graph);
    await repository.put('run-over-over', after.graph, { place: kept.place, ...after });
    expect(await repository.get('run-over-over')).toBeDefined();
    // The overlay between cut short.
    await db.send(new DeleteCommand({ TableName: 'crosslink', Key: { pk: runPk('run-over'), sk: 'GRAPH#00000' } }));
    expect(await repository.get('run-over-over')).toBeUndefined();
    // The whole graph gone.
    await db.send(new DeleteCommand({ TableName: 'crosslink', Key: { pk: runPk('run-whole-3'), sk: 'GRAPH#HEAD' } }));
    expect(await repository.get('run-over')).toBeUndefined();
  });
});

describe('RunRepository tasks', () => {
  it('stores a task larger than one item (a closure with thousands of accounts) and reads it back whole', async () => {
    const runs = new RunRepository(db, 'crosslink');
    const { memberships, facts } = largeGraph();
    // Account keys alone past 400 KB gzipped: no single item could hold the task's head.
    const core = Array.from({ length: 40_000 }, () => `snap#${randomBytes(12).toString('hex')}`);
    const large = { accounts: core, identifiers: [], core, memberships: memberships.map(({ expiresAtS: _e, ...m }) => m), facts: [...facts], holderTotals: [['ip\u0000nat', 4000]] };
    const small = { accounts: ['snap#u1'], identifiers: ['phone#p1'] };
    await runs.putTasks('run-tasks', [small, large]);

    expect(await runs.getTask('run-tasks', 0)).toEqual(small);
    expect(await runs.getTask('run-tasks', 1)).toEqual(large);
    expect(await runs.getTask('run-tasks', 2)).toBeUndefined();
    const taskItems = (await db.send(new QueryCommand({ TableName: 'crosslink', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': runPk('run-tasks') } }))).Items ?? [];
    expect(taskItems.length).toBeGreaterThan(3);
  });
});
