/**
 * Incremental detection: recompute only the components touched since the previous run, reuse the
 * rest, and produce exactly what a full run over everything would (same clusters, ids, links, risk,
 * hubs, lineage and stats; only timings differ).
 *
 * Why it can be exact: a component is clustered from its own content alone (lib/detect/detect.ts),
 * cluster ids are matched per block of overlapping clusters (lib/detect/stable-ids.ts), and evidence
 * ages in whole `agingStepMs` steps. When the step or the options changed since the previous run,
 * every weight changed: {@link detectIncremental} then throws {@link FullRunRequiredError} and the
 * caller runs {@link detectClustersDetailed} instead.
 *
 * What the runner supplies (the "touched closure"), which {@link collectClosure} gathers through a
 * {@link GraphSource} port:
 * 1. touched accounts: every account whose memberships were added, changed or removed (expired),
 *    whose metadata (AccountFacts) changed, or that a verdict added or removed since the previous run names;
 * 2. grown to a fixed point: every member of a previous component holding a closure account; for
 *    every identifier a closure account holds, all its holders, unless it has more than `hubThreshold`
 *    holders now *and* was a hub in the previous run too (then only its total is needed); every holder
 *    of a PDQ hash within `pdqMaxDistance` of a closure account's photo; the other end of every
 *    `same-actor` verdict naming a closure account;
 * 3. all memberships and facts of the closure accounts, and the total holder count of each
 *    identifier held by a closure account that has more than `hubThreshold` holders.
 */
import type { SignalType } from '../contract/signals.js';
import { agedNow, assembleResult, detectOver, membershipCountsOf, type DetectionState } from './detect.js';
import { FullRunRequiredError, IncrementalClosureError } from './errors.js';
import type { AccountFacts, DetectionResult, Membership, Verdict } from './model.js';
import { optionsFingerprint, resolveDetectionOptions, type DetectionOptions } from './options.js';
import { PdqIndex } from './pdq-index.js';
import { resolveVerdicts } from './verdicts.js';

export { FullRunRequiredError, IncrementalClosureError } from './errors.js';

/** The part of the graph an incremental run recomputes (see the module comment for what it must hold). */
export interface TouchedClosure {
  /** Every account of the closure. */
  accounts: string[];
  /** Every membership of every closure account. */
  memberships: Membership[];
  /** Facts of the closure accounts (risk). */
  facts: Map<string, AccountFacts>;
  /** `type\u0000value` -> total holders, for identifiers held by closure accounts with more than `hubThreshold` holders. */
  holderTotals: Map<string, number>;
}

/** Where {@link collectClosure} reads the stored graph: the DynamoDB repository in production, memory in tests. */
export interface GraphSource {
  /** All memberships of these accounts. */
  membershipsOf(accounts: readonly string[]): Promise<Membership[]>;
  /** Holders of one identifier: all of them when `limit` is undefined, otherwise at most `limit`; and the exact total. */
  holdersOf(type: SignalType, value: string, limit?: number): Promise<{ accounts: string[]; total: number }>;
  /** Stored PDQ hashes within `maxDistance` bits of `hash` (itself included when stored). */
  nearPhotos(hash: string, maxDistance: number): Promise<string[]>;
  /** Facts of these accounts. */
  factsOf(accounts: readonly string[]): Promise<Map<string, AccountFacts>>;
}

const identKey = (type: string, value: string) => `${type}\u0000${value}`;

/** Which previous component each account was in. */
function componentIndex(state: DetectionState): Map<string, number> {
  const index = new Map<string, number>();
  state.components.forEach((component, position) => {
    for (const member of component.members) index.set(member, position);
  });
  return index;
}

function previousHubKeys(state: DetectionState): Set<string> {
  const keys = new Set<string>();
  for (const hub of state.hubs) for (const value of hub.values) keys.add(identKey(hub.type, value));
  return keys;
}

/**
 * Gathers the touched closure through the source, growing it to a fixed point.
 *
 * @example
 * const closure = await collectClosure(previous.state, ['snap#a', 'wa#b'], repositorySource, { verdicts });
 * const { result, state } = detectIncremental(previous.state, closure, { verdicts, nowMs: Date.now() });
 */
