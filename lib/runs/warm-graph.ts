/**
 * The graph the last run of this process kept, held in memory for the next run of the same process
 * (a warm Lambda container, or the local stack), with the index its closure was read through. The
 * next run then neither reads the graph back from the table nor indexes it again: it patches the index
 * with what changed. When the run saved all its clusters here (one task, run in the coordinator), the
 * current clusters as its save left the ranking are held too, and the next run does not read the
 * ranking, provided no run came between (a failed one may have written part of its save). Held for one run id only, so a run that builds on another run (one coordinated in
 * another container, or a failed one's predecessor) reads the table as before.
 */
import type { GraphIndex } from '../detect/graph-index.js';
import type { CurrentCluster } from '../graph/cluster-repository.js';
import type { KeptGraph } from '../graph/run-graph-repository.js';

/**
 * What a process holds of one run's graph: the graph as kept, the index of it when a closure was read
 * through one, and the current clusters as that run's save left the ranking, when it saved them all here.
 */
export interface HeldGraph {
  kept: KeptGraph;
  index?: GraphIndex;
  clusters?: CurrentCluster[];
}

export class WarmGraph {
  private held?: { runId: string } & HeldGraph;

  /**
   * The graph `runId` kept, when this process holds it. Taken, not shared: the caller patches the index
   * in place, so a second run at once (which the run lifecycle rules out, but a stale run may be late)
   * reads the table instead.
   *
   * @example
   * const warm = this.warm.take(previousId) ?? { kept: await graphs.get(previousId) };
   */
  take(runId: string): HeldGraph | undefined {
    if (this.held?.runId !== runId) return undefined;
    const { kept, index, clusters } = this.held;
    this.held = undefined;
    return { kept, index, clusters };
  }

  /** Holds nothing any more, as a process just started. */
  forget(): void {
    this.held = undefined;
  }

  /** Adds the current clusters as run `runId`'s save left them, when the graph held is that run's. */
  holdClusters(runId: string, clusters: CurrentCluster[]): void {
    if (this.held?.runId === runId) this.held.clusters = clusters;
  }

  /** Holds what run `runId` kept, once it is stored (the graph must not be changed afterwards: runs only derive new ones from it). */
  hold(runId: string, held: HeldGraph): void {
    this.held = { runId, ...held };
  }
}
