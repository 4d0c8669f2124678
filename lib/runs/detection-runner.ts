/**
 * A detection run over the stored graph, full or incremental, recorded as a run. The same runner
 * serves the local stack (in process) and the detect Lambda.
 *
 * A full run reads the whole graph. An incremental run reads only the closure of what changed since the
 * last successful run (lib/graph/component-loader.ts) and replaces only the clusters that closure
 * touches; it gives the same clusters as a full run would, provided the detection options, the verdicts
 * and the evidence-ageing step are those of the last run, which is when `auto` chooses it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { detectClusters } from '../detect/detect.js';
import { optionsFingerprint, resolveDetectionOptions, type DetectionOptions } from '../detect/options.js';
import type { DetectionResult, Verdict } from '../detect/model.js';
import type { ChangeLog } from '../graph/change-log.js';
import type { ClusterRepository } from '../graph/cluster-repository.js';
import type { ComponentLoader } from '../graph/component-loader.js';
import type { RunRecord, RunRepository } from '../graph/run-repository.js';
import type { SignalRepository } from '../graph/signal-repository.js';
import type { VerdictRepository } from '../graph/verdict-repository.js';

/** A run still "running" after this long is taken to have died, and a new one may start. */
export const STALE_RUN_MS = 15 * 60 * 1000;
/** How many excluded hubs a run record lists (the count of all is kept beside). */
const HUBS_LISTED = 100;

/** `auto` runs incrementally when it can give the same answer as a full run, and fully otherwise. */
export type RunMode = 'full' | 'incremental' | 'auto';

export interface DetectionRunnerDeps {
  signals: Pick<SignalRepository, 'snapshot'>;
  clusters: Pick<ClusterRepository, 'applyRun' | 'currentClusters' | 'clustersOfAccounts'>;
  runs: RunRepository;
  verdicts: Pick<VerdictRepository, 'all'>;
  changes: Pick<ChangeLog, 'since' | 'photoHashes'>;
  components: Pick<ComponentLoader, 'closure'>;
  options?: Partial<DetectionOptions>;
  clock?: () => Date;
}

function verdictsFingerprint(verdicts: Verdict[]): string {
  const lines = verdicts.map((v) => `${v.a}|${v.b}|${v.kind}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

export class DetectionRunner {
  private readonly clock: () => Date;
  private readonly options: DetectionOptions;

  constructor(private readonly deps: DetectionRunnerDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.options = resolveDetectionOptions(deps.options);
  }

  /** Records a new run as running, unless one is running already; returns the run to follow. */
  async start(trigger: RunRecord['trigger'], mode: RunMode = 'auto'): Promise<{ runId: string; alreadyRunning: boolean }> {
    const latest = await this.deps.runs.latest();
    const now = this.clock();
    if (latest?.status === 'running' && now.getTime() - Date.parse(latest.startedAt) < STALE_RUN_MS) {
      return { runId: latest.runId, alreadyRunning: true };
    }
    const runId = `${now.toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
    await this.deps.runs.create({ runId, status: 'running', trigger, requestedMode: mode, startedAt: now.toISOString() });
    return { runId, alreadyRunning: false };
  }

  /** Runs detection for a run created by {@link start}; records success or failure, never throws for a detection error. */
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
      const startedAt = run.startedAt;
      const nowMs = Date.parse(startedAt);
      const verdicts = await this.deps.verdicts.all();
      const basis = {
        optionsFingerprint: createHash('sha256').update(optionsFingerprint(this.options)).digest('hex'),
        verdictsFingerprint: verdictsFingerprint(verdicts),
        agingStep: Math.floor(nowMs / this.options.agingStepMs),
      };
      const previousId = await this.deps.runs.lastSuccessfulRunId();
      const previous = previousId ? await this.deps.runs.get(previousId) : undefined;
      const canIncrement =
        previous !== undefined &&
        previous.basis?.optionsFingerprint === basis.optionsFingerprint &&
        previous.basis?.verdictsFingerprint === basis.verdictsFingerprint &&
        previous.basis?.agingStep === basis.agingStep;
      const mode: 'full' | 'incremental' = run.requestedMode === 'full' || !canIncrement ? 'full' : 'incremental';
      if (run.requestedMode === 'incremental' && !canIncrement) {
        throw new Error('an incremental run needs a previous successful run with the same options, verdicts and ageing step: run a full one');
      }

      let result: DetectionResult;
      let previousClusters: Array<{ id: string; members: string[] }>;
      const counts: Record<string, number> = {};
      if (mode === 'full') {
        const [snapshot, current] = await Promise.all([time('load', () => this.deps.signals.snapshot(nowMs)), this.deps.clusters.currentClusters()]);
        previousClusters = current;
        result = await time('detect', () => detectClusters({ memberships: snapshot.memberships, accounts: snapshot.accounts, verdicts, previousClusters, nowMs }, this.options));
      } else {
        const changes = await time('changes', () => this.deps.changes.since(previous!.startedAt));
        const closure = await time('load', () =>
          this.deps.components.closure(changes, {
            hubThreshold: this.options.hubThreshold,
            pdqMaxDistance: this.options.pdqMaxDistance,
            pdqChunkBits: this.options.pdqChunkBits,
            nowMs,
            verdicts,
            photoHashes: () => this.deps.changes.photoHashes(),
          }),
        );
        const touched = [...new Set(closure.memberships.map((m) => m.account).concat([...changes.accounts]))];
        previousClusters = await this.deps.clusters.clustersOfAccounts(touched);
        result = await time('detect', () => detectClusters({ memberships: closure.memberships, accounts: closure.accounts, verdicts, previousClusters, nowMs }, this.options));
        result.hubs.push(...closure.hubs);
        Object.assign(counts, { changedAccounts: changes.accounts.size, changedIdentifiers: changes.identifiers.size, closureQueries: closure.queries });
      }
      const carried = new Set(result.clusters.map((cluster) => cluster.id));
      const removed = previousClusters.filter((cluster) => !carried.has(cluster.id)).map((cluster) => cluster.id);
      const saved = await time('save', () => this.deps.clusters.applyRun(runId, { upserts: result.clusters, removed }, startedAt));
      await this.deps.runs.finish(runId, {
        status: 'succeeded',
        mode,
        basis,
        finishedAt: this.clock().toISOString(),
        durationMs: Date.now() - started,
        timingsMs: { ...result.stats.timingsMs, ...timingsMs },
        counts: {
          ...counts,
          accounts: result.stats.accounts,
          memberships: result.stats.memberships,
          links: result.stats.links,
          components: result.stats.components,
          largestComponent: result.stats.largestComponent,
          clusters: result.stats.clusters,
          crossPlatformClusters: result.stats.crossPlatformClusters,
          clustersWritten: saved.written,
          clustersUnchanged: saved.unchanged,
          clustersRemoved: saved.removed,
        },
        lineage: result.lineage,
        hubs: [...result.hubs].sort((a, b) => b.accounts - a.accounts).slice(0, HUBS_LISTED),
        hubsExcluded: result.hubs.length,
      });
    } catch (error) {
      await this.deps.runs.finish(runId, {
        status: 'failed',
        finishedAt: this.clock().toISOString(),
        durationMs: Date.now() - started,
        timingsMs,
        error: (error as Error).message,
      });
    }
    return (await this.deps.runs.get(runId))!;
  }
}
