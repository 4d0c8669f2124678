/**
 * Detection: from memberships (account held identifier) to clusters of accounts run by one actor.
 *
 * 1. Build the account graph (lib/detect/account-graph.ts): hubs left out, photo near-duplicates joined
 *    through the PDQ index, evidence weighted by type, specificity and age.
 * 2. Connected components of the links and of the `same-actor` verdicts (union-find).
 * 3. Inside each component, communities under the Constant Potts Model (lib/detect/cpm.ts), honouring
 *    must-links and cannot-links (lib/detect/verdicts.ts).
 * 4. Clusters (communities of 2+ accounts) with their links, evidence, verdicts and risk
 *    (lib/reports/risk.ts); ids carried over from the previous run (lib/detect/stable-ids.ts).
 *
 * Every component is clustered from its own content alone (its accounts sorted by key, its identifiers,
 * its verdicts), which is what lets an incremental run (lib/detect/incremental.ts) recompute only the
 * components that changed and still equal a full run.
 */
import { SIGNAL_TYPES } from '../contract/signals.js';
import { platformsOf, scoreClusterRisk } from '../reports/risk.js';
import { byString } from './by-string.js';
import { buildAccountGraph, type AccountGraph, type HubRecord } from './account-graph.js';
import { cpmPartition, pairOfWeight, pairPartition } from './cpm.js';
import type { AccountFacts, ClusterLink, DetectedCluster, DetectionInput, DetectionResult, LinkEvidence, Membership, PreviousCluster, Verdict } from './model.js';
import { optionsFingerprint, resolveDetectionOptions, type DetectionOptions } from './options.js';
import { pdqDistance } from './pdq-index.js';
import { IncrementalClosureError } from './errors.js';
import { assignClusterIds } from './stable-ids.js';
import { UnionFind } from './union-find.js';
import { resolveVerdicts, type VerdictPlan } from './verdicts.js';

export { DEFAULT_DETECTION_OPTIONS, DetectionOptionsError, resolveDetectionOptions, type DetectionOptions } from './options.js';

/** A cluster before it has an id. */
export type ClusterDraft = Omit<DetectedCluster, 'id'>;

/** What detection found in one connected component of two or more accounts. */
export interface ComponentOutcome {
  /** Accounts of the component, sorted. */
  members: string[];
  /** Linked pairs inside the component. */
  links: number;
  /** Its clusters, by lowest member. */
  clusters: ClusterDraft[];
}

/**
 * What an incremental run needs from the previous run besides its clusters (see lib/detect/incremental.ts).
 * Keep it in memory between runs, or serialise it (Maps as entry arrays).
 */
export interface DetectionState {
  version: 1;
  optionsFingerprint: string;
  /** `nowMs` floored to `agingStepMs`: evidence weights were computed at this instant. */
  agedNowMs: number;
  /** Every component of two or more accounts, with its clusters. */
  components: ComponentOutcome[];
  hubs: HubRecord[];
  /** Distinct memberships per account holding at least one. */
  membershipCounts: Map<string, number>;
  /** The run's clusters with their ids (the `previousClusters` of the next run). */
  clusters: PreviousCluster[];
}

const WEIGHT_DECIMALS = 1e9;
const roundWeight = (weight: number) => Math.round(weight * WEIGHT_DECIMALS) / WEIGHT_DECIMALS;

/** Per-account verdict lookups over global account ids. */
interface VerdictIndex {
  mustPartners: Map<number, number[]>;
  cannotPartners: Map<number, number[]>;
  verdictsOf: Map<number, Verdict[]>;
}

