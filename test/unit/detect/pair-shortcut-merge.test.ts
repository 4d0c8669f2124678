import { describe, expect, it } from 'vitest';
import { cpmPartition, pairPartition } from '../../../lib/detect/cpm.js';

describe('Function: pairPartition and clusterMergeWeight', () => {
  it('gives the same answer as cpmPartition when clusterMergeWeight equals cpmResolution (an allowed setting)', () => {
    const pair = { nodeCount: 2, rowStart: Int32Array.of(0, 1, 2), neighbors: Int32Array.of(1, 0), weights: Float64Array.of(0.04, 0.04) };
    const full = cpmPartition(pair, { resolution: 0.04, maxMovePasses: 20, mergeWeight: 0.04 });
    expect([...pairPartition(pair, 0.04, 0.04)]).toEqual([...full]);
  });
});
