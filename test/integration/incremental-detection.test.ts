/**
 * Incremental detection on the local stack: after rounds of new signals each handled incrementally,
 * a full run over the same data finds nothing to change, i.e. the incremental runs gave a full run's answer.
 */
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { MAX_SIGNALS_PER_REQUEST } from '../../lib/contract/signals.js';
import { syntheticPopulation, type RawSignal } from '../../lib/demo/synthetic-population.js';
import { IdentifierHasher } from '../../lib/client/hash.js';
import { SignalsTransport } from '../../lib/client/transport.js';
import { investigatorHeaders, startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
const hasher = new IdentifierHasher('test-consortium-key-0123456789');
/** Posts as a platform would: signed afresh on every attempt, a 5xx or 429 retried with backoff. */
const transportFor = (target: { baseUrl: string }, platform: { id: string; secret: string }) =>
  new SignalsTransport({ baseUrl: target.baseUrl, platform: platform.id, secret: platform.secret });

async function send(signals: RawSignal[]) {
  for (const platform of stack.credentials.platforms) {
    const mine = signals.filter((s) => s.platform === platform.id).map((s) => ({ account: s.account, type: s.type, value: hasher.hash(s.type, s.raw).value, observedAt: s.observedAt }));
    for (let start = 0; start < mine.length; start += MAX_SIGNALS_PER_REQUEST) {
      const answer = await transportFor(stack, platform).send(JSON.stringify({ signals: mine.slice(start, start + MAX_SIGNALS_PER_REQUEST) }));
      expect(answer.rejected).toEqual([]);
    }
  }
  await stack.waitForDrain();
}

async function detect(mode: 'auto' | 'full') {
  const response = await fetch(`${stack.baseUrl}/v1/detect?mode=${mode}`, { method: 'POST', headers: investigatorHeaders(stack) });
  const run = await stack.waitForRun((await response.json()).runId);
  expect(run.status, run.error).toBe('succeeded');
  return run;
}

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack?.cleanup());