function indexVerdicts(plan: VerdictPlan, graph: AccountGraph): VerdictIndex {
  const mustPartners = new Map<number, number[]>();
  const cannotPartners = new Map<number, number[]>();
  const verdictsOf = new Map<number, Verdict[]>();
  const push = <T>(map: Map<number, T[]>, key: number, value: T) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  const ids = (verdict: Verdict) => [graph.accountIndex.get(verdict.a), graph.accountIndex.get(verdict.b)] as const;
  for (const verdict of plan.mustLink) {
    const [a, b] = ids(verdict);
    if (a === undefined || b === undefined) continue;
    push(mustPartners, a, b);
    push(mustPartners, b, a);
  }
  for (const verdict of plan.cannotLink) {
    const [a, b] = ids(verdict);
    if (a === undefined || b === undefined) continue;
    push(cannotPartners, a, b);
    push(cannotPartners, b, a);
  }
  for (const verdict of [...plan.mustLink, ...plan.cannotLink, ...plan.conflicts]) {
    const [a, b] = ids(verdict);
    if (a === undefined || b === undefined) continue;
    push(verdictsOf, a, verdict);
    if (b !== a) push(verdictsOf, b, verdict);
  }
  return { mustPartners, cannotPartners, verdictsOf };
}

/** The links of one cluster with the evidence behind each, strongest first. */
function clusterLinks(graph: AccountGraph, members: Int32Array, rankOf: Int32Array, options: DetectionOptions): ClusterLink[] {
  const { accountKeys, accountEntryStart, accountEntries, entryUnit, unitStart, entryAccount, entryIdent, entryDecay, entryObservedAtMs, unitPairWeight, unitType, identValue } = graph;
  for (let i = 0; i < members.length; i++) rankOf[members[i]] = i;
  const links = new Map<number, ClusterLink>();
  for (let i = 0; i < members.length; i++) {
    const account = members[i];
    for (let at = accountEntryStart[account]; at < accountEntryStart[account + 1]; at++) {
      const entry = accountEntries[at];
      const unit = entryUnit[entry];
      const type = SIGNAL_TYPES[unitType[unit]];
      for (let other = unitStart[unit]; other < unitStart[unit + 1]; other++) {
        const j = rankOf[entryAccount[other]];
        if (j <= i) continue;
        const weight = roundWeight(unitPairWeight[unit] * Math.min(entryDecay[entry], entryDecay[other]));
        if (weight <= 0) continue;
        const value = identValue[entryIdent[entry]];
        const observedAtMs = Math.min(entryObservedAtMs[entry], entryObservedAtMs[other]);
        // Built whole, in one of two shapes, rather than grown afterwards.
        const evidence: LinkEvidence =
          entryIdent[entry] === entryIdent[other]
            ? { type, value, weight, observedAtMs }
            : { type, value, weight, observedAtMs, matchedValue: identValue[entryIdent[other]], distance: pdqDistance(value, identValue[entryIdent[other]]) };
        const key = i * members.length + j;
        const link = links.get(key);
        if (link) link.evidence.push(evidence);
        else links.set(key, { a: accountKeys[account], b: accountKeys[members[j]], weight: 0, evidence: [evidence] });
      }
    }
  }
  for (let i = 0; i < members.length; i++) rankOf[members[i]] = -1;
  const list = [...links.values()];
  for (const link of list) {
    link.evidence.sort((x, y) => y.weight - x.weight || byString(x.type, y.type) || byString(x.value, y.value));
    link.weight = roundWeight(link.evidence.reduce((sum, e) => sum + e.weight, 0));
  }
  list.sort((x, y) => y.weight - x.weight || byString(x.a, y.a) || byString(x.b, y.b));
  return list.slice(0, options.maxLinksPerCluster);
}

/**
 * The verdicts that shaped a cluster, by time: a must-link in force shaped the cluster holding both
 * ends; a cannot-link (or a must-link left out as a conflict) shaped it when both ends are in its component.
 */
function verdictsShaping(shaping: ReadonlySet<Verdict>, memberSet: ReadonlySet<string>, plan: VerdictPlan, inComponent: (account: string) => boolean): Verdict[] {
  return [...shaping]
    .filter((verdict) =>
      verdict.kind === 'same-actor' && !plan.conflicts.includes(verdict)
        ? memberSet.has(verdict.a) && memberSet.has(verdict.b)
        : inComponent(verdict.a) && inComponent(verdict.b),
    )
    .sort((x, y) => x.atMs - y.atMs || byString(x.a, y.a) || byString(x.b, y.b));
}

