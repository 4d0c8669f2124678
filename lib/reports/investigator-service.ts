/**
 * What investigators read: system status, detection runs, the cluster queue, cluster reports,
 * and an account's cluster. Served from the newest successful detection run.
 */
import type { AccountRef } from '../contract/platforms.js';
import { NotFoundError } from '../errors.js';
import type { ClusterReport, ClusterRepository, ClusterSummary } from '../graph/cluster-repository.js';
import type { RunRecord, RunRepository } from '../graph/run-repository.js';
import type { SignalRepository } from '../graph/signal-repository.js';
import type { QueueDepth, SignalQueue } from '../ingest/signal-queue.js';

export interface StatusReport {
  signalsAccepted: number;
  /**
   * Live signals in the table, counted exactly: only when asked for (`exact`), since counting reads the
   * whole table (about 480 MB at a million signals: longer than an API call may take on AWS).
   */
  signalsStored?: number;
  queue: QueueDepth;
  lastRun: RunRecord | null;
}

export class InvestigatorService {
  constructor(
    private readonly deps: {
      signals: Pick<SignalRepository, 'acceptedCount' | 'storedCount'>;
      clusters: Pick<ClusterRepository, 'list' | 'report' | 'clusterOfAccount'>;
      runs: Pick<RunRepository, 'get' | 'latest' | 'lastSuccessfulRunId' | 'lineage'>;
      queue: Pick<SignalQueue, 'depth'>;
    },
  ) {}

  /**
   * The system's status from counters and the newest run (whose `counts.graphMemberships` is the live
   * signals it read); with `exact`, also the live signals counted in the table now.
   *
   * @example
   * await investigator.status(); // { signalsAccepted: 120, queue: {...}, lastRun: {...} }
   * await investigator.status({ exact: true }); // { signalsAccepted: 120, signalsStored: 118, queue: {...}, lastRun: {...} }
   */
  async status(options: { exact?: boolean } = {}): Promise<StatusReport> {
    const [signalsAccepted, signalsStored, queue, lastRun] = await Promise.all([
      this.deps.signals.acceptedCount(),
      options.exact ? this.deps.signals.storedCount() : undefined,
      this.deps.queue.depth(),
      this.deps.runs.latest(),
    ]);
    return { signalsAccepted, ...(signalsStored === undefined ? {} : { signalsStored }), queue, lastRun: lastRun ?? null };
  }

  async run(runId: string): Promise<RunRecord> {
    const run = await this.deps.runs.get(runId);
    if (!run) throw new NotFoundError(`no detection run ${runId}: POST /v1/detect starts one and answers its runId`);
    // Its splits and merges so far, from beside the record.
    return { ...run, lineage: await this.deps.runs.lineage(run) };
  }

  /** The current clusters, highest risk first, with the run that last succeeded. */
  async clusters(options: { limit: number; cursor?: string; minPlatforms?: number }): Promise<{ clusters: ClusterSummary[]; next: string | null; runId: string | null }> {
    const [runId, page] = await Promise.all([this.deps.runs.lastSuccessfulRunId(), this.deps.clusters.list(options)]);
    return { ...page, runId: runId ?? null };
  }

  async cluster(clusterId: string): Promise<ClusterReport> {
    const report = await this.deps.clusters.report(clusterId);
    if (!report) throw new NotFoundError(`no cluster ${clusterId}: list clusters with GET /v1/clusters`);
    return report;
  }

  async accountCluster(ref: AccountRef): Promise<ClusterReport | null> {
    const clusterId = await this.deps.clusters.clusterOfAccount(ref);
    return clusterId ? this.cluster(clusterId) : null;
  }
}
