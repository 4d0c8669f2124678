/**
 * Community detection with the Constant Potts Model over a weighted graph in CSR form: Louvain-style
 * local moving and aggregation, then a polish pass at the finest level and a split of any community
 * that is not connected (the guarantee Leiden's refinement gives).
 *
 * CPM quality of a partition: sum over communities of (internal link weight - resolution * pairs of
 * node sizes). Moving a node of size s into community C gains `weightTo(C) - resolution * s * size(C)`:
 * a node joins only when its links to C beat `resolution` per member of C, whatever the size of the
 * whole graph, so there is no resolution limit.
 *
 * Constraints: nodes in one `mustLinkGroups` group start and stay together; two nodes of a
 * `cannotLink` pair never share a community. The run is deterministic: nodes are visited in id order
 * and ties keep the current community or the first candidate in row order.
 */

/** An undirected weighted graph as compressed sparse rows: node `i`'s links are `rowStart[i]..rowStart[i+1]`. */
export interface WeightedCsr {
  nodeCount: number;
  rowStart: Int32Array;
  neighbors: Int32Array;
  weights: Float64Array;
}

export interface CpmOptions {
  resolution: number;
  maxMovePasses: number;
  /** Group label per node (0..groups-1); nodes with one label are kept in one community. */
  mustLinkGroups?: Int32Array;
  /** Pairs of nodes that must end in different communities. */
  cannotLink?: ReadonlyArray<readonly [number, number]>;
  /**
   * After CPM, two communities whose links between them add up to at least this are merged (strongest
   * first), however large they are. Infinity disables it.
   */
  mergeWeight?: number;
}

/** Gains closer than this are ties: weights are rounded to 1e-9, so this separates rounding noise from real differences. */
const GAIN_EPSILON = 1e-7;

/** Relabels `labels` (each in 0..length-1) in place to 0..k-1 in order of first appearance; returns k. */
function compactLabels(labels: Int32Array): number {
  const renamed = new Int32Array(labels.length).fill(-1);
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    if (renamed[labels[i]] === -1) renamed[labels[i]] = count++;
    labels[i] = renamed[labels[i]];
  }
  return count;
}

/** 0, 1, ..., n-1: every node in a community of its own. */
function singletons(n: number): Int32Array {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i;
  return labels;
}

function cannotListsFor(nodeCount: number, pairs: ReadonlyArray<readonly [number, number]>): Int32Array[] | null {
  if (pairs.length === 0) return null;
  const lists: number[][] = Array.from({ length: nodeCount }, () => []);
  for (const [a, b] of pairs) {
    if (a === b) continue;
    if (!lists[a].includes(b)) lists[a].push(b);
    if (!lists[b].includes(a)) lists[b].push(a);
  }
  return lists.map((list) => Int32Array.from(list));
}

/** One round of local moving; returns the number of moves made. `community` is updated in place. */
function moveNodes(graph: WeightedCsr, nodeSize: Float64Array, community: Int32Array, cannot: Int32Array[] | null, options: CpmOptions): number {
  const n = graph.nodeCount;
  const { rowStart, neighbors, weights } = graph;
  const gamma = options.resolution;
  const communitySize = new Float64Array(n);
  for (let i = 0; i < n; i++) communitySize[community[i]] += nodeSize[i];
  const emptyLabels = new Int32Array(n);
  let emptyCount = 0;
  for (let label = n - 1; label >= 0; label--) if (communitySize[label] === 0) emptyLabels[emptyCount++] = label;
  const weightTo = new Float64Array(n);
  const seen = new Int32Array(n).fill(-1);
  const candidates = new Int32Array(n);
  let totalMoves = 0;

  for (let pass = 0; pass < options.maxMovePasses; pass++) {
    let moves = 0;
    for (let node = 0; node < n; node++) {
      const own = community[node];
      const size = nodeSize[node];
      let candidateCount = 0;
      for (let at = rowStart[node]; at < rowStart[node + 1]; at++) {
        const other = neighbors[at];
        if (other === node) continue;
        const label = community[other];
        if (seen[label] !== node) {
          seen[label] = node;
          weightTo[label] = 0;
          candidates[candidateCount++] = label;
        }
        weightTo[label] += weights[at];
      }
      communitySize[own] -= size;
      const ownWeight = seen[own] === node ? weightTo[own] : 0;
      let best = own;
      let bestGain = ownWeight - gamma * size * communitySize[own];
      for (let c = 0; c < candidateCount; c++) {
        const label = candidates[c];
        if (label === own) continue;
        const gain = weightTo[label] - gamma * size * communitySize[label];
        if (gain > bestGain + GAIN_EPSILON && allowed(node, label, community, cannot)) {
          best = label;
          bestGain = gain;
        }
      }
      // Alone, a node scores 0: leave when every community costs more than it brings.
      if (bestGain < -GAIN_EPSILON && communitySize[own] > 0) {
        best = emptyLabels[--emptyCount];
        bestGain = 0;
      }
      communitySize[best] += size;
      if (best !== own) {
        if (communitySize[own] === 0) emptyLabels[emptyCount++] = own;
        community[node] = best;
        moves++;
      }
    }
    totalMoves += moves;
    if (moves === 0) break;
  }
  return totalMoves;
}