/**
 * The components detection clusters: accounts joined by links of at least `cpmResolution` and by
 * same-actor verdicts (see {@link clusterComponents} for why weaker links do not join).
 */
export function strongLinkSets(graph: AccountGraph, plan: VerdictPlan, options: Pick<DetectionOptions, 'cpmResolution'>): UnionFind {
  const { linkStart, linkNeighbor, linkWeight, accountIndex } = graph;
  const accountCount = graph.accountKeys.length;
  const sets = new UnionFind(accountCount);
  for (let a = 0; a < accountCount; a++) {
    for (let at = linkStart[a]; at < linkStart[a + 1]; at++) if (linkNeighbor[at] > a && linkWeight[at] >= options.cpmResolution) sets.union(a, linkNeighbor[at]);
  }
  for (const verdict of plan.mustLink) {
    const a = accountIndex.get(verdict.a);
    const b = accountIndex.get(verdict.b);
    if (a !== undefined && b !== undefined) sets.union(a, b);
  }
  return sets;
}

/** The members (account keys) of every set of two or more accounts, optionally only those of some accounts. */
export function componentMembers(graph: AccountGraph, sets: UnionFind, only?: ReadonlySet<string>): string[][] {
  const byRoot = new Map<number, string[]>();
  graph.accountKeys.forEach((key, account) => {
    if (only && !only.has(key)) return;
    if (sets.sizeOf(account) < 2) return;
    const root = sets.find(account);
    const members = byRoot.get(root);
    if (members) members.push(key);
    else byRoot.set(root, [key]);
  });
  return [...byRoot.values()];
}

/**
 * Finds the components of the graph and clusters each one. `facts` feed risk only.
 *
 * Components are taken over links of at least `cpmResolution`: an account joins a group only when its
 * links to the group average more than that, so a weaker link never brings two accounts together on
 * its own (it still counts inside a component). This keeps components small where weak evidence (a
 * home IP, an aged identifier) chains strangers, which is what lets an incremental run recompute little.
 * `clusterOnly`, when given, restricts the work to those accounts (an incremental closure's core; the
 * rest of the graph is there only so that the core's weights are exact).
 */