describe('incremental detection', () => {
  const population = syntheticPopulation({ platforms: ['chatapp', 'photoshare', 'gamehub', 'clipvideo', 'friendnet'], people: 300, actors: 4, seed: 11 });
  // Hold back a random-looking fifth of the signals, delivered later in three rounds.
  const later = population.signals.filter((_, index) => (index * 7919) % 5 === 0);
  const first = population.signals.filter((_, index) => (index * 7919) % 5 !== 0);

  it('gives the answer a full run gives, round after round', async () => {
    await send(first);
    const initial = await detect('auto');
    expect(initial.mode).toBe('full');
    expect(initial.fullBecause).toBe('no previous successful run to build on');
    for (let round = 0; round < 3; round++) {
      await send(later.filter((_, index) => index % 3 === round));
      // In the middle round, as in a container started since: the kept graph is read back from the table.
      const cold = round === 1;
      if (cold) stack.core.runner.forgetKeptGraph();
      const incremental = await detect('auto');
      expect(incremental.mode).toBe('incremental');
      expect(incremental).not.toHaveProperty('fullBecause');
      // It started from the graph the previous run kept (held in memory, or read back), not from a read of the table's signals.
      expect(Object.keys(incremental.timingsMs!)).toEqual(expect.arrayContaining(['changes', 'partition', 'graphWrite']));
      expect(incremental.counts!.graphWarm).toBe(cold ? 0 : 1);
      if (cold) expect(incremental.timingsMs).toHaveProperty('graphRead');
      else expect(incremental.timingsMs).not.toHaveProperty('graphRead');
      expect(incremental.timingsMs).not.toHaveProperty('load');
      // Its one closure task ran in the coordinator, without being stored for the queue.
      expect(incremental.timingsMs).not.toHaveProperty('taskWrite');
      expect([incremental.tasksTotal, incremental.tasksDone]).toEqual([1, 1]);
      // The graph it kept (written while the task ran) and the task's own figures are both recorded.
      expect(incremental.counts!.graphBytes).toBeGreaterThan(0);
      expect(incremental.counts!.taskDetectMs).toBeGreaterThanOrEqual(0);
      expect(incremental.counts!.clusters).toBeGreaterThan(0);
      expect(incremental.counts!.closureAccounts).toBeGreaterThan(0);
      expect(incremental.counts!.accounts).toBeLessThan(initial.counts!.accounts);
      const full = await detect('full');
      expect(full.mode).toBe('full');
      expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
    }
  });

  it('reads the table instead when the previous run kept no graph, with the same answer', async () => {
    await send(population.signals.slice(0, 40).map((signal) => ({ ...signal, account: `${signal.account}-again` })));
    const previous = await detect('full');
    const db = dynamoDocumentClient({ dynamodb: stack.servers.dynamodbEndpoint });
    const parts = (await db.send(new QueryCommand({ TableName: 'crosslink', KeyConditionExpression: 'pk = :pk AND begins_with(sk, :g)', ExpressionAttributeValues: { ':pk': `RUN#${previous.runId}`, ':g': 'GRAPH#' } }))).Items ?? [];
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) await db.send(new DeleteCommand({ TableName: 'crosslink', Key: { pk: part.pk, sk: part.sk } }));
    // As in a container started since (this one holds the graph it kept in memory).
    stack.core.runner.forgetKeptGraph();

    await send(population.signals.slice(40, 400).map((signal) => ({ ...signal, account: `${signal.account}-again` })));
    const incremental = await detect('auto');
    expect(incremental.mode).toBe('incremental');
    expect(incremental.counts).not.toHaveProperty('closureAccounts');
    expect(incremental.timingsMs).toHaveProperty('load');
    const full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });

  it("keeps consecutive incremental runs' graphs as overlays, each over the graph of the run before, with the same answer", async () => {
    const whole = await detect('full');
    expect(whole.counts!.graphOverlay).toBe(0);
    for (let round = 0; round < 3; round++) {
      await send(population.signals.slice(400 + round * 60, 460 + round * 60).map((signal) => ({ ...signal, account: `${signal.account}-round${round}` })));
      // The first round reads the whole graph back, as a container started since would; the next two
      // start from the graph and index the run before them held, and the last reads the chain back (the whole graph, two overlays).
      if (round === 0 || round === 2) stack.core.runner.forgetKeptGraph();
      const incremental = await detect('auto');
      expect(incremental.mode).toBe('incremental');
      // It started from the kept graph (whole, then the previous overlays laid over it), not from the table's signals.
      if (round === 1) expect(incremental.counts).toMatchObject({ graphWarm: 1, indexWarm: 1, rankingWarm: 1 });
      else expect(incremental.timingsMs).toHaveProperty('graphRead');
      expect(incremental.timingsMs).not.toHaveProperty('load');
      // Each kept as an overlay of the one before: one more overlay deep.
      expect(incremental.counts!.graphOverlay).toBe(round + 1);
      expect(incremental.counts!.graphBytes).toBeLessThan(whole.counts!.graphBytes / 2);
    }
    const full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0, graphOverlay: 0 });
  });

  it('reads the ranking again when a run came between, as a failed one may have saved part of its clusters', async () => {
    await send(population.signals.slice(600, 640).map((signal) => ({ ...signal, account: `${signal.account}-between0` })));
    const held = await detect('auto');
    expect(held.mode).toBe('incremental');
    // A run that another container started and that failed: the newest run is no longer the one held.
    const { runId: between } = await stack.core.runner.start('on-demand', 'full');
    await stack.core.runs.finish(between, { status: 'failed', finishedAt: new Date().toISOString(), error: 'failed elsewhere' });
    await send(population.signals.slice(640, 680).map((signal) => ({ ...signal, account: `${signal.account}-between1` })));
    const next = await detect('auto');
    expect(next.mode).toBe('incremental');
    expect(next.counts).toMatchObject({ graphWarm: 1, rankingWarm: 0 });
    expect(next.timingsMs).toHaveProperty('previousClusters');
    const full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });

  it('does nothing for a task delivered again after its run ended', async () => {
    await send(population.signals.slice(0, 200).map((signal) => ({ ...signal, account: `${signal.account}-redelivered` })));
    const full = await detect('full');
    expect(full.tasksTotal).toBeGreaterThan(0);
    const again = await stack.core.runner.runTask(full.runId, 0);
    expect(again).toMatchObject({ status: 'succeeded', tasksDone: full.tasksDone, tasksFailed: full.tasksFailed });
  });

  it('says which modes there are when given another', async () => {
    const response = await fetch(`${stack.baseUrl}/v1/detect?mode=sometimes`, { method: 'POST', headers: investigatorHeaders(stack) });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/mode must be auto, full or incremental/);
  });

  it('fails an incremental run that has no full run to build on, saying why', async () => {
    const fresh = await startTestStack();
    try {
      const response = await fetch(`${fresh.baseUrl}/v1/detect?mode=incremental`, { method: 'POST', headers: investigatorHeaders(fresh) });
      const run = await fresh.waitForRun((await response.json()).runId);
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/needs a previous successful run/);
    } finally {
      await fresh.cleanup();
    }
  });
});

