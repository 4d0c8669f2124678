/**
 * A fanned-out run's splits and merges on the local DynamoDB server (dynalite enforces the 400 KB item
 * limit as DynamoDB does): kept beside the run record, so that a run with many of them still completes,
 * and read back whole, in task order, once per task however often a task is delivered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterLineage } from '../../lib/detect/model.js';
import { runPk, SK_RUN } from '../../lib/graph/keys.js';
import { RunRepository, TASK_COUNTS, type TaskOutcome } from '../../lib/graph/run-repository.js';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { ensureTable, startLocalServers, type LocalServers } from '../../lib/runtime/local/local-servers.js';

const TABLE = 'crosslink';
let home: string;
let servers: LocalServers;
let db: ReturnType<typeof dynamoDocumentClient>;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'crosslink-run-lineage-'));
  servers = await startLocalServers(home);
  await ensureTable(servers.dynamodbEndpoint, TABLE);
  db = dynamoDocumentClient({ dynamodb: servers.dynamodbEndpoint });
});
afterAll(async () => {
  await servers?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** A cluster id as detection makes them: `c` and 16 hex digits. */
const clusterId = (task: number, n: number) => `c${task.toString(16).padStart(4, '0')}${n.toString(16).padStart(12, '0')}`;

/** `count` merges of two previous clusters each, and one split, as a task of number `task` would report them. */
function outcome(task: number, count: number): TaskOutcome {
  return {
    failed: false,
    counts: { clusters: count },
    merges: Array.from({ length: count }, (_, n) => ({ into: clusterId(task, 2 * n), from: [clusterId(task, 2 * n), clusterId(task, 2 * n + 1)] })),
    splits: [{ from: clusterId(task, 1e6), into: [clusterId(task, 1e6), clusterId(task, 1e6 + 1)] }],
  };
}

/** `count` merges with ids that do not compress (hashes, not counters): 20,000 gzip to well over one part. */
function manyMerges(count: number): TaskOutcome {
  const hashedId = (n: number) => `c${createHash('sha256').update(String(n)).digest('hex').slice(0, 16)}`;
  return { failed: false, counts: {}, merges: Array.from({ length: count }, (_, n) => ({ into: hashedId(3 * n), from: [hashedId(3 * n + 1), hashedId(3 * n + 2)] })), splits: [] };
}

/** A run as the coordinator leaves it: `tasks` tasks dispatched, none done. */
async function dispatchedRun(runs: RunRepository, runId: string, tasks: number): Promise<void> {
  expect(await runs.create({ runId, status: 'running', trigger: 'on-demand', startedAt: new Date().toISOString() }, (await runs.latest())?.runId)).toBe(true);
  await runs.finish(runId, { status: 'running', counts: Object.fromEntries(TASK_COUNTS.map((name) => [name, 0])), tasksTotal: tasks, tasksDone: 0, tasksFailed: 0 });
}