export function clusterComponents(
  graph: AccountGraph,
  plan: VerdictPlan,
  facts: ReadonlyMap<string, AccountFacts>,
  options: DetectionOptions,
  clusterOnly?: ReadonlySet<string>,
): ComponentOutcome[] {
  const accountCount = graph.accountKeys.length;
  const { linkStart, linkNeighbor, linkWeight, accountKeys } = graph;
  const verdicts = indexVerdicts(plan, graph);
  const sets = strongLinkSets(graph, plan, options);

  // Members of each component of 2+ accounts, grouped by root.
  const rootSlot = new Int32Array(accountCount).fill(-1);
  const groups: number[][] = [];
  for (let a = 0; a < accountCount; a++) {
    if (clusterOnly && !clusterOnly.has(accountKeys[a])) continue;
    const root = sets.find(a);
    if (sets.sizeOf(root) < 2) continue;
    if (rootSlot[root] === -1) {
      rootSlot[root] = groups.length;
      groups.push([]);
    }
    groups[rootSlot[root]].push(a);
  }

  if (clusterOnly) {
    for (const group of groups) {
      if (sets.sizeOf(sets.find(group[0])) !== group.length) {
        throw new IncrementalClosureError(`the component of ${accountKeys[group[0]]} reaches beyond the closure's core: the closure must hold whole components`);
      }
    }
  }
  const localOf = new Int32Array(accountCount).fill(-1);
  const weightOfLocal = new Float64Array(accountCount);
  const hasVerdicts = verdicts.mustPartners.size > 0 || verdicts.cannotPartners.size > 0;
  const rankOf = new Int32Array(accountCount).fill(-1);
  const outcomes: ComponentOutcome[] = [];
  for (const group of groups) {
    group.sort((x, y) => byString(accountKeys[x], accountKeys[y]));
    const size = group.length;
    for (let i = 0; i < size; i++) localOf[group[i]] = i;

    // Two accounts without verdicts (most components): one link, no graph to build.
    if (size === 2 && !constrainedAccount(verdicts, group[0]) && !constrainedAccount(verdicts, group[1])) {
      let weight = 0;
      for (let at = linkStart[group[0]]; at < linkStart[group[0] + 1]; at++) if (linkNeighbor[at] === group[1]) weight = linkWeight[at];
      outcomes.push(outcomeOf(group, pairOfWeight(weight, options.cpmResolution, options.clusterMergeWeight), weight > 0 ? 1 : 0));
      for (let i = 0; i < size; i++) localOf[group[i]] = -1;
      continue;
    }

    // Local CSR over the links inside the component (weak links may leave it), rows sorted by local id
    // so that every sum runs in one canonical order.
    const rowStart = new Int32Array(size + 1);
    for (let i = 0; i < size; i++) {
      let inside = 0;
      for (let at = linkStart[group[i]]; at < linkStart[group[i] + 1]; at++) if (localOf[linkNeighbor[at]] !== -1) inside++;
      rowStart[i + 1] = rowStart[i] + inside;
    }
    const neighbors = new Int32Array(rowStart[size]);
    const weights = new Float64Array(rowStart[size]);
    for (let i = 0; i < size; i++) {
      const account = group[i];
      const row = neighbors.subarray(rowStart[i], rowStart[i + 1]);
      let k = 0;
      for (let at = linkStart[account]; at < linkStart[account + 1]; at++) {
        const local = localOf[linkNeighbor[at]];
        if (local === -1) continue;
        row[k++] = local;
        weightOfLocal[local] = linkWeight[at];
      }
      row.sort();
      for (let r = 0; r < row.length; r++) weights[rowStart[i] + r] = weightOfLocal[row[r]];
    }

    let mustLinkGroups: Int32Array | undefined;
    const cannotLink: Array<readonly [number, number]> = [];
    if (hasVerdicts) {
      const localSets = new UnionFind(size);
      let constrained = false;
      for (let i = 0; i < size; i++) {
        for (const partner of verdicts.mustPartners.get(group[i]) ?? []) {
          localSets.union(i, localOf[partner]);
          constrained = true;
        }
        for (const partner of verdicts.cannotPartners.get(group[i]) ?? []) {
          const j = localOf[partner];
          if (j > i) cannotLink.push([i, j]);
        }
      }
      if (constrained) mustLinkGroups = Int32Array.from({ length: size }, (_, i) => localSets.find(i));
    }

    const graphOfComponent = { nodeCount: size, rowStart, neighbors, weights };
    const community =
      size === 2 && mustLinkGroups === undefined && cannotLink.length === 0
        ? pairPartition(graphOfComponent, options.cpmResolution, options.clusterMergeWeight)
        : cpmPartition(graphOfComponent, { resolution: options.cpmResolution, maxMovePasses: options.maxMovePasses, mergeWeight: options.clusterMergeWeight, mustLinkGroups, cannotLink });
    outcomes.push(outcomeOf(group, community, (rowStart[size] / 2) | 0));
    for (let i = 0; i < size; i++) localOf[group[i]] = -1;
  }
  return outcomes;

  /** The clusters of one component (accounts `group`, sorted; `localOf` set for them) from its communities. */
  function outcomeOf(group: number[], community: Int32Array, links: number): ComponentOutcome {
    const size = group.length;
    const members = group.map((account) => accountKeys[account]);
    const byCommunity = new Map<number, number[]>();
    for (let i = 0; i < size; i++) {
      const list = byCommunity.get(community[i]);
      if (list) list.push(i);
      else byCommunity.set(community[i], [i]);
    }
    const clusters: ClusterDraft[] = [];
    for (const locals of byCommunity.values()) {
      if (locals.length < 2) continue;
      const clusterMembers = locals.map((i) => members[i]);
      const shaping = new Set<Verdict>();
      if (hasVerdicts) for (const i of locals) for (const verdict of verdicts.verdictsOf.get(group[i]) ?? []) shaping.add(verdict);
      const platforms = platformsOf(clusterMembers);
      clusters.push({
        members: clusterMembers,
        platforms,
        links: clusterLinks(graph, Int32Array.from(locals, (i) => group[i]), rankOf, options),
        risk: scoreClusterRisk(clusterMembers, facts, undefined, platforms),
        verdicts: shaping.size === 0 ? [] : verdictsShaping(shaping, new Set(clusterMembers), plan, (account) => {
          const id = graph.accountIndex.get(account);
          return id !== undefined && localOf[id] !== -1;
        }),
      });
    }
    return { members, links, clusters };
  }
}

