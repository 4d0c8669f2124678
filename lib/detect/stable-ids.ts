/**
 * Stable cluster ids across runs, and the lineage (splits, merges) that explains how clusters changed.
 *
 * Matching is greedy on member overlap: every (new cluster, previous cluster) pair that shares a member
 * is a candidate, ranked by Jaccard similarity, then overlap, then previous id, then the new cluster's
 * lowest member; each takes the previous id if neither side is taken yet. A new cluster left without
 * a match gets a fresh id derived from its lowest member and the run's seed, never one used by a
 * previous cluster or another cluster of this run.
 *
 * The matching decomposes: two candidates compete only if they share a cluster, so clusters of a part
 * of the graph that did not change match themselves whatever happens elsewhere (incremental runs rely on it).
 */
import { hash } from 'node:crypto';
import { byString } from './by-string.js';
import type { ClusterLineage, PreviousCluster } from './model.js';

/** A fresh cluster id: `c` and 16 hex characters of SHA-256 over the seed, the lowest member and an attempt counter. */
export function freshClusterId(seed: string, lowestMember: string, attempt = 0): string {
  return `c${hash('sha256', `${seed}\n${lowestMember}\n${attempt}`, 'hex').slice(0, 16)}`;
}

/**
 * Gives each cluster an id, reusing a previous cluster's id where members overlap.
 * `clusters[i].members` must be sorted; the returned `ids[i]` belongs to `clusters[i]`.
 *
 * @example
 * assignClusterIds([{ members: ['a#1', 'b#2', 'c#3'] }], [{ id: 'c0123', members: ['a#1', 'b#2'] }], 'run-7');
 * // { ids: ['c0123'], lineage: { kept: ['c0123'], born: [], dissolved: [], splits: [], merges: [] } }
 */
export function assignClusterIds(
  clusters: ReadonlyArray<{ members: readonly string[] }>,
  previous: readonly PreviousCluster[],
  seed: string,
  /** Ids in use elsewhere that a fresh id must not take either. */
  reservedIds: ReadonlySet<string> = new Set(),
): { ids: string[]; lineage: ClusterLineage } {
  const previousOf = new Map<string, number>();
  previous.forEach((cluster, index) => {
    for (const member of cluster.members) previousOf.set(member, index);
  });

  const candidates: Array<{ cluster: number; previous: number; overlap: number; jaccard: number }> = [];
  const noOverlaps = new Map<number, number>();
  const sourcesOf: Array<Map<number, number>> = clusters.map((cluster, index) => {
    if (previousOf.size === 0) return noOverlaps;
    const overlaps = new Map<number, number>();
    for (const member of cluster.members) {
      const from = previousOf.get(member);
      if (from !== undefined) overlaps.set(from, (overlaps.get(from) ?? 0) + 1);
    }
    for (const [from, overlap] of overlaps) {
      const union = cluster.members.length + previous[from].members.length - overlap;
      candidates.push({ cluster: index, previous: from, overlap, jaccard: overlap / union });
    }
    return overlaps;
  });
  candidates.sort(
    (x, y) =>
      y.jaccard - x.jaccard ||
      y.overlap - x.overlap ||
      (previous[x.previous].id < previous[y.previous].id ? -1 : previous[x.previous].id > previous[y.previous].id ? 1 : 0) ||
      (clusters[x.cluster].members[0] < clusters[y.cluster].members[0] ? -1 : 1),
  );

  const ids: Array<string | undefined> = new Array(clusters.length).fill(undefined);
  const previousTaken = new Uint8Array(previous.length);
  for (const candidate of candidates) {
    if (ids[candidate.cluster] !== undefined || previousTaken[candidate.previous]) continue;
    ids[candidate.cluster] = previous[candidate.previous].id;
    previousTaken[candidate.previous] = 1;
  }

  const taken = new Set([...reservedIds, ...previous.map((cluster) => cluster.id)]);
  const kept: string[] = [];
  const born: string[] = [];
  const unmatched = clusters
    .map((cluster, index) => ({ index, lowest: cluster.members[0] }))
    .filter(({ index }) => ids[index] === undefined)
    .sort((x, y) => (x.lowest < y.lowest ? -1 : 1));
  for (const { index, lowest } of unmatched) {
    let attempt = 0;
    let id = freshClusterId(seed, lowest, attempt);
    while (taken.has(id)) id = freshClusterId(seed, lowest, ++attempt);
    taken.add(id);
    ids[index] = id;
    born.push(id);
  }
  for (let index = 0; index < previous.length; index++) if (previousTaken[index]) kept.push(previous[index].id);

  const finalIds = ids as string[];
  const intoOf = new Map<number, Set<string>>();
  const merges: ClusterLineage['merges'] = [];
  sourcesOf.forEach((overlaps, index) => {
    for (const from of overlaps.keys()) {
      let into = intoOf.get(from);
      if (!into) intoOf.set(from, (into = new Set()));
      into.add(finalIds[index]);
    }
    if (overlaps.size > 1) merges.push({ into: finalIds[index], from: [...overlaps.keys()].map((from) => previous[from].id).sort() });
  });
  const splits: ClusterLineage['splits'] = [];
  for (const [from, into] of intoOf) if (into.size > 1) splits.push({ from: previous[from].id, into: [...into].sort() });
  const dissolved = previous.filter((_, index) => !previousTaken[index]).map((cluster) => cluster.id);

  return {
    ids: finalIds,
    lineage: {
      kept: kept.sort(byString),
      born: born.sort(byString),
      dissolved: dissolved.sort(byString),
      splits: splits.sort((a, b) => byString(a.from, b.from)),
      merges: merges.sort((a, b) => byString(a.into, b.into)),
    },
  };
}
