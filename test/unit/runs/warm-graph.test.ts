import { describe, expect, it } from 'vitest';
import type { KeptGraph } from '../../../lib/graph/run-graph-repository.js';
import { WarmGraph } from '../../../lib/runs/warm-graph.js';

const keptBy = (runId: string): KeptGraph => ({
  graph: { memberships: [], facts: new Map(), withdrawnAt: new Map(), components: [[`${runId}#a`, `${runId}#b`]], hubs: [] },
  place: { runId, expiresAt: 1, overlays: 0 },
});

describe('Class: WarmGraph', () => {
  it('gives the graph held only to a run that builds on the run that kept it', () => {
    const warm = new WarmGraph();
    warm.hold('run-1', { kept: keptBy('run-1') });
    // The last successful run is another one (run elsewhere, or this one failed): the table is read instead.
    expect(warm.take('run-2')).toBeUndefined();
    expect(warm.take('run-1')?.kept).toEqual(keptBy('run-1'));
  });

  it('gives it once: a second run at once reads the table', () => {
    const warm = new WarmGraph();
    warm.hold('run-1', { kept: keptBy('run-1') });
    expect(warm.take('run-1')).toBeDefined();
    expect(warm.take('run-1')).toBeUndefined();
  });

  it('holds nothing once forgotten, as a container just started', () => {
    const warm = new WarmGraph();
    warm.hold('run-1', { kept: keptBy('run-1') });
    warm.forget();
    expect(warm.take('run-1')).toBeUndefined();
  });
});