describe('Class: RunRepository (lineage)', () => {
  it('completes a run whose tasks merged more clusters than one item holds, and reads every merge and split back in task order', async () => {
    const runs = new RunRepository(db, TABLE);
    await dispatchedRun(runs, 'run-many-merges', 3);
    // 3 x 3,000 merges: about 900 KB as attributes, which the run record held before and could not.
    const outcomes = [0, 1, 2].map((task) => outcome(task, 3_000));
    await runs.completeTask('run-many-merges', 1, outcomes[1], new Date().toISOString());
    // Delivered again: counted once, its lineage not repeated.
    await runs.completeTask('run-many-merges', 1, outcomes[1], new Date().toISOString());
    await runs.completeTask('run-many-merges', 0, outcomes[0], new Date().toISOString());
    const last = await runs.completeTask('run-many-merges', 2, outcomes[2], new Date().toISOString());

    expect(last).toMatchObject({ status: 'succeeded', tasksDone: 3 });
    expect(last.counts).toMatchObject({ clusters: 9_000, clusterMerges: 9_000, clusterSplits: 3 });
    const lineage: ClusterLineage = await runs.lineage(last);
    expect(lineage.merges).toEqual(outcomes.flatMap((o) => o.merges));
    expect(lineage.splits).toEqual(outcomes.flatMap((o) => o.splits));
    // The record itself stays small.
    const record = (await db.send(new GetCommand({ TableName: TABLE, Key: { pk: runPk('run-many-merges'), sk: SK_RUN } }))).Item!;
    expect(JSON.stringify(record).length).toBeLessThan(5_000);
  });

  it('reads back a task whose lineage is stored in several parts, between tasks of one part each', async () => {
    const runs = new RunRepository(db, TABLE);
    await dispatchedRun(runs, 'run-parts', 3);
    const large = manyMerges(20_000);
    await runs.completeTask('run-parts', 0, outcome(0, 2), new Date().toISOString());
    await runs.completeTask('run-parts', 1, large, new Date().toISOString());
    const done = await runs.completeTask('run-parts', 2, outcome(2, 1), new Date().toISOString());

    const stored = await db.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :l)', ExpressionAttributeValues: { ':pk': runPk('run-parts'), ':l': 'LINEAGE#000001#' } }));
    expect(stored.Items!.length).toBeGreaterThan(1);
    expect((await runs.lineage(done)).merges).toEqual([...outcome(0, 2).merges, ...large.merges, ...outcome(2, 1).merges]);
  });

  it('reads a task delivered again whose lineage took fewer parts than its first delivery left', async () => {
    const runs = new RunRepository(db, TABLE);
    await dispatchedRun(runs, 'run-shrunk', 2);
    const first = manyMerges(20_000);
    await runs.completeTask('run-shrunk', 0, first, new Date().toISOString());
    // Delivered again, it found its clusters as the first delivery saved them: one part, over part 0 of the first.
    await runs.completeTask('run-shrunk', 0, outcome(0, 2), new Date().toISOString());
    const stored = await db.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :l)', ExpressionAttributeValues: { ':pk': runPk('run-shrunk'), ':l': 'LINEAGE#000000#' } }));
    expect(stored.Items!.length).toBeGreaterThan(1);
    const done = await runs.completeTask('run-shrunk', 1, outcome(1, 1), new Date().toISOString());
    expect(done.tasksDone).toBe(2);
    expect((await runs.lineage(done)).merges).toEqual([...outcome(0, 2).merges, ...outcome(1, 1).merges]);
    // Grown again (all of the first delivery's parts overwritten): the larger lineage whole.
    await dispatchedRun(runs, 'run-regrown', 1);
    await runs.completeTask('run-regrown', 0, outcome(0, 2), new Date().toISOString());
    const regrown = await runs.completeTask('run-regrown', 0, first, new Date().toISOString());
    expect((await runs.lineage(regrown)).merges).toEqual(first.merges);
  });

  it('reads the lineage a run record holds itself (a run without tasks, or one an earlier version finished)', async () => {
    const runs = new RunRepository(db, TABLE);
    const lineage: ClusterLineage = { kept: ['c-a'], born: [], dissolved: ['c-b'], merges: [{ into: 'c-a', from: ['c-a', 'c-b'] }], splits: [] };
    await dispatchedRun(runs, 'run-inline', 0);
    await runs.finish('run-inline', { status: 'succeeded', finishedAt: new Date().toISOString(), lineage });
    expect(await runs.lineage((await runs.get('run-inline'))!)).toEqual(lineage);
  });

  it('reads what the tasks done so far stored while the run is running, and all of it once it ended', async () => {
    const runs = new RunRepository(db, TABLE);
    await dispatchedRun(runs, 'run-partway', 2);
    await runs.completeTask('run-partway', 0, outcome(0, 2), new Date().toISOString());
    const partway = (await runs.get('run-partway'))!;
    expect((await runs.lineage(partway)).merges).toEqual(outcome(0, 2).merges);
    const done = await runs.completeTask('run-partway', 1, outcome(1, 1), new Date().toISOString());
    expect(done.status).toBe('succeeded');
    // Not the partway answer kept from before: a running run's lineage is read afresh.
    expect((await runs.lineage(done)).merges).toEqual([...outcome(0, 2).merges, ...outcome(1, 1).merges]);
  });
});