/** Whether an account has a verdict that constrains how its component is clustered. */
function constrainedAccount(verdicts: VerdictIndex, account: number): boolean {
  return verdicts.mustPartners.has(account) || verdicts.cannotPartners.has(account);
}

/** Orders clusters for investigators: highest risk, then largest, then id. */
export function byRisk(x: DetectedCluster, y: DetectedCluster): number {
  return y.risk.score - x.risk.score || y.members.length - x.members.length || byString(x.id, y.id);
}

/** Puts component outcomes together into a result: ids, lineage, ranking, stats; and the state for the next run. */
export function assembleResult(parts: {
  outcomes: ComponentOutcome[];
  hubs: HubRecord[];
  membershipCounts: Map<string, number>;
  previousClusters: readonly PreviousCluster[];
  conflicts: Verdict[];
  options: DetectionOptions;
  nowMs: number;
  agedNowMs: number;
  timingsMs: Record<string, number>;
  /** `performance.now()` when the run began: `timingsMs.total` runs from it. */
  startedMs: number;
  /**
   * Outcomes carried over unchanged by an incremental run, whose clusters keep the ids in `carriedIds`
   * (by lowest member): they would match their previous selves anyway, so only `outcomes` are matched
   * against `previousClusters` (the previous clusters of the recomputed part).
   */
  carried?: { outcomes: ComponentOutcome[]; idOfLowestMember: ReadonlyMap<string, string> };
}): { result: DetectionResult; state: DetectionState } {
  const assembleStarted = performance.now();
  const drafts = parts.outcomes.flatMap((outcome) => outcome.clusters);
  const seed = parts.options.idSeed ?? String(parts.nowMs);
  const carriedDrafts = parts.carried?.outcomes.flatMap((outcome) => outcome.clusters) ?? [];
  const carriedIds = carriedDrafts.map((draft) => parts.carried!.idOfLowestMember.get(draft.members[0])!);
  const { ids, lineage } = assignClusterIds(drafts, parts.previousClusters, seed, new Set(carriedIds));
  if (carriedIds.length > 0) lineage.kept = [...lineage.kept, ...carriedIds].sort(byString);
  const clusters: DetectedCluster[] = drafts.map((draft, i) => ({ id: ids[i], ...draft }));
  carriedDrafts.forEach((draft, i) => clusters.push({ id: carriedIds[i], ...draft }));
  clusters.sort(byRisk);
  const allOutcomes = parts.carried ? [...parts.carried.outcomes, ...parts.outcomes] : parts.outcomes;
  let memberships = 0;
  for (const count of parts.membershipCounts.values()) memberships += count;
  let links = 0;
  let largestComponent = parts.membershipCounts.size > 0 ? 1 : 0;
  for (const outcome of allOutcomes) {
    links += outcome.links;
    largestComponent = Math.max(largestComponent, outcome.members.length);
  }
  const hubs = [...parts.hubs].sort((a, b) => b.accounts - a.accounts || byString(a.type, b.type) || byString(a.value, b.value));
  const result: DetectionResult = {
    clusters,
    hubs: hubs.map(({ type, value, accounts }) => ({ type, value, accounts })),
    lineage,
    verdictConflicts: parts.conflicts,
    stats: {
      accounts: parts.membershipCounts.size,
      memberships,
      links,
      components: allOutcomes.length,
      largestComponent,
      clusters: clusters.length,
      crossPlatformClusters: clusters.filter((cluster) => cluster.platforms.length > 1).length,
      timingsMs: parts.timingsMs,
    },
  };
  parts.timingsMs.assemble = Math.round(performance.now() - assembleStarted);
  parts.timingsMs.total = Math.round(performance.now() - parts.startedMs);
  const state: DetectionState = {
    version: 1,
    optionsFingerprint: optionsFingerprint(parts.options),
    agedNowMs: parts.agedNowMs,
    components: allOutcomes,
    hubs,
    membershipCounts: parts.membershipCounts,
    clusters: clusters.map(({ id, members }) => ({ id, members })),
  };
  return { result, state };
}

