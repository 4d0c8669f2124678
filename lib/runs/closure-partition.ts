/**
 * Splits an incremental run into component tasks from the graph in memory (the previous run's graph
 * with the changes applied): the closure of the changes (lib/detect/touched-closure.ts: affected accounts,
 * the core of whole components that is recomputed, the boundary read for exact weights), its core cut
 * into groups no component crosses, each group a task carrying its own boundary. Also returns the
 * components and hubs detection forms now, which the next run starts from.
 */
import { buildAccountGraph, nearPairsThrough, type AccountGraph, type HubRecord } from '../detect/account-graph.js';
import { agedNow, componentMembers, strongLinkSets } from '../detect/detect.js';
import { IncrementalClosureError } from '../detect/errors.js';
import { carriedHubs, collectClosure, inMemoryGraphSource, type GraphSource } from '../detect/incremental.js';
import type { AccountFacts, Membership, Verdict } from '../detect/model.js';
import type { DetectionOptions } from '../detect/options.js';
import { UnionFind } from '../detect/union-find.js';
import { resolveVerdicts } from '../detect/verdicts.js';
import type { SignalType } from '../contract/signals.js';
import type { RunGraph } from './run-graph.js';
import { appendAll } from '../append-all.js';

/**
 * Core memberships one closure task takes. Larger than a full run's packs: a closure task carries its
 * boundary too, and one task over the whole closure (the usual case) needs no second look-up of it.
 * Detection over this many takes about two seconds; a larger core is cut into groups no component crosses.
 */
export const CLOSURE_TASK_MEMBERSHIPS = 250_000;

/** A piece of an incremental run: whole components to cluster (`core`), with what makes their weights exact. */
export interface ClosureTask {
  core: string[];
  /** Memberships of the core and of its boundary. */
  memberships: Membership[];
  facts: Array<[string, AccountFacts]>;
  /** `type\u0000value` -> holders, for identifiers over the hub threshold the task does not hold whole. */
  holderTotals: Array<[string, number]>;
  /**
   * The account graph detection builds over exactly this task (its memberships, its core's verdict
   * accounts, its holder totals), when the partition built it already: set, in memory only, on the one
   * task that holds the whole closure. Detection then does not build it a second time (nor reads
   * `memberships`, which such a task holds as the closure read them, uncopied).
   */
  graph?: AccountGraph;
}

export function partitionClosure(
  input: {
    /** The graph now, with the previous run's components and hubs. */
    graph: RunGraph;
    touched: readonly string[];
    changedIdentifiers: ReadonlyArray<{ type: SignalType; value: string }>;
    verdicts: readonly Verdict[];
    nowMs: number;
    /** An index of `graph` the caller keeps (lib/detect/graph-index.ts); built here when absent. */
    source?: GraphSource;
  },
  options: DetectionOptions,
  /** Core memberships one task takes (groups are never cut: a larger group is a task alone). */
  taskMemberships: number = CLOSURE_TASK_MEMBERSHIPS,
): {
  tasks: ClosureTask[];
  components: string[][];
  hubs: HubRecord[];
  /** The accounts whose components were recomputed (the tasks' cores together): every component holding one lies among them. */
  core: string[];
} {
  const { graph } = input;
  const previous = { components: graph.components.map((members) => ({ members })), hubs: graph.hubs };
  const source = input.source ?? inMemoryGraphSource(graph.memberships, graph.facts, options);
  const context = { verdicts: input.verdicts, options };
  const closure = collectClosure(previous, input.touched, source, { ...context, changedIdentifiers: input.changedIdentifiers });
  const core = new Set(closure.accounts);

  // The components detection forms in the core now (they cannot reach beyond it: see collectClosure).
  const plan = resolveVerdicts(input.verdicts);
  const closureGraph = buildAccountGraph(
    closure.memberships,
    [...plan.accounts].filter((account) => core.has(account)),
    options,
    agedNow(input.nowMs, options),
    closure.holderTotals,
    // The closure walk asked the source for every photo's near photos already.
    nearPairsThrough(source, options.pdqMaxDistance),
  );
  const sets = strongLinkSets(closureGraph, plan, options);
  const fresh = componentMembers(closureGraph, sets, core);
  for (const members of fresh) {
    if (sets.sizeOf(closureGraph.accountIndex.get(members[0])!) !== members.length) {
      throw new IncrementalClosureError(`the component of ${members[0]} reaches beyond the closure's core: the closure must hold whole components`);
    }
  }
  // A previous hub no closure account holds is carried over, recounted where it gained or lost holders.
  const hubs = [...carriedHubs(graph.hubs, closure), ...closureGraph.hubs];
  // Previous components lie wholly inside the core or wholly outside it (collectClosure takes them whole).
  const previousInCore: string[][] = [];
  const components: string[][] = [];
  for (const members of graph.components) (core.has(members[0]) ? previousInCore : components).push(members);
  appendAll(components, fresh);

  const membershipsOf = coreMembershipCounts(closure.memberships, core);
  let coreMemberships = 0;
  for (const count of membershipsOf.values()) coreMemberships += count;
  const taskOf = (part: ReturnType<typeof collectClosure>): ClosureTask => ({
    core: part.accounts,
    memberships: part.memberships.map(({ account, type, value, observedAtMs }) => ({ account, type, value, observedAtMs })),
    facts: [...part.facts],
    holderTotals: [...part.holderTotals],
  });
  if (coreMemberships <= taskMemberships) {
    // Held in memory only (not stored), so its memberships are the closure's own, not copies to store.
    const task: ClosureTask = { core: closure.accounts, memberships: closure.memberships, facts: [...closure.facts], holderTotals: [...closure.holderTotals], graph: closureGraph };
    return { tasks: core.size === 0 ? [] : [task], components, hubs, core: closure.accounts };
  }

  // Groups of the core no component crosses, previous or new: each can be recomputed alone.
  const coreList = [...core];
  const position = new Map(coreList.map((account, i) => [account, i]));
  const groups = new UnionFind(coreList.length);
  for (const members of [...fresh, ...previousInCore]) {
    for (const member of members) groups.union(position.get(members[0])!, position.get(member)!);
  }
  const byRoot = new Map<number, string[]>();
  coreList.forEach((account, i) => {
    const root = groups.find(i);
    const list = byRoot.get(root);
    if (list) list.push(account);
    else byRoot.set(root, [account]);
  });

  // Groups packed into tasks of about `taskMemberships` core memberships, each with its own boundary.
  const packs: string[][] = [];
  let load = Infinity;
  for (const group of byRoot.values()) {
    const size = group.reduce((sum, account) => sum + (membershipsOf.get(account) ?? 0), 0);
    if (load + size > taskMemberships) {
      packs.push([]);
      load = 0;
    }
    appendAll(packs[packs.length - 1], group);
    load += size;
  }
  const tasks: ClosureTask[] = [];
  for (const pack of packs) {
    tasks.push(taskOf(collectClosure(previous, pack, source, { ...context, changedIdentifiers: [] })));
  }
  return { tasks, components, hubs, core: closure.accounts };
}

/**
 * Memberships per core account. The closure holds each account's memberships together (as it read
 * them), so the core is asked once per run of one account's memberships rather than once per membership.
 */
function coreMembershipCounts(memberships: readonly Membership[], core: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  let account: string | undefined;
  let run = 0;
  const close = () => {
    if (account !== undefined && run > 0 && core.has(account)) counts.set(account, (counts.get(account) ?? 0) + run);
  };
  for (const m of memberships) {
    if (m.account !== account) {
      close();
      account = m.account;
      run = 0;
    }
    run++;
  }
  close();
  return counts;
}
