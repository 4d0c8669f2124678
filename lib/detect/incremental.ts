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
 * {@link GraphSource} port (docs/detection.md, "Incremental runs"): the touched accounts and the
 * identifiers added to or removed from them; grown to the accounts whose links changed (holders of
 * the changed units and of units whose corroboration they change),
 * the core (the previous components holding them, whole: recomputed) and the boundary (the other
 * holders of the core's units: read so that the core's weights are exact, not recomputed).
 */
import { agedNow, assembleResult, detectOver, membershipCountsOf, type DetectionState } from './detect.js';
import { FullRunRequiredError, IncrementalClosureError } from './errors.js';
import type { AccountFacts, DetectionResult, Membership, Verdict } from './model.js';
import { optionsFingerprint, resolveDetectionOptions, type DetectionOptions } from './options.js';
import { GraphIndex } from './graph-index.js';
import type { HubRecord } from './account-graph.js';
import { identKey, type TouchedClosure } from './touched-closure.js';
import { resolveVerdicts } from './verdicts.js';

export { FullRunRequiredError, IncrementalClosureError } from './errors.js';
export { collectClosure, identKey, type GraphSource, type PreviousComponents, type TouchedClosure } from './touched-closure.js';

/**
 * The previous hubs none of these memberships holds, which an incremental run carries over; a hub any
 * of them holds is recomputed from the closure (with its total).
 */
export function hubsUntouched<H extends { type: string; values: readonly string[] }>(hubs: readonly H[], memberships: readonly Membership[]): H[] {
  // Hubs are few and memberships many: look each membership's value up among the hubs' values.
  const hubsOfValue = new Map<string, H[]>();
  for (const hub of hubs) {
    for (const value of hub.values) {
      const list = hubsOfValue.get(value);
      if (list) list.push(hub);
      else hubsOfValue.set(value, [hub]);
    }
  }
  const held = new Set<H>();
  for (const { type, value } of memberships) {
    const list = hubsOfValue.get(value);
    if (list) for (const hub of list) if (hub.type === type) held.add(hub);
  }
  return hubs.filter((hub) => !held.has(hub));
}

/**
 * The previous hubs a closure carries over ({@link hubsUntouched}), each with its count now where the
 * closure read one (an identifier that gained or lost holders and is still a hub). A hub photo family
 * the closure read whole is reported as it is now (its photos and distinct holders), once, even where
 * it was two hub families before or where part of it left for the closure; one it did not read is
 * carried as it was. A hub nobody holds any more (its total, or every photo's, is 0) is dropped.
 */
export function carriedHubs(hubs: readonly HubRecord[], closure: Pick<TouchedClosure, 'memberships' | 'holderTotals' | 'familyHubs'>): HubRecord[] {
  const families = closure.familyHubs ?? new Map<string, HubRecord>();
  const carried: HubRecord[] = [];
  for (const hub of hubsUntouched(hubs, closure.memberships)) {
    // A hub photo alone (one value) is counted as an identifier is; a family, from its reading whole.
    if (hub.type === 'photo_pdq' && hub.values.length > 1) {
      // Every photo of it lost its last holder: gone (a photo still held would have put its family in the closure).
      if (hub.values.every((value) => closure.holderTotals.get(identKey('photo_pdq', value)) === 0)) continue;
      if (!hub.values.some((value) => families.has(value))) carried.push(hub);
      continue;
    }
    if (hub.type === 'photo_pdq' && families.has(hub.value)) continue;
    const total = closure.holderTotals.get(identKey(hub.type, hub.value));
    if (total === 0) continue;
    carried.push(total === undefined ? hub : { ...hub, accounts: total });
  }
  // A hub family none of whose photos the closure's memberships hold was a hub before (any other photo's
  // holders would be in the core) and is not detected again: it is carried, as read now.
  if (families.size === 0) return carried;
  const heldPhotos = new Set<string>();
  for (const m of closure.memberships) if (m.type === 'photo_pdq') heldPhotos.add(m.value);
  for (const family of new Set(families.values())) if (!family.values.some((value) => heldPhotos.has(value))) carried.push(family);
  return carried;
}

/** The lowest of some account keys (a cluster's members are sorted when detection made them, but a caller's may not be). */
function lowestOf(members: readonly string[]): string {
  let lowest = members[0];
  for (const member of members) if (member < lowest) lowest = member;
  return lowest;
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

  const hubs = [...carriedHubs(previous.hubs, closure), ...graph.hubs];

  const membershipCounts = new Map(previous.membershipCounts);
  for (const account of inClosure) membershipCounts.delete(account);
  for (const [account, count] of membershipCountsOf(graph)) membershipCounts.set(account, count);

  // Clusters of carried components keep their ids; only the recomputed part is matched (stable-ids.ts: the matching decomposes).
  const idOfLowestMember = new Map<string, string>();
  const touchedPrevious = [];
  for (const cluster of previous.clusters) {
    if (inClosure.has(cluster.members[0])) touchedPrevious.push(cluster);
    else idOfLowestMember.set(lowestOf(cluster.members), cluster.id);
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
 * A {@link GraphSource} over memberships held in memory (the local stack, tests, benchmarks): a
 * {@link GraphIndex}, which a caller that keeps it may also patch.
 *
 * @example
 * const source = inMemoryGraphSource(allMemberships, facts);
 * const closure = collectClosure(state, touched, source);
 */
export function inMemoryGraphSource(memberships: readonly Membership[], facts: ReadonlyMap<string, AccountFacts>, options: Partial<DetectionOptions> = {}): GraphIndex {
  return GraphIndex.build(memberships, facts, options);
}
