/**
 * The run lifecycle on the local stack (real dynalite and local-aws-sqs): concurrent starts, a task
 * delivered twice, a stale run's late tasks, a previous cluster split across a full run's tasks, and
 * the wait for the ranking index to catch up with the previous run's save.
 * Runs that need their tasks held back use a runner over the stack's table whose task queue only records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentLoader } from '../../lib/graph/component-loader.js';
import { RunGraphRepository } from '../../lib/graph/run-graph-repository.js';
import { DetectionRunner, type DetectionRunnerDeps } from '../../lib/runs/detection-runner.js';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { hashed, postSigned } from '../support/factories.js';
import { investigatorHeaders, startTestStack } from '../support/local-stack.js';
import { daysAgo, type TestStack } from '../support/scenario.js';

type Signal = { platform: string; account: string; type: string; label: string };

async function post(stack: TestStack, signals: Signal[]): Promise<void> {
  const byPlatform = new Map<string, Signal[]>();
  for (const s of signals) byPlatform.set(s.platform, [...(byPlatform.get(s.platform) ?? []), s]);
  for (const [platformId, rows] of byPlatform) {
    const platform = stack.credentials.platforms.find((p) => p.id === platformId)!;
    for (let at = 0; at < rows.length; at += 500) {
      const body = JSON.stringify({ signals: rows.slice(at, at + 500).map((s) => ({ account: s.account, type: s.type, value: hashed(s.label), observedAt: daysAgo(1) })) });
      const response = await postSigned(stack.baseUrl, platform, body);
      if (response.status !== 202) throw new Error(`posting failed: ${response.status} ${await response.text()}`);
    }
  }
  await stack.waitForDrain();
}

/** Two accounts on two platforms sharing a phone, the first holding `extra` identifiers of its own (memberships, to fill a task). */
function pair(name: string, extra: number): Signal[] {
  return [
    { platform: 'chatapp', account: `${name}-1`, type: 'phone', label: `${name}-phone` },
    { platform: 'gamehub', account: `${name}-2`, type: 'phone', label: `${name}-phone` },
    ...Array.from({ length: extra }, (_, i) => ({ platform: 'chatapp', account: `${name}-1`, type: 'email', label: `${name}-own-${i}` })),
  ];
}

/** A runner over the stack's table whose task queue records the tasks instead of running them. */
function holdingRunner(stack: TestStack, clock?: () => Date, overrides: Partial<DetectionRunnerDeps> = {}) {
  const db = dynamoDocumentClient({ dynamodb: stack.servers.dynamodbEndpoint });
  const sent: Array<{ runId: string; taskNos: number[] }> = [];
  const { core } = stack;
  const runner = new DetectionRunner({
    signals: core.signals,
    clusters: core.clusters,
    runs: core.runs,
    verdicts: core.verdicts,
    changes: core.changes,
    components: new ComponentLoader(db, 'crosslink'),
    graphs: new RunGraphRepository(db, 'crosslink'),
    taskQueue: { send: async (runId, taskNos) => void sent.push({ runId, taskNos }) },
    options: { hubThreshold: core.config.hubThreshold, ...core.config.detectionOptions },
    clock,
    ...overrides,
  });
  return { runner, sent };
}

/** The stack's cluster repository as the runner uses it, with some of its methods replaced. */
function spiedClusters(stack: TestStack, spies: Partial<DetectionRunnerDeps['clusters']>): DetectionRunnerDeps['clusters'] {
  const clusters = stack.core.clusters;
  return {
    applyRun: clusters.applyRun.bind(clusters),
    clustersOfAccounts: clusters.clustersOfAccounts.bind(clusters),
    moveLegacyRanking: clusters.moveLegacyRanking.bind(clusters),
    currentClusters: clusters.currentClusters.bind(clusters),
    ...spies,
  };
}

/** A full run by a runner with these deps replaced, its held tasks run in order; it must succeed. */
async function fullRunHeld(stack: TestStack, overrides: Partial<DetectionRunnerDeps>): Promise<void> {
  const { runner, sent } = holdingRunner(stack, undefined, overrides);
  const { runId } = await runner.start('on-demand', 'full');
  await runner.execute(runId);
  for (const taskNo of sent.flatMap((batch) => batch.taskNos)) await runner.runTask(runId, taskNo);
  expect((await stack.core.runs.get(runId))?.status).toBe('succeeded');
}

/** The ranking's read, noting when it first happens. */
function notingFirstRead(stack: TestStack): { first: { at?: number }; currentClusters: DetectionRunnerDeps['clusters']['currentClusters'] } {
  const first: { at?: number } = {};
  return {
    first,
    currentClusters: () => {
      first.at ??= Date.now();
      return stack.core.clusters.currentClusters();
    },
  };
}

