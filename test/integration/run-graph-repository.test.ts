/**
 * What a run keeps in the table, on a real DynamoDB API (dynalite): its graph and its component tasks,
 * stored in parts under DynamoDB's item limit however large, read back whole, and a graph whose
 * writing was cut short never read.
 */
import { randomBytes } from 'node:crypto';
import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPk } from '../../lib/graph/keys.js';
import { RunGraphRepository } from '../../lib/graph/run-graph-repository.js';
import { RunRepository } from '../../lib/graph/run-repository.js';
import type { RunGraph } from '../../lib/runs/run-graph.js';
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
    expect(await repository.get('run-large')).toEqual({ graph, base: { runId: 'run-large', expiresAt: expect.any(Number), rewritten: [] } });
  });

  it('reads nothing for a run that kept no graph, or whose graph was cut short', async () => {
    expect(await repository.get('run-without-graph')).toBeUndefined();

    await repository.put('run-cut', largeGraph());
    await db.send(new DeleteCommand({ TableName: 'crosslink', Key: { pk: runPk('run-cut'), sk: 'GRAPH#00001' } }));
    expect(await repository.get('run-cut')).toBeUndefined();
  });
});

/** The next graph: u1 gains a signal and sees another again (a later expiry), u2 is emptied, u3's facts go, a new account. */
function nextGraph(graph: RunGraph): { graph: RunGraph; rewritten: string[] } {
  const memberships = graph.memberships
    .filter((m) => m.account !== 'snap#u2')
    .map((m) => (m.account === 'snap#u1' && m === graph.memberships.find((x) => x.account === 'snap#u1') ? { ...m, expiresAtS: m.expiresAtS + 600 } : m));
  memberships.push({ account: 'snap#u1', type: 'phone', value: randomBytes(32).toString('hex'), observedAtMs: Date.parse('2026-11-02T00:00:00Z'), expiresAtS: 1_800_000_000 });
  memberships.push({ account: 'chat#new', type: 'phone', value: memberships[memberships.length - 1].value, observedAtMs: Date.parse('2026-11-02T00:00:00Z'), expiresAtS: 1_800_000_000 });
  const facts = new Map(graph.facts);
  facts.delete('snap#u3');
  facts.set('chat#new', { createdAtMs: Date.parse('2026-11-02T00:00:00Z') });
  return {
    graph: { memberships, facts, withdrawnAt: new Map([['snap#u2', '2026-11-02T00:00:00.000Z']]), components: [['chat#new', 'snap#u1']], hubs: [{ type: 'ip', value: 'nat', accounts: 900, values: ['nat'] }] },
    rewritten: ['snap#u1', 'snap#u2', 'snap#u3', 'chat#new'],
  };
}

/** A graph's content regardless of the order of its memberships. */
const contentOf = (graph: RunGraph) => ({ ...graph, memberships: graph.memberships.map((m) => JSON.stringify(m)).sort() });

describe('RunGraphRepository overlays', () => {
  it("keeps an incremental run's graph as an overlay of the last whole one, a small fraction of its size, and reads it back whole", async () => {
    const first = { ...largeGraph(), facts: new Map([['snap#u1', { minorContacts7d: 4 }], ['snap#u3', { reports30d: 1 }]]) };
    const whole = await repository.put('run-whole', first);
    const base = (await repository.get('run-whole'))!.base;

    const second = nextGraph(first);
    const kept = await repository.put('run-second', second.graph, { ...base, rewritten: second.rewritten });
    expect(kept.laidOver).toBe('run-whole');
    expect(kept.bytes).toBeLessThan(whole.bytes / 20);
    const read = (await repository.get('run-second'))!;
    expect(contentOf(read.graph)).toEqual(contentOf(second.graph));
    expect(read.base).toEqual({ runId: 'run-whole', expiresAt: base.expiresAt, rewritten: second.rewritten });

    // The run after lies over the same whole graph, with the accounts rewritten by both.
    const third = nextGraph(read.graph);
    third.graph.memberships.push({ account: 'snap#u9', type: 'email', value: randomBytes(32).toString('hex'), observedAtMs: 1, expiresAtS: 1_800_000_000 });
    expect((await repository.put('run-third', third.graph, { ...read.base, rewritten: [...read.base.rewritten, ...third.rewritten, 'snap#u9'] })).laidOver).toBe('run-whole');
    expect(contentOf((await repository.get('run-third'))!.graph)).toEqual(contentOf(third.graph));
  });

  it('keeps the graph whole when the overlay would be large or its whole graph is near the end of its life', async () => {
    const first = largeGraph();
    await repository.put('run-whole-2', first);
    const base = (await repository.get('run-whole-2'))!.base;
    const next = nextGraph(first);
    // A fifth of the accounts or more rewritten: whole.
    const many = [...new Set(first.memberships.map((m) => m.account))].slice(0, 2000);
    expect((await repository.put('run-many', next.graph, { ...base, rewritten: [...next.rewritten, ...many] })).laidOver).toBeUndefined();
    expect(contentOf((await repository.get('run-many'))!.graph)).toEqual(contentOf(next.graph));
    // The whole graph expires within the day: whole.
    expect((await repository.put('run-late', next.graph, { ...base, expiresAt: Math.floor(Date.now() / 1000) + 3600, rewritten: next.rewritten })).laidOver).toBeUndefined();
  });

  it('reads nothing for an overlay whose whole graph is gone, so that the run reads the table instead', async () => {
    const first = largeGraph();
    await repository.put('run-whole-3', first);
    const next = nextGraph(first);
    await repository.put('run-over-gone', next.graph, { ...(await repository.get('run-whole-3'))!.base, rewritten: next.rewritten });
    await db.send(new DeleteCommand({ TableName: 'crosslink', Key: { pk: runPk('run-whole-3'), sk: 'GRAPH#HEAD' } }));
    expect(await repository.get('run-over-gone')).toBeUndefined();
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
