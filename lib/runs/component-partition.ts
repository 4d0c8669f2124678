/**
 * Splits a full detection run into independent pieces of work: the connected components of the
 * account graph (links as detection builds them: hubs and hub photo families out) and of same-actor
 * verdicts, packed into tasks that carry their components' memberships. The coordinator builds only
 * the links; weights, community detection and reports are built per task.
 */
import { buildAccountGraph, type HubRecord } from '../detect/account-graph.js';
import { agedNow, componentMembers, strongLinkSets } from '../detect/detect.js';
import type { AccountFacts, ExcludedHub, Membership, Verdict } from '../detect/model.js';
import type { DetectionOptions } from '../detect/options.js';
import { UnionFind } from '../detect/union-find.js';
import { resolveVerdicts } from '../detect/verdicts.js';
import { appendAll } from '../append-all.js';

/** A piece of detection work: the memberships of whole components, ready to detect. */
export interface ComponentTask {
  accounts: string[];
  identifiers: string[];
  memberships: Membership[];
  facts: Array<[string, AccountFacts]>;
}

/**
 * Small components are packed into one task up to this many memberships, so that a run of thousands
 * of small components does not become thousands of invocations; a larger component is a task alone.
 */
export const TASK_MEMBERSHIPS = 2_000;

export function partitionIntoTasks(
  input: { memberships: Membership[]; accounts: Map<string, AccountFacts>; verdicts: readonly Verdict[]; nowMs: number },
  options: DetectionOptions,
  /** Keeps only the components this says yes to (an incremental run keeps those its changes touch). */
  keep: (memberships: readonly Membership[]) => boolean = () => true,
  /**
   * Accounts whose components must share a task: the members of each current cluster. A cluster that
   * split into components in different tasks would be matched by both halves to its id (each task
   * sees it as its previous cluster), and each would overwrite the other's report.
   */
  together: ReadonlyArray<readonly string[]> = [],
): {
  tasks: ComponentTask[];
  hubs: ExcludedHub[];
  /** Every hub with the values it covers, and the components detection forms (what the next incremental run starts from). */
  hubRecords: HubRecord[];
  components: string[][];
  componentAccounts: Set<string>;
} {
  const verdictAccounts = input.verdicts.flatMap((verdict) => [verdict.a, verdict.b]);
  const graph = buildAccountGraph(input.memberships, verdictAccounts, options, agedNow(input.nowMs, options));
  const { accountKeys, accountIndex, linkStart, linkNeighbor } = graph;
  const sets = new UnionFind(accountKeys.length);
  for (let a = 0; a < accountKeys.length; a++) {
    for (let at = linkStart[a]; at < linkStart[a + 1]; at++) if (linkNeighbor[at] > a) sets.union(a, linkNeighbor[at]);
  }
  for (const verdict of input.verdicts) if (verdict.kind === 'same-actor') sets.union(accountIndex.get(verdict.a)!, accountIndex.get(verdict.b)!);
  // Which task each component goes to: its own, joined with the other components of the same current cluster.
  const packing = new UnionFind(accountKeys.length);
  for (let a = 0; a < accountKeys.length; a++) packing.union(a, sets.find(a));
  for (const members of together) {
    const present = members.map((member) => accountIndex.get(member)).filter((id): id is number => id !== undefined && sets.sizeOf(id) >= 2);
    for (const id of present.slice(1)) packing.union(present[0], id);
  }

  // A hub links nothing, so a task never needs its memberships (and its holders would miscount it).
  const hubValues = new Set(graph.hubs.flatMap((hub) => hub.values.map((value) => `${hub.type}#${value}`)));
  // Every account of a component goes to its task, also one without a (non-hub) membership that a
  // same-actor verdict joins to it: the task detects it with its verdicts.
  const byRoot = new Map<number, { accounts: string[]; memberships: Membership[] }>();
  const groupOf = (id: number) => {
    const root = packing.find(id);
    let group = byRoot.get(root);
    if (!group) byRoot.set(root, (group = { accounts: [], memberships: [] }));
    return group;
  };
  for (let id = 0; id < accountKeys.length; id++) if (sets.sizeOf(id) >= 2) groupOf(id).accounts.push(accountKeys[id]);
  for (const m of input.memberships) {
    if (hubValues.has(`${m.type}#${m.value}`)) continue;
    const id = accountIndex.get(m.account)!;
    if (sets.sizeOf(id) < 2) continue;
    groupOf(id).memberships.push(m);
  }
  const componentAccounts = new Set<string>();
  const tasks: ComponentTask[] = [];
  let current: ComponentTask | undefined;
  for (const { accounts, memberships } of byRoot.values()) {
    accounts.forEach((account) => componentAccounts.add(account));
    if (!keep(memberships)) continue;
    if (!current || current.memberships.length + memberships.length > TASK_MEMBERSHIPS) {
      current = { accounts: [], identifiers: [], memberships: [], facts: [] };
      tasks.push(current);
    }
    appendAll(current.accounts, accounts);
    appendAll(current.memberships, memberships);
    for (const account of accounts) {
      const facts = input.accounts.get(account);
      if (facts) current.facts.push([account, facts]);
    }
  }
  return {
    tasks,
    hubs: graph.hubs.map(({ type, value, accounts }) => ({ type, value, accounts })),
    hubRecords: graph.hubs,
    components: componentMembers(graph, strongLinkSets(graph, resolveVerdicts(input.verdicts), options)),
    componentAccounts,
  };
}
