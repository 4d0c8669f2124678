/**
 * Detection runs, full or incremental, fanned out per component. The coordinator (`execute`) decides
 * the mode, splits the work into component tasks and hands them to the task queue; each task
 * (`runTask`) detects its components and applies the result to the stored clusters in place; the task
 * that completes the run finishes it. The same runner serves the local stack and Lambda.
 *
 * A full run reads the whole graph once (a compact projection) to find the components, and keeps the
 * graph it saw (lib/runs/run-graph.ts). An incremental run starts from the previous run's graph, applies
 * the changes logged since (the log carries the stored signals) and recomputes only their closure
 * (lib/runs/closure-partition.ts), without reading the table; when the previous run left no graph, it
 * reads what changed and either loads the closure of few changes (lib/graph/component-loader.ts) or
 * reads the whole graph once. `auto` runs incrementally only when that gives a full run's answer: same
 * detection options, same verdicts, same evidence-ageing step as the last run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { chunk } from '../chunk.js';
import { detectClusters } from '../detect/detect.js';
import { GraphIndex } from '../detect/graph-index.js';
import type { AccountFacts, ClusterLineage, Membership, Verdict } from '../detect/model.js';
import { optionsFingerprint, resolveDetectionOptions, type DetectionOptions } from '../detect/options.js';
import { changeLogSeen, type ChangeLog, type ChangeLogSeen } from '../graph/change-log.js';
import type { ChangesSince, GraphKept, RunGraphRepository } from '../graph/run-graph-repository.js';
import { rankingAfter, type AppliedRun, type ClusterRepository, type CurrentCluster, type StoredCluster } from '../graph/cluster-repository.js';
import type { ComponentLoader } from '../graph/component-loader.js';
import { TASK_COUNTS, type DetectionTask, type RunRecord, type RunRepository } from '../graph/run-repository.js';
import type { SignalRepository } from '../graph/signal-repository.js';
import type { VerdictRepository } from '../graph/verdict-repository.js';
import { partitionClosure, type ClosureTask } from './closure-partition.js';
import { partitionIntoTasks, type ComponentTask } from './component-partition.js';
import { applyChanges, type RunGraph } from './run-graph.js';
import { WarmGraph } from './warm-graph.js';

/** A run still "running" after this long is taken to have died, and a new one may start. */
export const STALE_RUN_MS = 15 * 60 * 1000;
/** How many excluded hubs a run record lists (the count of all is kept beside). */
const HUBS_LISTED = 100;
/** Changed accounts and identifiers one incremental task starts from. */
const SEEDS_PER_TASK = 500;
/**
 * Up to this many changed accounts and identifiers, an incremental run loads only their closure (a few
 * look-ups each); beyond it, reading the whole graph once is cheaper than the closure's look-ups.
 */
const CLOSURE_SEEDS_MAX = 200;
/**
 * How far before the previous run's start an incremental run reads the change log. A change-log item is
 * keyed by the time its writer took just before writing it (lib/ingest/store-message.ts), so it can land
 * after a run that started later has read the log (a write retried with backoff, a slow call, an
 * eventually consistent read); reading from the previous start alone would then miss it for good.
 * Applying a change seen already again changes nothing (applyChanges), so the margin costs only reads,
 * and a run from a kept graph skips the items in it the previous run saw (ChangeLog.detailSince).
 * Twice the longest a writer may take between its clock and its write landing: the consumer's 60 s
 * timeout (the platform API, which records withdrawals, stops at 15 s).
 */
export const CHANGE_LOG_MARGIN_MS = 2 * 60 * 1000;

/** `auto` runs incrementally when it can give the same answer as a full run, and fully otherwise. */
export type RunMode = 'full' | 'incremental' | 'auto';

/** Where component tasks go: a queue on AWS and on the local stack. Without one, tasks run inline. */
export interface DetectionTaskQueue {
  send(runId: string, taskNos: number[]): Promise<void>;
}

/**
 * A stored task: whole components' memberships; or a closure's core with its boundary (`core`,
 * `holderTotals`); or only where its closure starts, to load from the table.
 */
type StoredTask = DetectionTask & {
  memberships?: ComponentTask['memberships'];
  facts?: ComponentTask['facts'];
  core?: ClosureTask['core'];
  holderTotals?: ClosureTask['holderTotals'];
  /** In memory only: a task run in the coordinator may carry the graph its partition built. */
  graph?: ClosureTask['graph'];
  /** The current clusters holding any of the task's accounts, when the coordinator read them all anyway. */
  previous?: StoredCluster[];
};

