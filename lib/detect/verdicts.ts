/**
 * Investigator verdicts as constraints: `same-actor` is a must-link, `not-same-actor` a cannot-link.
 *
 * Rules: for one pair of accounts only the latest verdict counts. Must-links are applied oldest first;
 * one that would put two cannot-linked accounts into one group (through other must-links) is not
 * applied and is reported as a conflict for an investigator to resolve, because a wrong merge harms
 * more than a missed one.
 */
import { byString } from './by-string.js';
import type { Verdict } from './model.js';

export interface VerdictPlan {
  /** Must-links applied, oldest first. */
  mustLink: Verdict[];
  /** Cannot-links in force. */
  cannotLink: Verdict[];
  /** Must-links left out because they contradict a cannot-link. */
  conflicts: Verdict[];
  /** Accounts named by any verdict in force. */
  accounts: Set<string>;
}

const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

/**
 * Resolves verdicts into the constraints detection honours.
 *
 * @example
 * resolveVerdicts([{ a: 'x#1', b: 'y#2', kind: 'same-actor', by: 'ana', atMs: 1 }]).mustLink.length; // 1
 */
export function resolveVerdicts(verdicts: readonly Verdict[]): VerdictPlan {
  const latest = new Map<string, Verdict>();
  // Oldest first; at one instant the order does not depend on the input: for one pair a not-same-actor
  // verdict wins over a same-actor one (a wrong merge harms more), then pairs and investigators by name.
  const chronological = (x: Verdict, y: Verdict) =>
    x.atMs - y.atMs ||
    (x.kind === y.kind ? 0 : x.kind === 'same-actor' ? -1 : 1) ||
    byString(pairKey(x.a, x.b), pairKey(y.a, y.b)) ||
    byString(x.by, y.by) ||
    byString(x.a, y.a);
  verdicts
    .filter((verdict) => verdict.a !== verdict.b)
    .sort(chronological)
    .forEach((verdict) => latest.set(pairKey(verdict.a, verdict.b), verdict));
  // Map order is the order a pair was first seen: re-sort so that must-links apply by the verdict in force.
  const inForce = [...latest.values()].sort(chronological);
  const cannotLink = inForce.filter((verdict) => verdict.kind === 'not-same-actor');
  const cannotPartners = partnersOf(cannotLink);

  // Groups merged smaller into larger, each account pointing at its group: linear in the verdicts but
  // for a logarithmic factor (a group rebuilt on every merge was quadratic in its size).
  const groupOf = new Map<string, string[]>();
  const group = (account: string) => {
    let members = groupOf.get(account);
    if (!members) groupOf.set(account, (members = [account]));
    return members;
  };
  const mustLink: Verdict[] = [];
  const conflicts: Verdict[] = [];
  for (const verdict of inForce.filter((v) => v.kind === 'same-actor')) {
    const left = group(verdict.a);
    const right = group(verdict.b);
    if (left === right) {
      mustLink.push(verdict);
      continue;
    }
    const [small, large] = left.length <= right.length ? [left, right] : [right, left];
    const contradicts = small.some((account) => (cannotPartners.get(account) ?? []).some((partner) => groupOf.get(partner) === large));
    if (contradicts) {
      conflicts.push(verdict);
      continue;
    }
    for (const account of small) {
      large.push(account);
      groupOf.set(account, large);
    }
    mustLink.push(verdict);
  }
  const accounts = new Set<string>();
  for (const { a, b } of [...mustLink, ...cannotLink]) {
    accounts.add(a);
    accounts.add(b);
  }
  return { mustLink, cannotLink, conflicts, accounts };
}

/**
 * The other account of each verdict, per account: whom a same-actor verdict ties it to, given those verdicts.
 *
 * @example
 * partnersOf([{ a: 'x#1', b: 'y#2' }]).get('y#2'); // ['x#1']
 */
export function partnersOf(verdicts: ReadonlyArray<Pick<Verdict, 'a' | 'b'>>): Map<string, string[]> {
  const partners = new Map<string, string[]>();
  const of = (account: string) => {
    let list = partners.get(account);
    if (!list) partners.set(account, (list = []));
    return list;
  };
  for (const { a, b } of verdicts) {
    of(a).push(b);
    of(b).push(a);
  }
  return partners;
}
