/**
 * The graph the last run of this process kept, held in memory for the next run of the same process
 * (a warm Lambda container, or the local stack), with the index its closure was read through. The
 * next run then neither reads the graph back from the table nor indexes it again: it patches the index
 * with what changed. Held for one run id only, so a run that builds on another run (one coordinated in
 * another container, or a failed one's predecessor) reads the table as before.
 */
import type { GraphIndex } from '../detect/graph-index.js';
import type { KeptGraph } from '../graph/run-graph-repository.js';

/** What a process holds of one run's graph: the graph as kept, and the index of it when a closure was read through one. */
export interface HeldGraph {
  kept: KeptGraph;
  index?: GraphIndex;
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
    const { kept, index } = this.held;
    this.held = undefined;
    return { kept, index };
  }

  /** Holds nothing any more, as a process just started. */
  forget(): void {
    this.held = undefined;
  }

  /** Holds what run `runId` kept, once it is stored (the graph must not be changed afterwards: runs only derive new ones from it). */
  hold(runId: string, held: HeldGraph): void {
    this.held = { runId, ...held };
  }
}