/** Why a run cannot continue incrementally from `previous` (the last successful run), or undefined when it can. */
export function whyNotIncremental(previous: RunRecord | undefined, basis: NonNullable<RunRecord['basis']>): string | undefined {
  if (!previous?.basis) return 'no previous successful run to build on';
  if (previous.basis.optionsFingerprint !== basis.optionsFingerprint) return `the previous run (${previous.runId}) ran on other detection options`;
  if (previous.basis.verdictsFingerprint !== basis.verdictsFingerprint) return `verdicts changed since the previous run (${previous.runId})`;
  if (previous.basis.agingStep !== basis.agingStep) return `a new ageing step began since the previous run (${previous.runId})`;
  return undefined;
}

/** Gives each task the current clusters that hold any of its accounts (a cluster split since may go to two tasks). */
export function withPreviousClusters(tasks: ComponentTask[], current: readonly StoredCluster[]): StoredTask[] {
  const taskOf = new Map<string, number>();
  tasks.forEach((task, n) => {
    for (const account of task.accounts) taskOf.set(account, n);
  });
  const previous: StoredCluster[][] = tasks.map(() => []);
  for (const cluster of current) {
    const into = new Set<number>();
    for (const member of cluster.members) {
      const n = taskOf.get(member);
      if (n !== undefined) into.add(n);
    }
    for (const n of into) previous[n].push(cluster);
  }
  return tasks.map((task, n) => ({ ...task, previous: previous[n] }));
}

/**
 * The clusters that keep their id and gained accounts, with the accounts that joined (merged clusters
 * left out: a merge is told apart).
 *
 * @example
 * joinedAccounts([{ id: 'c-a', members: ['x#1', 'y#2'] }], [{ id: 'c-a', members: ['x#1', 'y#2', 'z#3'] }], []);
 * // [{ id: 'c-a', joined: ['z#3'] }]
 */
export function joinedAccounts(previous: readonly StoredCluster[], clusters: ReadonlyArray<{ id: string; members: readonly string[] }>, merges: ClusterLineage['merges']): Array<{ id: string; joined: string[] }> {
  const before = new Map(previous.map((cluster) => [cluster.id, cluster.members]));
  const merged = new Set(merges.map((merge) => merge.into));
  const grown: Array<{ id: string; joined: string[] }> = [];
  for (const cluster of clusters) {
    const had = before.get(cluster.id);
    if (!had || merged.has(cluster.id)) continue;
    const members = new Set(had);
    const joined = cluster.members.filter((member) => !members.has(member));
    if (joined.length > 0) grown.push({ id: cluster.id, joined });
  }
  return grown;
}

export interface DetectionRunnerDeps {
  signals: Pick<SignalRepository, 'snapshot' | 'readAccounts' | 'factsOf' | 'deleteWithdrawnLeftovers'>;
  clusters: Pick<ClusterRepository, 'applyRun' | 'currentClusters' | 'clustersOfAccounts' | 'moveLegacyRanking'>;
  runs: RunRepository;
  verdicts: Pick<VerdictRepository, 'all'>;
  changes: Pick<ChangeLog, 'detailSince' | 'photoHashes'>;
  graphs: Pick<RunGraphRepository, 'get' | 'put'>;
  components: Pick<ComponentLoader, 'closure'>;
  taskQueue?: DetectionTaskQueue;
  /** Told of the merges a task is about to save, and the clusters accounts joined, so that review state follows them (ReviewService). */
  reviews?: {
    clustersChanged(changes: { merges: ClusterLineage['merges']; grown: Array<{ id: string; joined: string[] }> }, run: Pick<RunRecord, 'runId' | 'startedAt'>): Promise<void>;
  };
  options?: Partial<DetectionOptions>;
  /** Core memberships one incremental task takes (default `CLOSURE_TASK_MEMBERSHIPS` in closure-partition.ts). */
  closureTaskMemberships?: number;
  /**
   * How long after the previous run ended a run may read the ranking: the ranking is a global secondary
   * index, which DynamoDB brings up to date shortly after each write. 0 (the default) where indexes are
   * updated with the write, as dynalite's are; the AWS configuration sets RANKING_SETTLE_MS.
   */
  rankingSettleMs?: number;
  clock?: () => Date;
}

