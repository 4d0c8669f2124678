/**
 * Splits a detection run's graph into independent pieces of work: the connected components that
 * non-hub identifiers, photo near matches and same-actor verdicts make, packed into tasks. Only a
 * compact projection is held here; the weighted graph and community detection are built per task.
 */
import type { AccountFacts, ExcludedHub, Membership, Verdict } from '../detect/model.js';
import type { DetectionOptions } from '../detect/options.js';
import { PdqIndex } from '../detect/pdq-index.js';
import { UnionFind } from '../detect/union-find.js';

/** A piece of detection work: the memberships of whole components, ready to detect. */
export interface ComponentTask {
  accounts: string[];
  identifiers: string[];
  memberships: Membership[];
  facts: Array<[string, AccountFacts]>;
}

/**
 * Memberships one task carries at most (small components are packed together up to this): its item,
 * gzipped, must stay under DynamoDB's 400 KB, and a membership is ~150 bytes of JSON that gzips about
 * 2:1 (hex hashes barely compress). A larger component travels as its accounts alone, and its worker
 * loads it from the table.
 */
export const TASK_MEMBERSHIPS = 2_000;

export function partitionIntoTasks(
  input: { memberships: Membership[]; accounts: Map<string, AccountFacts>; verdicts: readonly Verdict[] },
  options: Pick<DetectionOptions, 'hubThreshold' | 'pdqMaxDistance' | 'pdqChunkBits'>,
): { tasks: ComponentTask[]; hubs: ExcludedHub[]; componentAccounts: Set<string> } {
  const accountIds = new Map<string, number>();
  const idOf = (account: string) => {
    let id = accountIds.get(account);
    if (id === undefined) accountIds.set(account, (id = accountIds.size));
    return id;
  };
  const holders = new Map<string, number[]>();
  for (const m of input.memberships) {
    const key = `${m.type}#${m.value}`;
    const list = holders.get(key);
    const id = idOf(m.account);
    if (list) list.push(id);
    else holders.set(key, [id]);
  }
  for (const verdict of input.verdicts) {
    idOf(verdict.a);
    idOf(verdict.b);
  }
  const sets = new UnionFind(accountIds.size);
  const hubs: ExcludedHub[] = [];
  const hubKeys = new Set<string>();
  const photos: Array<{ value: string; holders: number[] }> = [];
  for (const [key, ids] of holders) {
    const distinct = [...new Set(ids)];
    const cut = key.indexOf('#');
    const type = key.slice(0, cut) as Membership['type'];
    if (distinct.length > options.hubThreshold) {
      hubs.push({ type, value: key.slice(cut + 1), accounts: distinct.length });
      hubKeys.add(key);
      continue;
    }
    for (let i = 1; i < distinct.length; i++) sets.union(distinct[0], distinct[i]);
    if (type === 'photo_pdq') photos.push({ value: key.slice(cut + 1), holders: distinct });
  }
  if (photos.length > 1) {
    const index = PdqIndex.build(
      photos.map((photo) => photo.value),
      { maxDistance: options.pdqMaxDistance, chunkBits: options.pdqChunkBits },
    );
    for (const pair of index.nearPairs()) sets.union(photos[pair.a].holders[0], photos[pair.b].holders[0]);
  }
  for (const verdict of input.verdicts) if (verdict.kind === 'same-actor') sets.union(idOf(verdict.a), idOf(verdict.b));

  // Group memberships by component root, leaving out singletons (an account alone forms no cluster).
  const accountsById: string[] = [];
  for (const [account, id] of accountIds) accountsById[id] = account;
  const byRoot = new Map<number, Membership[]>();
  for (const m of input.memberships) {
    if (hubKeys.has(`${m.type}#${m.value}`)) continue;
    const id = accountIds.get(m.account)!;
    if (sets.sizeOf(id) < 2) continue;
    const root = sets.find(id);
    const list = byRoot.get(root);
    if (list) list.push(m);
    else byRoot.set(root, [m]);
  }
  const componentAccounts = new Set<string>();
  const tasks: ComponentTask[] = [];
  let current: ComponentTask | undefined;
  for (const memberships of byRoot.values()) {
    const accounts = [...new Set(memberships.map((m) => m.account))];
    accounts.forEach((account) => componentAccounts.add(account));
    if (!current || current.memberships.length + memberships.length > TASK_MEMBERSHIPS) {
      current = { accounts: [], identifiers: [], memberships: [], facts: [] };
      tasks.push(current);
    }
    current.accounts.push(...accounts);
    current.memberships.push(...memberships);
    for (const account of accounts) {
      const facts = input.accounts.get(account);
      if (facts) current.facts.push([account, facts]);
    }
  }
  return { tasks, hubs, componentAccounts };
}