export async function collectClosure(
  state: DetectionState,
  touchedAccounts: Iterable<string>,
  source: GraphSource,
  context: { verdicts?: readonly Verdict[]; options?: Partial<DetectionOptions> } = {},
): Promise<TouchedClosure> {
  const options = resolveDetectionOptions(context.options);
  const componentOf = componentIndex(state);
  const wasHub = previousHubKeys(state);
  const mustPartners = new Map<string, string[]>();
  for (const verdict of resolveVerdicts(context.verdicts ?? []).mustLink) {
    mustPartners.set(verdict.a, [...(mustPartners.get(verdict.a) ?? []), verdict.b]);
    mustPartners.set(verdict.b, [...(mustPartners.get(verdict.b) ?? []), verdict.a]);
  }
  const closure = new Set<string>();
  const memberships: Membership[] = [];
  const holderTotals = new Map<string, number>();
  const seenIdents = new Set<string>();
  let pending = [...touchedAccounts];

  while (pending.length > 0) {
    const batch: string[] = [];
    const admit = (account: string) => {
      if (closure.has(account)) return;
      closure.add(account);
      batch.push(account);
    };
    for (const account of pending) {
      admit(account);
      const component = componentOf.get(account);
      if (component !== undefined) for (const member of state.components[component].members) admit(member);
      for (const partner of mustPartners.get(account) ?? []) admit(partner);
    }
    pending = [];
    if (batch.length === 0) break;
    const found = await source.membershipsOf(batch);
    for (const membership of found) memberships.push(membership);

    const identQueue: Array<{ type: SignalType; value: string }> = [];
    for (const { type, value } of found) identQueue.push({ type, value });
    while (identQueue.length > 0) {
      const { type, value } = identQueue.pop()!;
      const key = identKey(type, value);
      if (seenIdents.has(key)) continue;
      seenIdents.add(key);
      const firstLook = await source.holdersOf(type, value, options.hubThreshold + 1);
      let holders = firstLook.accounts;
      if (firstLook.total > options.hubThreshold) {
        holderTotals.set(key, firstLook.total);
        // A new hub no longer links its holders: they must be recomputed.
        if (wasHub.has(key)) continue;
        holders = (await source.holdersOf(type, value)).accounts;
      }
      for (const holder of holders) if (!closure.has(holder)) pending.push(holder);
      if (type === 'photo_pdq') {
        for (const near of await source.nearPhotos(value, options.pdqMaxDistance)) identQueue.push({ type, value: near });
      }
    }
    for (const account of batch) for (const partner of mustPartners.get(account) ?? []) if (!closure.has(partner)) pending.push(partner);
  }
  const accounts = [...closure];
  return { accounts, memberships, facts: await source.factsOf(accounts), holderTotals };
}

/**
 * Recomputes the touched closure and reuses every other component of the previous run.
 *
 * @throws FullRunRequiredError when the options or the ageing step changed since the previous run.
 * @throws IncrementalClosureError when the closure misses part of a previous component or a must-link partner.
 * @example
 * try {
 *   ({ result, state } = detectIncremental(state, closure, { verdicts, nowMs }));
 * } catch (error) {
 *   if (!(error instanceof FullRunRequiredError)) throw error;
 *   ({ result, state } = detectClustersDetailed({ memberships, accounts, verdicts, previousClusters: state.clusters, nowMs }));
 * }
 */