function allowed(node: number, label: number, community: Int32Array, cannot: Int32Array[] | null): boolean {
  if (cannot === null) return true;
  const partners = cannot[node];
  for (let i = 0; i < partners.length; i++) if (community[partners[i]] === label) return false;
  return true;
}

/** Collapses each community into one node; sizes add up, links between communities add up, links inside are dropped. */
function aggregate(graph: WeightedCsr, nodeSize: Float64Array, community: Int32Array, communityCount: number): { graph: WeightedCsr; nodeSize: Float64Array } {
  const memberStart = new Int32Array(communityCount + 1);
  for (let i = 0; i < graph.nodeCount; i++) memberStart[community[i] + 1]++;
  for (let c = 0; c < communityCount; c++) memberStart[c + 1] += memberStart[c];
  const fill = memberStart.slice(0, communityCount);
  const members = new Int32Array(graph.nodeCount);
  for (let i = 0; i < graph.nodeCount; i++) members[fill[community[i]]++] = i;

  const sizes = new Float64Array(communityCount);
  const rowStart = new Int32Array(communityCount + 1);
  const neighborList: number[] = [];
  const weightList: number[] = [];
  const weightTo = new Float64Array(communityCount);
  const seen = new Int32Array(communityCount).fill(-1);
  const touched: number[] = [];
  for (let c = 0; c < communityCount; c++) {
    touched.length = 0;
    for (let m = memberStart[c]; m < memberStart[c + 1]; m++) {
      const node = members[m];
      sizes[c] += nodeSize[node];
      for (let at = graph.rowStart[node]; at < graph.rowStart[node + 1]; at++) {
        const other = community[graph.neighbors[at]];
        if (other === c) continue;
        if (seen[other] !== c) {
          seen[other] = c;
          weightTo[other] = 0;
          touched.push(other);
        }
        weightTo[other] += graph.weights[at];
      }
    }
    for (const other of touched) {
      neighborList.push(other);
      weightList.push(weightTo[other]);
    }
    rowStart[c + 1] = neighborList.length;
  }
  return {
    graph: { nodeCount: communityCount, rowStart, neighbors: Int32Array.from(neighborList), weights: Float64Array.from(weightList) },
    nodeSize: sizes,
  };
}

/** Splits communities that are not connected through their own links into their connected parts. */
function splitDisconnected(graph: WeightedCsr, community: Int32Array): void {
  const n = graph.nodeCount;
  const part = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  let parts = 0;
  for (let start = 0; start < n; start++) {
    if (part[start] !== -1) continue;
    part[start] = parts;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    while (head < tail) {
      const node = queue[head++];
      for (let at = graph.rowStart[node]; at < graph.rowStart[node + 1]; at++) {
        const other = graph.neighbors[at];
        if (part[other] === -1 && community[other] === community[start]) {
          part[other] = parts;
          queue[tail++] = other;
        }
      }
    }
    parts++;
  }
  community.set(part);
}

/**
 * Merges pairs of communities whose links between them total at least `mergeWeight`, strongest pair
 * first (ties: lowest labels), unless a cannot-link forbids it; repeats until no pair qualifies.
 * CPM charges a merge by the product of the sizes, which splits a large actor whose halves are held
 * together by several strong links (two device pools joined by burner phones); an absolute amount of
 * shared evidence between two groups is itself a reason to join them.
 */