/**
 * Every field of every verdict: when a verdict was given orders the must-links (and so which of two
 * contradicting ones is refused), and who gave it and when are part of each cluster's `verdicts`.
 */
function verdictsFingerprint(verdicts: Verdict[]): string {
  const lines = verdicts.map((v) => JSON.stringify([v.a, v.b, v.kind, v.by, v.atMs])).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

export class DetectionRunner {
  private readonly clock: () => Date;
  private readonly options: DetectionOptions;
  /** The graph the last run here kept, for the next run here (see lib/runs/warm-graph.ts). */
  private readonly warm = new WarmGraph();

  constructor(private readonly deps: DetectionRunnerDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.options = resolveDetectionOptions(deps.options);
  }

  /**
   * Drops the graph this runner holds from its last run, so that the next run reads the kept graph from
   * the table as a freshly started container does (tests and the incremental benchmark measure that path).
   */
  forgetKeptGraph(): void {
    this.warm.forget();
  }

  /** Records a new run as running, unless one is running already; returns the run to follow. */
  async start(trigger: RunRecord['trigger'], mode: RunMode = 'auto'): Promise<{ runId: string; alreadyRunning: boolean }> {
    for (;;) {
      const latest = await this.deps.runs.latest();
      const now = this.clock();
      if (latest?.status === 'running') {
        if (now.getTime() - Date.parse(latest.startedAt) < STALE_RUN_MS) return { runId: latest.runId, alreadyRunning: true };
        // Taken to have died: it ends failed, so that its tasks delivered late do nothing (they would undo the new run's work).
        await this.deps.runs.finish(latest.runId, {
          status: 'failed',
          finishedAt: now.toISOString(),
          error: `still running after ${STALE_RUN_MS / 60_000} minutes: taken to have died, and a new run started`,
        });
      }
      const runId = `${now.toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
      // Only if no other start got in first; otherwise the loop joins the run it began.
      if (await this.deps.runs.create({ runId, status: 'running', trigger, requestedMode: mode, startedAt: now.toISOString(), ...(latest ? { after: latest.runId } : {}) }, latest?.runId)) {
        return { runId, alreadyRunning: false };
      }
    }
  }

  /**
   * Coordinates a run created by {@link start}: chooses the mode, splits the work into component tasks
   * and dispatches them. Never throws for a detection error: the run records it.
   */
  async execute(runId: string): Promise<RunRecord> {
    const started = Date.now();
    const timingsMs: Record<string, number> = {};
    const time = async <T>(name: string, work: () => Promise<T> | T): Promise<T> => {
      const at = Date.now();
      try {
        return await work();
      } finally {
        timingsMs[name] = Date.now() - at;
      }
    };
    try {
      const run = (await this.deps.runs.get(runId))!;
      // Invoked again for a run it coordinated already (an asynchronous invocation retried): nothing to do.
      if (run.status !== 'running' || run.tasksTotal !== undefined) return run;
      const nowMs = Date.parse(run.startedAt);
      const verdicts = await this.deps.verdicts.all();
      const basis = {
        optionsFingerprint: createHash('sha256').update(optionsFingerprint(this.options)).digest('hex'),
        verdictsFingerprint: verdictsFingerprint(verdicts),
        agingStep: Math.floor(nowMs / this.options.agingStepMs),
      };
      const previousId = await this.deps.runs.lastSuccessfulRunId();
      const previous = previousId ? await this.deps.runs.get(previousId) : undefined;
      const before = run.after === previousId ? previous : run.after ? await this.deps.runs.get(run.after) : undefined;
      await this.rankingSettled(before?.finishedAt ? Date.parse(before.finishedAt) : undefined);
      // A ranking kept by an earlier version, as items of its own, moves onto the reports first; the
      // index then catches up with those writes as it does with a save's.
      const legacyMoved = await this.deps.clusters.moveLegacyRanking();
      if (legacyMoved > 0) await this.rankingSettled(this.clock().getTime());
      const fullBecause = whyNotIncremental(previous, basis);
      if (run.requestedMode === 'incremental' && fullBecause) {
        throw new Error(`an incremental run needs a previous successful run with the same options, verdicts and ageing step (${fullBecause}): run a full one`);
      }
      const mode: 'full' | 'incremental' = run.requestedMode === 'full' || fullBecause ? 'full' : 'incremental';

      let tasks: StoredTask[];
      let since: string | undefined;
      const counts: Record<string, number> = Object.fromEntries(TASK_COUNTS.map((name) => [name, 0]));
      if (legacyMoved > 0) counts.legacyRankingMoved = legacyMoved;
      let hubs: RunRecord['hubs'] = [];
      let hubsExcluded = 0;
      /** What this run saw of the change log, for the next run to skip (recorded only by a run from a kept graph). */
      let changeLog: ChangeLogSeen | undefined;
      /** The graph this run saw, kept for the next run (none when the run saw only a closure through the table). */
      let seen: RunGraph | undefined;
      /** The index the closure was read through, of `seen`'s memberships, held with it for the next run. */
      let index: GraphIndex | undefined;
      /** The current clusters as this run found them (a run from a kept graph), from which its save's result is derived. */
      let current: CurrentCluster[] | undefined;
      const listHubs = (all: ReadonlyArray<{ type: string; value: string; accounts: number }>) => {
        hubs = [...all].sort((a, b) => b.accounts - a.accounts).slice(0, HUBS_LISTED).map(({ type, value, accounts }) => ({ type, value, accounts }));
        hubsExcluded = all.length;
      };
      // The previous run's graph and what changed since, read side by side (the change log is small), and
      // the accounts the changes say to read afresh read while the graph still is. Items the previous run
      // saw and applied to that graph are skipped when found again unchanged.
      const logSince = mode === 'incremental' ? new Date(Date.parse(previous!.startedAt) - CHANGE_LOG_MARGIN_MS).toISOString() : undefined;
      const changesRead = logSince !== undefined ? time('changes', () => this.deps.changes.detailSince(logSince, previous!.changeLog)) : undefined;
      // The previous run's graph from memory when this process kept it (and its index with it), else from the table.
      const warm = mode === 'incremental' ? this.warm.take(previousId!) : undefined;
      // The current clusters too: as the previous run's save left them when it saved them all here and no
      // run came between (a failed one may have written part of its save); else from the ranking, read
      // from the start (the core is not known yet, but reading it after the partition put it on the
      // run's critical path).
      const heldClusters = warm?.clusters && run.after === previousId ? warm.clusters : undefined;
      const rankingRead = mode === 'incremental' ? (heldClusters ? Promise.resolve(heldClusters) : time('previousClusters', () => this.deps.clusters.currentClusters())) : undefined;
      // Awaited below unless the run loads only a closure of few changes; this keeps a failure from going unhandled then.
      rankingRead?.catch(() => undefined);
      const rereadRead = changesRead?.then((detail) =>
        time('reread', () => Promise.all([this.deps.signals.readAccounts([...detail.reread], nowMs), this.deps.signals.factsOf([...detail.factsOf], nowMs)])),
      );
      const [kept, changeDetail, rereadNow] =
        mode === 'incremental'
          ? await Promise.all([warm?.kept ?? time('graphRead', () => this.deps.graphs.get(previousId!)), changesRead, rereadRead])
          : [undefined, undefined, undefined];
      const base = kept?.graph;
      /** The kept graph this run's graph may lie over, with what this run changed in it. */
      let over: ChangesSince | undefined;
      if (kept && base && changeDetail && rereadNow && rankingRead) {
        // The previous run's graph, the changes since applied, and only their closure recomputed.
        const detail = changeDetail;
        const [reread, facts] = rereadNow;
        // Facts only of accounts whose facts may have changed: an account with new signals is still a changing one (through `stored`).
        const applied = await time('apply', () => applyChanges(base, { stored: detail.stored, reread, factsOf: { accounts: [...detail.factsOf], facts } }, nowMs));
        const partition = await time('partition', () => {
          // The index of the previous graph patched to this one (the accounts whose memberships changed), or built afresh.
          warm?.index?.patch(applied.graph.memberships, applied.graph.facts, applied.replaced);
          index = warm?.index ?? GraphIndex.build(applied.graph.memberships, applied.graph.facts, this.options);
          return partitionClosure(
            { graph: applied.graph, touched: applied.touched, changedIdentifiers: applied.changedIdentifiers, verdicts, nowMs, source: index },
            this.options,
            this.deps.closureTaskMemberships,
          );
        });
        // What differs from the previous run's graph (the log's window is wider: see CHANGE_LOG_MARGIN_MS).
        Object.assign(counts, {
          changedAccounts: applied.touched.length,
          changedIdentifiers: applied.changedIdentifiers.length,
          closureAccounts: partition.core.length,
          graphWarm: warm ? 1 : 0,
          indexWarm: warm?.index ? 1 : 0,
          rankingWarm: heldClusters ? 1 : 0,
          accountsReread: reread.size,
          factsRead: detail.factsOf.size,
          changeLogItemsApplied: detail.itemsRead,
          changeLogItemsSkipped: detail.itemsSkipped,
        });
        changeLog = changeLogSeen(detail.seen, new Date(nowMs - CHANGE_LOG_MARGIN_MS).toISOString());
        // Each task carries the current clusters that hold any of its accounts, as a full run's tasks do.
        current = await rankingRead;
        tasks = withPreviousClusters(
          partition.tasks.map((task) => ({ ...task, accounts: task.core, identifiers: [] })),
          current,
        );
        listHubs(partition.hubs);
        seen = { ...applied.graph, components: partition.components, hubs: partition.hubs };
        over = { place: kept.place, rewritten: applied.rewritten, regrouped: partition.core };
      } else {
        // An incremental run with few changes loads only their closure; with many, it reads the graph once
        // and re-detects only the components the changes touch. Both give a full run's answer.
        // What changed was read beside the graph read (an incremental run comes here when no graph was kept).
        // Skipping items holds only for the previous run's graph (which has them applied); these paths
        // re-detect from the changes themselves, so they read the whole window again.
        const read = changesRead ? await changesRead : undefined;
        const changes = read && read.itemsSkipped > 0 ? await time('changesWhole', () => this.deps.changes.detailSince(logSince!)) : read;
        const closureSized = changes !== undefined && changes.accounts.size + changes.identifiers.size <= CLOSURE_SEEDS_MAX;
        if (changes) Object.assign(counts, { changedAccounts: changes.accounts.size, changedIdentifiers: changes.identifiers.size });
        if (!closureSized) {
          // An incremental run has been reading the ranking since it began; a full run reads it here.
          const [snapshot, current] = await Promise.all([time('load', () => this.deps.signals.snapshot(nowMs)), rankingRead ?? this.deps.clusters.currentClusters()]);
          // Signals of withdrawn accounts received before the withdrawal, which the read left out, are deleted meanwhile.
          const swept = this.deps.signals.deleteWithdrawnLeftovers(snapshot.leftovers);
          swept.catch(() => undefined);
          const touches = (memberships: readonly Membership[]) =>
            !changes || memberships.some((m) => changes.accounts.has(m.account) || changes.identifiers.has(`${m.type}#${m.value}`));
          const partition = await time('partition', () => partitionIntoTasks({ ...snapshot, verdicts, nowMs }, this.options, touches, current.map((cluster) => cluster.members)));
          tasks = withPreviousClusters(partition.tasks, current);
          listHubs(partition.hubs);
          seen = { memberships: snapshot.memberships, facts: snapshot.accounts, withdrawnAt: snapshot.withdrawnAt, components: partition.components, hubs: partition.hubRecords };
          // Clusters none of whose members is in any component any more: no task will see them.
          const orphaned = current.filter((cluster) => !cluster.members.some((member) => partition.componentAccounts.has(member))).map((cluster) => cluster.id);
          if (orphaned.length > 0) await this.deps.clusters.applyRun(runId, { upserts: [], removed: orphaned }, run.startedAt);
          counts.clustersRemoved = orphaned.length;
          counts.withdrawnLeftoversDeleted = await swept;
        } else {
          since = previous!.startedAt;
          tasks = chunk([...[...changes!.accounts].map((a) => ({ a })), ...[...changes!.identifiers].map((i) => ({ i }))], SEEDS_PER_TASK).map((seeds) => ({
            accounts: seeds.flatMap((seed) => ('a' in seed ? [seed.a] : [])),
            identifiers: seeds.flatMap((seed) => ('i' in seed ? [seed.i] : [])),
            since,
          }));
        }
      }
      // One closure task runs here, from memory, while the graph for the next run is written: storing
      // the task and reading it back would cost more than the detection. Otherwise the tasks are stored
      // for the queue, beside the graph. (The graph's encoding yields to the event loop, so the task's
      // reads and writes keep going beside it.)
      const inline = base !== undefined && tasks.length === 1;
      const graph = seen;
      // The live signals the run read: what GET /v1/status tells without counting the table.
      if (graph) counts.graphMemberships = graph.memberships.length;
      const graphWritten = graph
        ? time('graphWrite', async () => {
            const stored = await this.deps.graphs.put(runId, graph, over);
            this.warm.hold(runId, { kept: { graph, place: stored.place }, index });
            return stored;
          })
        : Promise.resolve(undefined);
      // Awaited below (or before the inline task completes); this keeps an early failure from going unhandled meanwhile.
      graphWritten.catch(() => undefined);
      const recordGraph = (kept: GraphKept | undefined) => {
        // graphOverlay: how many overlays lie between the graph kept and the whole one under it (0: kept whole).
        if (kept) Object.assign(counts, { graphBytes: kept.bytes, graphOverlay: kept.place.overlays });
      };
      if (!inline) recordGraph((await Promise.all([graphWritten, time('taskWrite', () => this.deps.runs.putTasks(runId, tasks))]))[0]);
      await this.deps.runs.finish(runId, {
        status: tasks.length === 0 ? 'succeeded' : 'running',
        mode,
        ...(run.requestedMode === 'auto' && fullBecause ? { fullBecause } : {}),
        basis,
        ...(changeLog ? { changeLog } : {}),
        counts,
        hubs,
        hubsExcluded,
        tasksTotal: tasks.length,
        tasksDone: 0,
        tasksFailed: 0,
        timingsMs,
        ...(tasks.length === 0 ? { finishedAt: this.clock().toISOString(), durationMs: Date.now() - started, lineage: { kept: [], born: [], dissolved: [], merges: [], splits: [] } } : {}),
      });
      if (inline) {
        // The graph must be kept before the run counts as done: the next run starts from it. Until the
        // task completes, the run's counts are the coordinator's alone, so they are written whole.
        // The task saves every cluster this run changes, so the ranking it leaves is known here and held for the next run.
        return await this.detectTask(runId, run, 0, tasks[0], verdicts, async (saved, removed) => {
          recordGraph(await graphWritten);
          const after = current && rankingAfter(current, removed, saved.ranked);
          if (after) this.warm.holdClusters(runId, after);
          await this.deps.runs.finish(runId, { status: 'running', counts, timingsMs });
        });
      }
      const taskNos = tasks.map((_, n) => n);
      if (this.deps.taskQueue) await this.deps.taskQueue.send(runId, taskNos);
      else for (const n of taskNos) await this.runTask(runId, n);
    } catch (error) {
      await this.deps.runs.finish(runId, { status: 'failed', finishedAt: this.clock().toISOString(), durationMs: Date.now() - started, timingsMs, error: (error as Error).message });
    }
    return (await this.deps.runs.get(runId))!;
  }

  /** Waits until the ranking index holds what was written up to `writtenAtMs` (see `rankingSettleMs`). */
  private async rankingSettled(writtenAtMs: number | undefined): Promise<void> {
    const settleMs = this.deps.rankingSettleMs ?? 0;
    if (settleMs <= 0 || writtenAtMs === undefined) return;
    const wait = writtenAtMs + settleMs - this.clock().getTime();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, settleMs)));
  }

  /**
   * Detects one task's components and applies the result in place. A failure is recorded on the run
   * (which then ends failed; the next run redoes the work) rather than retried here.
   */
  async runTask(runId: string, taskNo: number): Promise<RunRecord> {
    let loaded: [RunRecord | undefined, StoredTask | undefined, Verdict[]];
    try {
      loaded = await Promise.all([this.deps.runs.get(runId), this.deps.runs.getTask(runId, taskNo) as Promise<StoredTask | undefined>, this.deps.verdicts.all()]);
      if (!loaded[0] || !loaded[1]) throw new Error(`no task ${taskNo} of run ${runId}`);
    } catch (error) {
      return this.failTask(runId, taskNo, error);
    }
    // A queue may deliver a message again: a task of a run that has ended does nothing (applying its
    // result now could undo what a later run wrote).
    if (loaded[0].status !== 'running') return loaded[0];
    try {
      // A task of a run an earlier version coordinated (queued across an upgrade) finds the clusters of
      // its accounts on their reports only once the legacy ranking has moved there; else nothing to do.
      await this.deps.clusters.moveLegacyRanking();
    } catch (error) {
      return this.failTask(runId, taskNo, error);
    }
    return this.detectTask(runId, loaded[0], taskNo, loaded[1], loaded[2]);
  }

  private failTask(runId: string, taskNo: number, error: unknown): Promise<RunRecord> {
    return this.deps.runs.completeTask(runId, taskNo, { failed: true, error: `task ${taskNo}: ${(error as Error).message}`, counts: {}, merges: [], splits: [] }, this.clock().toISOString());
  }

  /** Detects one task's components (loading their closure when the task only says where it starts) and applies the result. */
  private async detectTask(
    runId: string,
    run: RunRecord,
    taskNo: number,
    task: StoredTask,
    verdicts: Verdict[],
    beforeCompleting?: (saved: AppliedRun, removed: string[]) => Promise<void>,
  ): Promise<RunRecord> {
    try {
      const nowMs = Date.parse(run.startedAt);
      const phaseStarted = performance.now();
      let memberships = task.memberships;
      const facts = new Map<string, AccountFacts>(task.facts ?? []);
      let closureQueries = 0;
      let visited: string[] = task.accounts;
      if (!memberships) {
        const closure = await this.deps.components.closure(
          { accounts: new Set(task.accounts), identifiers: new Set(task.identifiers) },
          {
            hubThreshold: this.options.hubThreshold,
            pdqMaxDistance: this.options.pdqMaxDistance,
            pdqChunkBits: this.options.pdqChunkBits,
            nowMs,
            verdicts,
            photoHashes: () => this.deps.changes.photoHashes(),
            seenBefore: task.since === undefined ? undefined : new Date(Date.parse(task.since) - CHANGE_LOG_MARGIN_MS).toISOString(),
          },
        );
        memberships = closure.memberships;
        for (const [account, fact] of closure.accounts) facts.set(account, fact);
        closureQueries = closure.queries;
        visited = closure.visited;
      }
      // A closure task clusters its core only (the boundary is there for exact weights).
      const core = task.core ? new Set(task.core) : undefined;
      const touched = task.core ?? [...new Set([...memberships.map((m) => m.account), ...task.accounts, ...visited])];
      // A task detects its own components only: a verdict on accounts of another task would make its
      // accounts a component here too (detection makes verdict endpoints accounts), clustered without
      // their links. A closure task's core already keeps the others out.
      const own = new Set(touched);
      const taskVerdicts = task.core ? verdicts : verdicts.filter((verdict) => own.has(verdict.a) || own.has(verdict.b));
      const previousClusters = task.previous ?? (await this.deps.clusters.clustersOfAccounts(touched));
      const detectStarted = performance.now();
      const holderTotals = task.holderTotals ? new Map(task.holderTotals) : undefined;
      const result = detectClusters({ memberships, accounts: facts, verdicts: taskVerdicts, previousClusters, nowMs, core, holderTotals, graph: task.graph }, this.options);
      const carried = new Set(result.clusters.map((cluster) => cluster.id));
      const removed = previousClusters.filter((cluster) => !carried.has(cluster.id)).map((cluster) => cluster.id);
      const saveStarted = performance.now();
      // Before the save: a task that fails after it is not redone, and the next run would not see the change again.
      const merges = result.lineage?.merges ?? [];
      if (this.deps.reviews) await this.deps.reviews.clustersChanged({ merges, grown: joinedAccounts(previousClusters, result.clusters, merges) }, { runId, startedAt: run.startedAt });
      const saved = await this.deps.clusters.applyRun(runId, { upserts: result.clusters, removed, previous: previousClusters }, run.startedAt);
      const saveMs = Math.round(performance.now() - saveStarted);
      await beforeCompleting?.(saved, removed);
      return await this.deps.runs.completeTask(
        runId,
        taskNo,
        {
          failed: false,
          counts: {
            accounts: result.stats.accounts,
            memberships: result.stats.memberships,
            links: result.stats.links,
            clusters: result.stats.clusters,
            crossPlatformClusters: result.stats.crossPlatformClusters,
            clustersWritten: saved.written,
            clustersUnchanged: saved.unchanged,
            clustersRemoved: saved.removed,
            clustersTrimmed: saved.trimmed,
            itemsWritten: saved.itemsWritten,
            closureQueries,
            taskLoadMs: Math.round(detectStarted - phaseStarted),
            taskDetectMs: Math.round(saveStarted - detectStarted),
            taskSaveMs: saveMs,
          },
          merges: result.lineage?.merges ?? [],
          splits: result.lineage?.splits ?? [],
        },
        this.clock().toISOString(),
      );
    } catch (error) {
      return this.failTask(runId, taskNo, error);
    }
  }
}