/** `nowMs` floored to the ageing step. */
export function agedNow(nowMs: number, options: DetectionOptions): number {
  return Math.floor(nowMs / options.agingStepMs) * options.agingStepMs;
}

/** Accounts with memberships and their distinct membership counts. */
export function membershipCountsOf(graph: AccountGraph): Map<string, number> {
  const counts = new Map<string, number>();
  graph.accountKeys.forEach((key, account) => {
    if (graph.membershipCounts[account] > 0) counts.set(key, graph.membershipCounts[account]);
  });
  return counts;
}

/** Runs the graph and clustering steps over some memberships, timing each. */
export function detectOver(
  memberships: readonly Membership[],
  facts: ReadonlyMap<string, AccountFacts>,
  plan: VerdictPlan,
  options: DetectionOptions,
  agedNowMs: number,
  timingsMs: Record<string, number>,
  holderTotals?: ReadonlyMap<string, number>,
  onlyAccounts?: ReadonlySet<string>,
  /** The graph of exactly these arguments, when the caller built it already. */
  prebuilt?: AccountGraph,
): { graph: AccountGraph; outcomes: ComponentOutcome[] } {
  let at = performance.now();
  const verdictAccounts = onlyAccounts ? [...plan.accounts].filter((account) => onlyAccounts.has(account)) : plan.accounts;
  const graph = prebuilt ?? buildAccountGraph(memberships, verdictAccounts, options, agedNowMs, holderTotals);
  timingsMs.graph = Math.round(performance.now() - at);
  at = performance.now();
  const outcomes = clusterComponents(graph, plan, facts, options, onlyAccounts);
  timingsMs.cluster = Math.round(performance.now() - at);
  return { graph, outcomes };
}

/**
 * Full detection, returning the state an incremental run continues from.
 *
 * @example
 * const { result, state } = detectClustersDetailed(input);
 * // later: detectIncremental(state, closure, { verdicts, nowMs }) (lib/detect/incremental.ts)
 */
export function detectClustersDetailed(input: DetectionInput, options: Partial<DetectionOptions> = {}): { result: DetectionResult; state: DetectionState } {
  const started = performance.now();
  const resolved = resolveDetectionOptions(options);
  const plan = resolveVerdicts(input.verdicts ?? []);
  const agedNowMs = agedNow(input.nowMs, resolved);
  const timingsMs: Record<string, number> = {};
  const { graph, outcomes } = detectOver(input.memberships, input.accounts, plan, resolved, agedNowMs, timingsMs, input.holderTotals, input.core, input.graph);
  const membershipCounts = membershipCountsOf(graph);
  if (input.core) for (const account of membershipCounts.keys()) if (!input.core.has(account)) membershipCounts.delete(account);
  return assembleResult({
    outcomes,
    hubs: graph.hubs,
    membershipCounts,
    previousClusters: input.previousClusters ?? [],
    conflicts: plan.conflicts,
    options: resolved,
    nowMs: input.nowMs,
    agedNowMs,
    timingsMs,
    startedMs: started,
  });
}

/**
 * Finds clusters of accounts run by one actor.
 *
 * @throws DetectionOptionsError when an option is out of range.
 * @example
 * const result = detectClusters({ memberships, accounts: new Map(), nowMs: Date.now() }, { hubThreshold: 50 });
 * result.clusters[0]; // { id: 'c3f9…', members: ['insta#a', 'snap#b'], platforms: ['insta', 'snap'], links: [...], risk: { score, reasons }, verdicts: [] }
 * result.hubs;        // [{ type: 'ip', value: '…', accounts: 4120 }]
 */
export function detectClusters(input: DetectionInput, options: Partial<DetectionOptions> = {}): DetectionResult {
  return detectClustersDetailed(input, options).result;
}