export function detectIncremental(
  previous: DetectionState,
  closure: TouchedClosure,
  input: { verdicts?: readonly Verdict[]; nowMs: number },
  options: Partial<DetectionOptions> = {},
): { result: DetectionResult; state: DetectionState; recomputedAccounts: number } {
  const started = performance.now();
  const resolved = resolveDetectionOptions(options);
  const agedNowMs = agedNow(input.nowMs, resolved);
  if (previous.optionsFingerprint !== optionsFingerprint(resolved)) throw new FullRunRequiredError('detection options changed since the previous run: run a full detection');
  if (previous.agedNowMs !== agedNowMs) throw new FullRunRequiredError(`evidence aged by a step since the previous run (${new Date(previous.agedNowMs).toISOString()} -> ${new Date(agedNowMs).toISOString()}): run a full detection`);

  const inClosure = new Set(closure.accounts);
  for (const membership of closure.memberships) inClosure.add(membership.account);
  const carried = previous.components.filter((component) => {
    const inside = component.members.filter((member) => inClosure.has(member)).length;
    if (inside > 0 && inside < component.members.length) {
      const missing = component.members.find((member) => !inClosure.has(member));
      throw new IncrementalClosureError(`the closure holds part of a previous component but not account ${missing}: add every member of a touched component`);
    }
    return inside === 0;
  });
  const plan = resolveVerdicts(input.verdicts ?? []);
  for (const verdict of plan.mustLink) {
    if (inClosure.has(verdict.a) !== inClosure.has(verdict.b)) {
      throw new IncrementalClosureError(`the closure holds ${inClosure.has(verdict.a) ? verdict.a : verdict.b} but not its same-actor partner ${inClosure.has(verdict.a) ? verdict.b : verdict.a}`);
    }
  }

  const timingsMs: Record<string, number> = {};
  const { graph, outcomes } = detectOver(closure.memberships, closure.facts, plan, resolved, agedNowMs, timingsMs, closure.holderTotals, inClosure);

  const closureIdents = new Set<string>();
  for (const { type, value } of closure.memberships) closureIdents.add(identKey(type, value));
  // A hub any closure account holds is recomputed (with its total); the others carry over.
  const hubs = previous.hubs.filter((hub) => !hub.values.some((value) => closureIdents.has(identKey(hub.type, value))));
  hubs.push(...graph.hubs);

  const membershipCounts = new Map(previous.membershipCounts);
  for (const account of inClosure) membershipCounts.delete(account);
  for (const [account, count] of membershipCountsOf(graph)) membershipCounts.set(account, count);

  // Clusters of carried components keep their ids; only the recomputed part is matched (stable-ids.ts: the matching decomposes).
  const idOfLowestMember = new Map<string, string>();
  const touchedPrevious = [];
  for (const cluster of previous.clusters) {
    if (inClosure.has(cluster.members[0])) touchedPrevious.push(cluster);
    else idOfLowestMember.set([...cluster.members].sort()[0], cluster.id);
  }
  const assembled = assembleResult({
    outcomes,
    carried: { outcomes: carried, idOfLowestMember },
    hubs,
    membershipCounts,
    previousClusters: touchedPrevious,
    conflicts: plan.conflicts,
    options: resolved,
    nowMs: input.nowMs,
    agedNowMs,
    timingsMs,
    startedMs: started,
  });
  return { ...assembled, recomputedAccounts: inClosure.size };
}

/**
 * A {@link GraphSource} over memberships held in memory (the local stack, tests, benchmarks).
 *
 * @example
 * const source = inMemoryGraphSource(allMemberships, facts);
 * const closure = await collectClosure(state, touched, source);
 */
export function inMemoryGraphSource(memberships: readonly Membership[], facts: ReadonlyMap<string, AccountFacts>, options: Partial<DetectionOptions> = {}): GraphSource {
  const resolved = resolveDetectionOptions(options);
  const byAccount = new Map<string, Membership[]>();
  const holders = new Map<string, Set<string>>();
  for (const membership of memberships) {
    const list = byAccount.get(membership.account);
    if (list) list.push(membership);
    else byAccount.set(membership.account, [membership]);
    const key = identKey(membership.type, membership.value);
    const set = holders.get(key);
    if (set) set.add(membership.account);
    else holders.set(key, new Set([membership.account]));
  }
  const photos = [...new Set(memberships.filter((m) => m.type === 'photo_pdq').map((m) => m.value))];
  const index = PdqIndex.build(photos, { maxDistance: resolved.pdqMaxDistance, chunkBits: resolved.pdqChunkBits });
  return {
    async membershipsOf(accounts) {
      return accounts.flatMap((account) => byAccount.get(account) ?? []);
    },
    async holdersOf(type, value, limit) {
      const all = [...(holders.get(identKey(type, value)) ?? [])];
      return { accounts: limit === undefined ? all : all.slice(0, limit), total: all.length };
    },
    async nearPhotos(hash) {
      return index.query(hash).map(({ index: position }) => photos[position]);
    },
    async factsOf(accounts) {
      const found = new Map<string, AccountFacts>();
      for (const account of accounts) {
        const fact = facts.get(account);
        if (fact) found.set(account, fact);
      }
      return found;
    },
  };
}