function mergeStronglyLinked(graph: WeightedCsr, community: Int32Array, cannot: ReadonlyArray<readonly [number, number]>, mergeWeight: number): void {
  for (;;) {
    const between = new Map<number, number>();
    const n = graph.nodeCount;
    for (let node = 0; node < n; node++) {
      const own = community[node];
      for (let at = graph.rowStart[node]; at < graph.rowStart[node + 1]; at++) {
        const other = community[graph.neighbors[at]];
        if (other <= own) continue;
        const key = own * n + other;
        between.set(key, (between.get(key) ?? 0) + graph.weights[at]);
      }
    }
    let bestKey = -1;
    let bestWeight = -Infinity;
    for (const [key, weight] of [...between].sort((x, y) => x[0] - y[0])) {
      if (weight < mergeWeight - GAIN_EPSILON || (bestKey !== -1 && weight <= bestWeight + GAIN_EPSILON)) continue;
      const a = Math.floor(key / n);
      const b = key % n;
      if (cannot.some(([x, y]) => (community[x] === a && community[y] === b) || (community[x] === b && community[y] === a))) continue;
      bestKey = key;
      bestWeight = weight;
    }
    if (bestKey === -1) return;
    const keep = Math.floor(bestKey / n);
    const absorbed = bestKey % n;
    for (let node = 0; node < n; node++) if (community[node] === absorbed) community[node] = keep;
  }
}

/**
 * {@link cpmPartition} of a two-node graph without constraints, without its set-up cost (most
 * components are pairs): the pair stays together when its link beats the resolution.
 */
export function pairPartition(graph: WeightedCsr, resolution: number, mergeWeight = Infinity): Int32Array {
  return pairOfWeight(graph.rowStart[1] > 0 ? graph.weights[0] : 0, resolution, mergeWeight);
}

/**
 * {@link pairPartition} of two nodes given the weight of the link between them (0 when none): together
 * when the link beats the resolution, or when it reaches `mergeWeight` (as {@link cpmPartition} merges).
 */
export function pairOfWeight(weight: number, resolution: number, mergeWeight = Infinity): Int32Array {
  const together = weight - resolution > GAIN_EPSILON || (weight > 0 && Number.isFinite(mergeWeight) && weight >= mergeWeight - GAIN_EPSILON);
  return Int32Array.of(0, together ? 0 : 1);
}

/**
 * Partitions the graph under the CPM objective; returns a community label per node, numbered
 * 0..k-1 in order of each community's lowest node.
 *
 * @example
 * // a triangle of strong links and a pendant node on a weak link
 * cpmPartition(triangleWithPendant, { resolution: 0.05, maxMovePasses: 20 }); // Int32Array [0, 0, 0, 1]
 */
export function cpmPartition(graph: WeightedCsr, options: CpmOptions): Int32Array {
  const n = graph.nodeCount;
  if (n === 0) return new Int32Array(0);

  // Level 0: must-link groups become single nodes that no move can split.
  const groupOf = options.mustLinkGroups ? Int32Array.from(options.mustLinkGroups) : singletons(n);
  const groupCount = compactLabels(groupOf);
  const base = aggregate(graph, new Float64Array(n).fill(1), groupOf, groupCount);
  const baseCannot = (options.cannotLink ?? []).map(([a, b]) => [groupOf[a], groupOf[b]] as const);

  let levelGraph = base.graph;
  let levelSize = base.nodeSize;
  let levelCannot = baseCannot;
  const membership = singletons(groupCount);
  for (;;) {
    const community = singletons(levelGraph.nodeCount);
    const moves = moveNodes(levelGraph, levelSize, community, cannotListsFor(levelGraph.nodeCount, levelCannot), options);
    if (moves === 0) break;
    const communityCount = compactLabels(community);
    for (let g = 0; g < groupCount; g++) membership[g] = community[membership[g]];
    if (communityCount === levelGraph.nodeCount) break;
    const next = aggregate(levelGraph, levelSize, community, communityCount);
    levelCannot = levelCannot.map(([a, b]) => [community[a], community[b]] as const);
    levelGraph = next.graph;
    levelSize = next.nodeSize;
  }

  // Polish at the finest movable level: aggregation can strand a group in a community it no longer fits.
  moveNodes(base.graph, base.nodeSize, membership, cannotListsFor(groupCount, baseCannot), options);
  splitDisconnected(base.graph, membership);
  if (options.mergeWeight !== undefined && Number.isFinite(options.mergeWeight)) mergeStronglyLinked(base.graph, membership, baseCannot, options.mergeWeight);

  const labels = new Int32Array(n);
  for (let node = 0; node < n; node++) labels[node] = membership[groupOf[node]];
  compactLabels(labels);
  return labels;
}