describe('incremental detection cut into several tasks', () => {
  it('gives a full run\'s answer when the closure is too large for one task', async () => {
    // Closures of more than 40 core memberships are cut into tasks that go through the task queue.
    const cut = await startTestStack({ closureTaskMemberships: 40 });
    try {
      const population = syntheticPopulation({ platforms: ['chatapp', 'photoshare', 'gamehub', 'clipvideo', 'friendnet'], people: 200, actors: 4, seed: 23 });
      const later = population.signals.filter((_, index) => index % 4 === 0);
      const sendTo = async (signals: RawSignal[]) => {
        for (const platform of cut.credentials.platforms) {
          const mine = signals.filter((s) => s.platform === platform.id).map((s) => ({ account: s.account, type: s.type, value: hasher.hash(s.type, s.raw).value, observedAt: s.observedAt }));
          for (let start = 0; start < mine.length; start += MAX_SIGNALS_PER_REQUEST) {
            expect((await transportFor(cut, platform).send(JSON.stringify({ signals: mine.slice(start, start + MAX_SIGNALS_PER_REQUEST) }))).rejected).toEqual([]);
          }
        }
        await cut.waitForDrain();
      };
      const detectOn = async (mode: string) => {
        const response = await fetch(`${cut.baseUrl}/v1/detect?mode=${mode}`, { method: 'POST', headers: investigatorHeaders(cut) });
        const run = await cut.waitForRun((await response.json()).runId);
        expect(run.status, run.error).toBe('succeeded');
        return run;
      };
      await sendTo(population.signals.filter((_, index) => index % 4 !== 0));
      await detectOn('full');
      await sendTo(later);
      const incremental = await detectOn('auto');
      expect(incremental.mode).toBe('incremental');
      expect(incremental.tasksTotal).toBeGreaterThan(1);
      // The tasks were stored for the queue and each carried its own boundary and previous clusters.
      expect(incremental.timingsMs).toHaveProperty('taskWrite');
      expect(incremental.counts!.clustersWritten).toBeGreaterThan(0);
      // Each written cluster costs at least its report (its ranking entry with it), summed over the tasks.
      expect(incremental.counts!.itemsWritten).toBeGreaterThanOrEqual(incremental.counts!.clustersWritten);
      const full = await detectOn('full');
      expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0, itemsWritten: 0 });
    } finally {
      await cut.cleanup();
    }
  });
});

describe('incremental detection when an identifier becomes a hub', () => {
  it('dissolves the cluster the identifier used to make, as a full run would', async () => {
    const small = await startTestStack({ hubThreshold: 3 });
    try {
      const platform = small.credentials.platforms[0];
      const post = async (accounts: string[]) => {
        const signals = accounts.map((account) => ({ account, type: 'device', value: hasher.hash('device', 'shared-tablet-7f3a').value, observedAt: '2026-11-01T00:00:00Z' }));
        expect((await transportFor(small, platform).send(JSON.stringify({ signals }))).accepted).toBe(accounts.length);
        await small.waitForDrain();
      };
      const detectOn = async (mode: string) => {
        const response = await fetch(`${small.baseUrl}/v1/detect?mode=${mode}`, { method: 'POST', headers: investigatorHeaders(small) });
        return small.waitForRun((await response.json()).runId);
      };
      await post(['hub-a', 'hub-b']);
      expect((await detectOn('full')).counts!.clusters).toBe(1);
      await post(['hub-c', 'hub-d']);
      const incremental = await detectOn('auto');
      expect(incremental.mode).toBe('incremental');
      const listed = await (await fetch(`${small.baseUrl}/v1/clusters`, { headers: investigatorHeaders(small) })).json();
      expect(listed.clusters).toEqual([]);
      const full = await detectOn('full');
      expect(full.counts).toMatchObject({ clusters: 0, clustersWritten: 0, clustersRemoved: 0 });
      expect(full.hubs).toEqual([expect.objectContaining({ type: 'device', accounts: 4 })]);
    } finally {
      await small.cleanup();
    }
  });
});

describe("detection with the operator's options (DETECTION_OPTIONS)", () => {
  it('clusters with the options the stack was started with', async () => {
    // Two accounts sharing only a username: 0.3 * 0.1 (uncorroborated) = 0.03, below the default resolution (0.04).
    const signals = ['fan-1', 'fan-2'].map((account) => ({ account, type: 'username', value: hasher.hash('username', 'stargazer_99').value, observedAt: '2026-11-20T00:00:00Z' }));
    const runOn = async (options: Record<string, unknown>) => {
      const tuned = await startTestStack({ detectionOptions: options });
      try {
        expect((await transportFor(tuned, tuned.credentials.platforms[0]).send(JSON.stringify({ signals }))).accepted).toBe(2);
        await tuned.waitForDrain();
        const response = await fetch(`${tuned.baseUrl}/v1/detect?mode=auto`, { method: 'POST', headers: investigatorHeaders(tuned) });
        return await tuned.waitForRun((await response.json()).runId);
      } finally {
        await tuned.cleanup();
      }
    };

    expect((await runOn({})).counts!.clusters).toBe(0);
    const tuned = await runOn({ cpmResolution: 0.02, clusterMergeWeight: 0.3 });
    expect(tuned.counts!.clusters).toBe(1);
  });
});
