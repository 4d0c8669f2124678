import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpmPartition, pairPartition, type WeightedCsr } from '../../../lib/detect/cpm.js';

/** An undirected CSR from an edge list. */
function csr(nodeCount: number, edges: Array<[number, number, number]>): WeightedCsr {
  const rows: Array<Array<[number, number]>> = Array.from({ length: nodeCount }, () => []);
  for (const [a, b, w] of edges) {
    rows[a].push([b, w]);
    rows[b].push([a, w]);
  }
  const rowStart = new Int32Array(nodeCount + 1);
  rows.forEach((row, i) => (rowStart[i + 1] = rowStart[i] + row.length));
  const sorted = rows.map((row) => row.sort((x, y) => x[0] - y[0]));
  return { nodeCount, rowStart, neighbors: Int32Array.from(sorted.flat().map(([n]) => n)), weights: Float64Array.from(sorted.flat().map(([, w]) => w)) };
}

const OPTIONS = { resolution: 0.1, maxMovePasses: 20 };

describe('Function: cpmPartition', () => {
  it('keeps two dense groups joined by one weak link apart', () => {
    const triangle = (o: number): Array<[number, number, number]> => [
      [o, o + 1, 1],
      [o + 1, o + 2, 1],
      [o, o + 2, 1],
    ];

    const labels = cpmPartition(csr(6, [...triangle(0), ...triangle(3), [2, 3, 0.05]]), OPTIONS);

    expect([...labels]).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('leaves a node alone when its only link is weaker than the resolution', () => {
    expect([...cpmPartition(csr(3, [[0, 1, 1], [1, 2, 0.05]]), OPTIONS)]).toEqual([0, 0, 1]);
  });

  it('keeps a must-link group together even without links', () => {
    const labels = cpmPartition(csr(3, [[0, 1, 1]]), { ...OPTIONS, mustLinkGroups: Int32Array.of(0, 1, 0) });

    expect(labels[0]).toBe(labels[2]);
  });

  it('never puts a cannot-link pair in one community, however strong the links', () => {
    const labels = cpmPartition(csr(3, [[0, 1, 5], [1, 2, 5], [0, 2, 5]]), { ...OPTIONS, cannotLink: [[0, 2]] });

    expect(labels[0]).not.toBe(labels[2]);
  });

  it('agrees with the two-node shortcut on every weight', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (weight) => {
        const graph = csr(2, [[0, 1, weight]]);
        expect([...pairPartition(graph, 0.1)]).toEqual([...cpmPartition(graph, OPTIONS)]);
      }),
    );
  });
});