async function accountCluster(stack: TestStack, platform: string, account: string): Promise<{ id: string; members: Array<{ platform: string; account: string }> } | null> {
  const response = await fetch(`${stack.baseUrl}/v1/accounts/${platform}/${account}`, { headers: investigatorHeaders(stack) });
  return ((await response.json()) as { cluster: { id: string; members: Array<{ platform: string; account: string }> } | null }).cluster;
}

describe('run lifecycle', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ hubThreshold: 3 });
  });
  afterAll(async () => stack?.cleanup());

  it('joins concurrent POST /v1/detect to one run instead of starting several', async () => {
    await post(stack, pair('conc', 0));
    const answers = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const response = await fetch(`${stack.baseUrl}/v1/detect`, { method: 'POST', headers: investigatorHeaders(stack) });
        return (await response.json()) as { runId: string; alreadyRunning: boolean };
      }),
    );
    for (const { runId } of answers) await stack.waitForRun(runId);
    expect(new Set(answers.map((answer) => answer.runId)).size).toBe(1);
    expect(answers.filter((answer) => !answer.alreadyRunning)).toHaveLength(1);
  });

  it('applies every task of a run when one task is delivered twice before the others ran', async () => {
    await post(stack, [...pair('dup-a', 1100), ...pair('dup-b', 1100)]);
    const { runner, sent } = holdingRunner(stack);
    const { runId } = await runner.start('on-demand', 'full');
    const coordinated = await runner.execute(runId);
    expect(coordinated.tasksTotal).toBe(2);
    expect(sent).toEqual([{ runId, taskNos: [0, 1] }]);

    // SQS delivers task 0 twice (at-least-once), then task 1.
    await runner.runTask(runId, 0);
    await runner.runTask(runId, 0);
    const run = await runner.runTask(runId, 1);

    expect([run.status, run.tasksDone]).toEqual(['succeeded', 2]);
    // Both pairs are reported, whichever task held them.
    expect(await accountCluster(stack, 'chatapp', 'dup-a-1')).not.toBeNull();
    expect(await accountCluster(stack, 'chatapp', 'dup-b-1')).not.toBeNull();
  });

  it('coordinates a run once when its coordinator is invoked again (an asynchronous invocation retried)', async () => {
    await post(stack, [...pair('again-a', 1100), ...pair('again-b', 1100)]);
    const { runner, sent } = holdingRunner(stack);
    const { runId } = await runner.start('on-demand', 'full');
    const first = await runner.execute(runId);
    const total = first.tasksTotal!;
    expect(total).toBeGreaterThanOrEqual(2);
    await runner.runTask(runId, 0);
    // The retry comes after a task has completed: it must not reset the run's progress or send its tasks again.
    const again = await runner.execute(runId);
    expect([again.tasksTotal, again.tasksDone]).toEqual([total, 1]);
    expect(sent).toEqual([{ runId, taskNos: Array.from({ length: total }, (_, n) => n) }]);
    let last = again;
    for (let taskNo = 1; taskNo < total; taskNo++) last = await runner.runTask(runId, taskNo);
    expect(last.status).toBe('succeeded');
  });

  it("leaves a stale run's late task without effect once a newer run has started over it", async () => {
    await post(stack, [
      { platform: 'chatapp', account: 'stale-1', type: 'phone', label: 'stale-phone' },
      { platform: 'gamehub', account: 'stale-2', type: 'phone', label: 'stale-phone' },
    ]);
    // Run A started 16 minutes ago and fanned out; its tasks are held up (a backed-up component queue).
    const { runner, sent } = holdingRunner(stack, () => new Date(Date.now() - 16 * 60_000));
    const { runId: staleId } = await runner.start('on-demand', 'full');
    await runner.execute(staleId);
    expect(sent.length).toBe(1);

    // A third profile joins; an investigator's POST /v1/detect starts run B over the stale A.
    await post(stack, [{ platform: 'photoshare', account: 'stale-3', type: 'phone', label: 'stale-phone' }]);
    const response = await fetch(`${stack.baseUrl}/v1/detect`, { method: 'POST', headers: investigatorHeaders(stack) });
    const answer = (await response.json()) as { runId: string; alreadyRunning: boolean };
    expect(answer).toMatchObject({ alreadyRunning: false });
    expect((await stack.waitForRun(answer.runId)).status).toBe('succeeded');
    expect((await accountCluster(stack, 'photoshare', 'stale-3'))?.members).toHaveLength(3);

    // A's tasks are delivered at last.
    for (const taskNo of sent[0].taskNos) await runner.runTask(staleId, taskNo);

    // They must not undo B: every member still finds the cluster of three, and B stays the run the API serves.
    for (const [platform, account] of [['chatapp', 'stale-1'], ['gamehub', 'stale-2'], ['photoshare', 'stale-3']]) {
      expect((await accountCluster(stack, platform, account))?.members, account).toHaveLength(3);
    }
    expect(await stack.core.runs.lastSuccessfulRunId()).toBe(answer.runId);
    expect((await stack.core.runs.get(staleId))?.status).not.toBe('succeeded');
  });

  it('keeps both halves of a cluster that split into components packed into different tasks of a full run', async () => {
    const bridge: Signal[] = [
      { platform: 'gamehub', account: 'split-a-2', type: 'email', label: 'split-bridge' },
      { platform: 'gamehub', account: 'split-b-2', type: 'email', label: 'split-bridge' },
    ];
    await post(stack, [...pair('split-a', 1100), ...pair('split-b', 1100), ...bridge]);
    const first = await fetch(`${stack.baseUrl}/v1/detect?mode=full`, { method: 'POST', headers: investigatorHeaders(stack) });
    expect((await stack.waitForRun(((await first.json()) as { runId: string }).runId)).status).toBe('succeeded');
    const before = await accountCluster(stack, 'chatapp', 'split-a-1');
    expect(before?.members.map((m) => m.account).sort()).toEqual(['split-a-1', 'split-a-2', 'split-b-1', 'split-b-2']);

    // Two more holders make the bridging email a hub (hubThreshold 3): the cluster's two halves are now separate components.
    await post(stack, [
      { platform: 'friendnet', account: 'split-x', type: 'email', label: 'split-bridge' },
      { platform: 'photoshare', account: 'split-y', type: 'email', label: 'split-bridge' },
    ]);
    const second = await fetch(`${stack.baseUrl}/v1/detect?mode=full`, { method: 'POST', headers: investigatorHeaders(stack) });
    const run = await stack.waitForRun(((await second.json()) as { runId: string }).runId);
    expect(run.status).toBe('succeeded');

    const a = await accountCluster(stack, 'chatapp', 'split-a-1');
    const b = await accountCluster(stack, 'chatapp', 'split-b-1');
    expect(a?.members.map((m) => m.account).sort()).toEqual(['split-a-1', 'split-a-2']);
    expect(b?.members.map((m) => m.account).sort()).toEqual(['split-b-1', 'split-b-2']);
    expect(a?.id).not.toBe(b?.id);
    // One of the halves keeps the id (and its review state); the split is on the run.
    expect([a?.id, b?.id]).toContain(before!.id);
  });

  it('reads the ranking no sooner than rankingSettleMs after the previous run ended (the index catches up after a save)', async () => {
    await post(stack, pair('settle', 0));
    const before = await stack.core.runner.start('on-demand', 'full');
    await stack.core.runner.execute(before.runId);
    const ended = Date.parse((await stack.waitForRun(before.runId)).finishedAt!);
    const read = notingFirstRead(stack);
    await fullRunHeld(stack, { rankingSettleMs: 1_500, clusters: spiedClusters(stack, { currentClusters: read.currentClusters }) });
    expect(read.first.at).toBeDefined();
    // Timers fire no earlier than asked, to the millisecond.
    expect(read.first.at!).toBeGreaterThanOrEqual(ended + 1_500 - 1);
  });

  it('reads the ranking no sooner than rankingSettleMs after moving a legacy ranking onto the reports', async () => {
    await post(stack, pair('moved', 0));
    let movedAt: number | undefined;
    const read = notingFirstRead(stack);
    // An upgraded table: the run moves the legacy ranking's entries onto the reports first.
    const moveLegacyRanking = async () => {
      movedAt ??= Date.now();
      return 3;
    };
    await fullRunHeld(stack, { rankingSettleMs: 1_000, clusters: spiedClusters(stack, { moveLegacyRanking, currentClusters: read.currentClusters }) });
    // Read before the index could hold the moved reports, a current cluster would be missing from the
    // ranking and come back under a fresh id.
    expect(read.first.at! - movedAt!).toBeGreaterThanOrEqual(1_000 - 1);
  });

  it("moves a legacy ranking in each queued task before the task reads its clusters (a run an earlier version coordinated)", async () => {
    await post(stack, [...pair('queued-a', 1100), ...pair('queued-b', 1100)]);
    const calls: string[] = [];
    const { runner, sent } = holdingRunner(stack, undefined, {
      clusters: spiedClusters(stack, {
        moveLegacyRanking: async () => {
          calls.push('move');
          return stack.core.clusters.moveLegacyRanking();
        },
        applyRun: async (...args) => {
          calls.push('save');
          return stack.core.clusters.applyRun(...args);
        },
      }),
    });
    const { runId } = await runner.start('on-demand', 'full');
    await runner.execute(runId);
    const taskNos = sent.flatMap((batch) => batch.taskNos);
    expect(taskNos.length).toBeGreaterThanOrEqual(2);
    calls.length = 0;
    for (const taskNo of taskNos) await runner.runTask(runId, taskNo);
    expect((await stack.core.runs.get(runId))?.status).toBe('succeeded');
    // Each task: the move, then its save (a task whose clusters did not change saves nothing).
    expect(calls.filter((call) => call === 'move')).toHaveLength(taskNos.length);
    expect(calls[0]).toBe('move');
    expect(calls.every((call, n) => call === 'move' || calls[n - 1] === 'move')).toBe(true);
  });
});
