/**
 * What a run keeps in the table, on a real DynamoDB API (dynalite): its graph and its component tasks,
 * stored in parts under DynamoDB's item limit however large, read back whole, and a graph whose
 * writing was cut short never read.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPk } from '../../lib/graph/keys.js';
import { RunGraphRepository } from '../../lib/graph/run-graph-repository.js';
import { RunRepository } from '../../lib/graph/run-repository.js';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { ensureTable, startLocalServers, type LocalServers } from '../../lib/runtime/local/local-servers.js';
import type { RunGraph } from '../../lib/runs/run-graph.js';

let home: string;
let servers: LocalServers;
let db: DynamoDBDocumentClient;
let repository: RunGraphRepository;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'crosslink-run-graph-'));
  servers = await startLocalServers(home);
  await ensureTable(servers.dynamodbEndpoint, 'crosslink');
  db = dynamoDocumentClient({ dynamodb: servers.dynamodbEndpoint });
  repository = new RunGraphRepository(db, 'crosslink');
});
afterAll(async () => {
  await servers?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

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
    const bytes = await repository.put('run-large', graph);

    const items = await graphItems('run-large');
    expect(bytes).toBeGreaterThan(400_000);
    expect(items.length).toBe(Math.ceil(bytes / 350_000) + 1);
    expect(Math.max(...items.map((item) => (item.body as Uint8Array | undefined)?.length ?? 0))).toBeLessThanOrEqual(350_000);
    expect(await repository.get('run-large')).toEqual(graph);
  });

  it('reads nothing for a run that kept no graph, or whose graph was cut short', async () => {
    expect(await repository.get('run-without-graph')).toBeUndefined();

    await repository.put('run-cut', largeGraph());
    await db.send(new DeleteCommand({ TableName: 'crosslink', Key: { pk: runPk('run-cut'), sk: 'GRAPH#00001' } }));
    expect(await repository.get('run-cut')).toBeUndefined();
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
