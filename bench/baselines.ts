/**
 * The baselines detection is measured against, each ranked by the same risk score:
 * connected components over any shared value, the same with hub values dropped, and the naive path
 * (one graphology graph of the whole population + one modularity Louvain, hubs dropped).
 */
import { UndirectedGraph } from 'graphology';
import louvainModule from 'graphology-communities-louvain';
import type { AccountFacts, Membership } from '../lib/detect/model.js';
import { DEFAULT_DETECTION_OPTIONS } from '../lib/detect/options.js';
import { UnionFind } from '../lib/detect/union-find.js';
import { scoreClusterRisk } from '../lib/reports/risk.js';

/** Accounts grouped by the identifier they share (exact values), as account-key lists. */
export function holdersByIdentifier(memberships: readonly Membership[]): Map<string, string[]> {
  const holders = new Map<string, string[]>();
  for (const { account, type, value } of memberships) {
    const key = `${type}:${value}`;
    const list = holders.get(key);
    if (!list) holders.set(key, [account]);
    else if (list[list.length - 1] !== account && !list.includes(account)) list.push(account);
  }
  return holders;
}

function rankByRisk(clusters: string[][], facts: ReadonlyMap<string, AccountFacts>): string[][] {
  return clusters
    .map((members) => ({ members, score: scoreClusterRisk(members, facts).score }))
    .sort((a, b) => b.score - a.score || b.members.length - a.members.length)
    .map(({ members }) => members);
}

/** Connected components over every shared value; `hubThreshold` drops values held by more accounts. */
export function connectedComponentsBaseline(memberships: readonly Membership[], facts: ReadonlyMap<string, AccountFacts>, hubThreshold = Infinity): string[][] {
  const index = new Map<string, number>();
  const keys: string[] = [];
  const id = (key: string) => {
    let value = index.get(key);
    if (value === undefined) {
      value = keys.length;
      index.set(key, value);
      keys.push(key);
    }
    return value;
  };
  for (const { account } of memberships) id(account);
  const sets = new UnionFind(keys.length);
  for (const holders of holdersByIdentifier(memberships).values()) {
    if (holders.length > hubThreshold) continue;
    for (let i = 1; i < holders.length; i++) sets.union(index.get(holders[0])!, index.get(holders[i])!);
  }
  const groups = new Map<number, string[]>();
  keys.forEach((key, i) => {
    const root = sets.find(i);
    const group = groups.get(root);
    if (group) group.push(key);
    else groups.set(root, [key]);
  });
  return rankByRisk([...groups.values()].filter((group) => group.length > 1), facts);
}

/**
 * The naive path: one graphology graph of all accounts (an edge per pair sharing a non-hub value,
 * weighted by type), one modularity Louvain over it.
 */
export function naiveLouvain(memberships: readonly Membership[], facts: ReadonlyMap<string, AccountFacts>, hubThreshold = DEFAULT_DETECTION_OPTIONS.hubThreshold): { clusters: string[][]; buildMs: number; louvainMs: number } {
  let at = performance.now();
  const graph = new UndirectedGraph();
  const typeOf = new Map<string, number>();
  for (const { type, value } of memberships) typeOf.set(`${type}:${value}`, DEFAULT_DETECTION_OPTIONS.typeWeights[type]);
  for (const { account } of memberships) if (!graph.hasNode(account)) graph.addNode(account);
  for (const [key, holders] of holdersByIdentifier(memberships)) {
    if (holders.length > hubThreshold || holders.length < 2) continue;
    const weight = typeOf.get(key)!;
    for (let i = 0; i < holders.length; i++) {
      for (let j = i + 1; j < holders.length; j++) {
        const edge = graph.edge(holders[i], holders[j]);
        if (edge === undefined) graph.addEdge(holders[i], holders[j], { weight });
        else graph.updateEdgeAttribute(edge, 'weight', (w: unknown) => (w as number) + weight);
      }
    }
  }
  const buildMs = performance.now() - at;
  at = performance.now();
  const communities = louvain(graph, { getEdgeWeight: 'weight', rng: seededUnit(7) });
  const louvainMs = performance.now() - at;
  const groups = new Map<number, string[]>();
  for (const [account, community] of Object.entries(communities)) {
    const group = groups.get(community);
    if (group) group.push(account);
    else groups.set(community, [account]);
  }
  return { clusters: rankByRisk([...groups.values()].filter((group) => group.length > 1), facts), buildMs, louvainMs };
}

// The package is CommonJS: under NodeNext its default import is the module object, whose call signature the types put on `.default`.
type Louvain = (graph: UndirectedGraph, options: { getEdgeWeight: string; rng: () => number }) => Record<string, number>;
const louvain = ((louvainModule as unknown as { default?: Louvain }).default ?? louvainModule) as unknown as Louvain;

function seededUnit(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
}
