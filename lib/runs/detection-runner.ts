/**
 * A detection run over the stored graph: read the snapshot, detect, write clusters, record the run.
 * The same runner serves the local stack (in process) and the detect Lambda.
 */
import { randomUUID } from 'node:crypto';
import { detectClusters } from '../detect/detect.js';
import type { DetectionOptions } from '../detect/detect.js';
import type { ClusterRepository } from '../graph/cluster-repository.js';
import type { RunRecord, RunRepository } from '../graph/run-repository.js';
import type { SignalRepository } from '../graph/signal-repository.js';
import type { VerdictRepository } from '../graph/verdict-repository.js';

/** A run still "running" after this long is taken to have died, and a new one may start. */
export const STALE_RUN_MS = 15 * 60 * 1000;
/** How many excluded hubs a run record lists (the count of all is kept beside). */
const HUBS_LISTED = 100;

export interface DetectionRunnerDeps {
  signals: Pick<SignalRepository, 'snapshot'>;
  clusters: Pick<ClusterRepository, 'applyRun' | 'currentClusters'>;
  runs: RunRepository;
  verdicts: Pick<VerdictRepository, 'all'>;
  options?: Partial<DetectionOptions>;
  clock?: () => Date;
}

export class DetectionRunner {
  private readonly clock: () => Date;

  constructor(private readonly deps: DetectionRunnerDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Records a new run as running, unless one is running already; returns the run to follow. */
  async start(trigger: RunRecord['trigger']): Promise<{ runId: string; alreadyRunning: boolean }> {
    const latest = await this.deps.runs.latest();
    const now = this.clock();
    if (latest?.status === 'running' && now.getTime() - Date.parse(latest.startedAt) < STALE_RUN_MS) {
      return { runId: latest.runId, alreadyRunning: true };
    }
    const runId = `${now.toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
    await this.deps.runs.create({ runId, status: 'running', trigger, startedAt: now.toISOString() });
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
      const [snapshot, verdicts, previousClusters] = await Promise.all([
        time('load', () => this.deps.signals.snapshot()),
        this.deps.verdicts.all(),
        this.deps.clusters.currentClusters(),
      ]);
      const detectedAt = this.clock();
      const result = await time('detect', () =>
        detectClusters(
          { memberships: snapshot.memberships, accounts: snapshot.accounts, verdicts, previousClusters, nowMs: detectedAt.getTime() },
          this.deps.options,
        ),
      );
      const carried = new Set(result.clusters.map((cluster) => cluster.id));
      const removed = previousClusters.filter((cluster) => !carried.has(cluster.id)).map((cluster) => cluster.id);
      const saved = await time('save', () => this.deps.clusters.applyRun(runId, { upserts: result.clusters, removed }, detectedAt.toISOString()));
      const outcome = {
        status: 'succeeded' as const,
        finishedAt: this.clock().toISOString(),
        durationMs: Date.now() - started,
        timingsMs: { ...result.stats.timingsMs, ...timingsMs },
        counts: {
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
      };
      await this.deps.runs.finish(runId, outcome);
      return { ...(await this.deps.runs.get(runId))! };
    } catch (error) {
      await this.deps.runs.finish(runId, {
        status: 'failed',
        finishedAt: this.clock().toISOString(),
        durationMs: Date.now() - started,
        timingsMs,
        error: (error as Error).message,
      });
      return { ...(await this.deps.runs.get(runId))! };
    }
  }
}
