/**
 * The touched closure of an incremental run ({@link collectClosure}): which accounts a change can
 * affect, the previous components holding them (the core, recomputed), and the accounts whose
 * memberships make the core's weights exact (the boundary, read only). Gathered through a
 * {@link GraphSource}; lib/detect/incremental.ts recomputes the closure, docs/detection.md describes the rules.
 */
import type { SignalType } from '../contract/signals.js';
import type { DetectionState } from './detect.js';
import type { AccountFacts, Membership, Verdict } from './model.js';
import { resolveDetectionOptions, type DetectionOptions } from './options.js';
import { specificWeight, type HubRecord } from './account-graph.js';
import { IdentMap } from './ident-map.js';
import { appendAll } from '../append-all.js';
import { partnersOf, resolveVerdicts } from './verdicts.js';

/** The part of the graph an incremental run recomputes (see the module comment for what it must hold). */
export interface TouchedClosure {
  /** The core: accounts recomputed (whole previous components and the touched accounts). */
  accounts: string[];
  /** Every membership of every core and boundary account (the boundary makes the core's weights exact). */
  memberships: Membership[];
  /** Facts of the core accounts (risk). */
  facts: Map<string, AccountFacts>;
  /**
   * `type\u0000value` -> total holders: for identifiers held by core or boundary accounts with more than
   * `hubThreshold` holders, for every IP address a core account holds (its other holders are not read),
   * and 0 for a previous hub's value that nobody holds now.
   */
  holderTotals: Map<string, number>;
  /**
   * Photo families the walk read whole that are hubs now, under each of their photos, with their photos
   * and distinct holders now: what a previous hub family carried over is reported as.
   */
  familyHubs?: ReadonlyMap<string, HubRecord>;
}

/**
 * Where {@link collectClosure} reads the graph: in memory ({@link inMemoryGraphSource}), as the run
 * coordinator holds the graph the previous run kept. Synchronous: the closure walk asks it hundreds of
 * thousands of times per run, and a promise per answer cost more than the answers.
 */
export interface GraphSource {
  /** All memberships of these accounts. */
  membershipsOf(accounts: readonly string[]): Membership[];
  /** Every holder of one identifier, each once. */
  holdersOf(type: SignalType, value: string): string[];
  /** Stored PDQ hashes within `maxDistance` bits of `hash` (itself included when stored). */
  nearPhotos(hash: string, maxDistance: number): string[];
  /** Facts of these accounts. */
  factsOf(accounts: readonly string[]): Map<string, AccountFacts>;
}

/** The key of one identifier (`type\u0000value`), as `holderTotals` and hub look-ups use it. */
export const identKey = (type: string, value: string) => `${type}\u0000${value}`;

/** What {@link collectClosure} needs of the previous run: its components (members only) and hubs. */
export type PreviousComponents = { components: ReadonlyArray<{ members: readonly string[] }>; hubs: DetectionState['hubs'] };

/** Which previous component each account was in. */
function componentIndex(state: PreviousComponents): Map<string, number> {
  const index = new Map<string, number>();
  state.components.forEach((component, position) => {
    for (const member of component.members) index.set(member, position);
  });
  return index;
}

function previousHubKeys(state: PreviousComponents): Set<string> {
  const keys = new Set<string>();
  for (const hub of state.hubs) for (const value of hub.values) keys.add(identKey(hub.type, value));
  return keys;
}

function loneHubPhotos(state: PreviousComponents): Set<string> {
  return new Set(state.hubs.filter((hub) => hub.type === 'photo_pdq' && hub.values.length === 1).map((hub) => hub.value));
}

/** Holders of one linking unit as detection would form it, read through the source. */
interface UnitLook {
  /**
   * The holders an exact graph of its holders' links needs: all of them, except for an identifier that
   * is a hub now (it links nothing, and its total is enough). A photo family is read whole even when it
   * is a hub, as detection tells a hub family only from all its photos.
   */
  holders: string[];
  /** Holders that lost or gained links through it since the previous run: all of them unless it was a hub before and still is. */
  changed: string[];
  /**
   * Whether what changed reaches only the links between pairs of its holders: an identifier that is no
   * hub, now or before. Not a photo family (which photos it joins may have changed) nor an identifier that
   * became or stopped being a hub (the hubs detection reports change with it).
   */
  pairwise: boolean;
}

/**
 * Reads units through a source, each identifier once: holders, hub totals, photo families (near
 * photos joined transitively; a photo that is a hub on its own does not bridge, as in detection).
 */
class UnitReader {
  readonly holderTotals = new Map<string, number>();
  /** Hub photo families read whole, under each of their photos (see {@link TouchedClosure.familyHubs}). */
  readonly familyHubs = new Map<string, HubRecord>();
  private readonly looks = new IdentMap<UnitLook>();
  private readonly holderCache = new IdentMap<{ accounts: string[]; total: number }>();

  constructor(
    private readonly source: GraphSource,
    private readonly options: DetectionOptions,
    private readonly wasHub: ReadonlySet<string>,
    /** Photos that were hubs on their own in the previous run (a family hub holds two photos or more). */
    private readonly loneHubPhotos: ReadonlySet<string>,
  ) {}

  /** Holders of one identifier: all of them, or none when it was a hub before and still is one (its total is kept). */
  private holders(type: SignalType, value: string): { accounts: string[]; total: number } {
    let found = this.holderCache.get(type, value);
    if (!found) {
      const accounts = this.source.holdersOf(type, value);
      found = { accounts, total: accounts.length };
      if (found.total > this.options.hubThreshold) {
        const key = identKey(type, value);
        this.holderTotals.set(key, found.total);
        if (this.wasHub.has(key)) found = { accounts: [], total: found.total };
      } else if (found.total === 0) {
        // A hub before that nobody holds now: no closure membership holds it, so its total of 0 says it is gone.
        const key = identKey(type, value);
        if (this.wasHub.has(key)) this.holderTotals.set(key, 0);
      }
      this.holderCache.set(type, value, found);
    }
    return found;
  }

  /** Keeps an identifier's holder count among the totals, for a closure that does not read its holders. */
  keepTotal(type: SignalType, value: string): void {
    this.holderTotals.set(identKey(type, value), this.holders(type, value).total);
  }

  unit(type: SignalType, value: string): UnitLook {
    let look = this.looks.get(type, value);
    if (!look) {
      look = type === 'photo_pdq' ? this.photoFamily(value) : this.identifier(type, value);
      this.looks.set(type, value, look);
    }
    return look;
  }

  private identifier(type: SignalType, value: string): UnitLook {
    const key = identKey(type, value);
    const { accounts, total } = this.holders(type, value);
    const hubNow = total > this.options.hubThreshold;
    // A hub before and now linked nothing either time; otherwise every holder's links changed or may have.
    const wasHub = this.wasHub.has(key);
    return { holders: hubNow ? [] : accounts, changed: hubNow && wasHub ? [] : accounts, pairwise: !hubNow && !wasHub };
  }

  private photoFamily(value: string): UnitLook {
    // A photo that joins nothing now and may have bridged before: one nobody holds (removed), or one that
    // is a hub on its own now and was not one on its own before (it was in a family, or new). What
    // changed are the families of the held photos near it, and the links its holders had through a
    // family that was no hub.
    const own = this.holders('photo_pdq', value);
    if (own.total === 0 || (own.total > this.options.hubThreshold && !this.loneHubPhotos.has(value))) {
      const parts = this.source
        .nearPhotos(value, this.options.pdqMaxDistance)
        // A hub photo near it bridged nothing either (and is read on its own when its holders changed).
        .filter((near) => {
          const { total } = this.holders('photo_pdq', near);
          return near !== value && total > 0 && total <= this.options.hubThreshold;
        })
        .map((near) => this.unit('photo_pdq', near));
      // A hub now that was in a hub family before linked nothing either time (and its holders are not read).
      const ownChanged = own.total === 0 ? [] : own.accounts;
      return {
        holders: own.total === 0 ? [...new Set(parts.flatMap((part) => part.holders))] : [],
        changed: [...new Set([...ownChanged, ...parts.flatMap((part) => part.changed)])],
        pairwise: false,
      };
    }
    const photos = new Set<string>([value]);
    const queue = [value];
    const holderSets: Array<{ photo: string; accounts: string[]; total: number; hub: boolean }> = [];
    while (queue.length > 0) {
      const photo = queue.pop()!;
      const { accounts, total } = this.holders('photo_pdq', photo);
      const hub = total > this.options.hubThreshold;
      holderSets.push({ photo, accounts, total, hub });
      // A hub photo does not bridge (as in detection), nor does one nobody holds (detection never sees it).
      if (hub || total === 0) continue;
      for (const near of this.source.nearPhotos(photo, this.options.pdqMaxDistance)) {
        if (!photos.has(near)) {
          photos.add(near);
          queue.push(near);
        }
      }
    }
    const family = holderSets.filter((set) => !set.hub);
    const holders = [...new Set(family.flatMap((set) => set.accounts))];
    const familyHub = holders.length > this.options.hubThreshold;
    const changed = [...new Set(holderSets.flatMap((set) => (set.hub || familyHub) && this.wasHub.has(identKey('photo_pdq', set.photo)) ? [] : set.accounts))];
    const result = { holders, changed, pairwise: false };
    if (familyHub) {
      // As detection reports it: the photos held (a hub photo stands alone), sorted, and distinct holders.
      const values = family.filter((set) => set.total > 0).map((set) => set.photo).sort();
      const record: HubRecord = { type: 'photo_pdq', value: values[0], accounts: holders.length, values };
      for (const photo of values) this.familyHubs.set(photo, record);
    }
    // Every photo of the family is the same unit: read it once. A hub photo met on the way is a unit of
    // its own (which families it no longer bridges is read from it).
    for (const set of holderSets) if (!set.hub) this.looks.set('photo_pdq', set.photo, result);
    return result;
  }
}

/**
 * An upper bound on the link between two accounts as detection would weigh it now: the sum, over the
 * units they share, of each unit's weight before corroboration (which only lowers it) and ageing (likewise).
 */
class LinkBounds {
  private readonly unitsOf = new Map<string, Map<UnitLook, number>>();

  constructor(
    private readonly reader: UnitReader,
    private readonly options: DetectionOptions,
    private readonly membershipsByAccount: ReadonlyMap<string, Membership[]>,
  ) {}

  /** Whether the link between two loaded accounts may reach `cpmResolution` (rounding included). */
  mayBeStrong(a: string, b: string): boolean {
    const [small, large] = [this.units(a), this.units(b)].sort((x, y) => x.size - y.size);
    let bound = 0;
    for (const [unit, weight] of small) if (large.has(unit)) bound += weight;
    return bound + LINK_ROUNDING >= this.options.cpmResolution;
  }

  private units(account: string): Map<UnitLook, number> {
    let units = this.unitsOf.get(account);
    if (!units) {
      units = new Map();
      for (const { type, value } of this.membershipsByAccount.get(account)!) {
        const unit = this.reader.unit(type, value);
        if (unit.holders.length >= 2) units.set(unit, specificWeight(type, unit.holders.length, this.options));
      }
      this.unitsOf.set(account, units);
    }
    return units;
  }
}

/** Link weights are rounded to 1e-9 (account-graph.ts): a bound this close to the resolution may round up to it. */
const LINK_ROUNDING = 1e-9;

/**
 * Gathers the touched closure through the source.
 *
 * 1. Affected accounts: the touched ones, and holders of the units whose weight changed: a unit whose
 *    holders changed (the `changedIdentifiers`), and a unit two of those holders share (its
 *    corroboration may have changed). Such a unit changes the links between its holders and no others.
 *    Its holders that share a previous component are affected (links inside it changed); so are two
 *    holders in different components whose link may now reach `cpmResolution` (an upper bound on it,
 *    {@link LinkBounds}, says). A holder whose changed links all stay weak keeps its component as it
 *    was. A photo family, or an identifier that became or stopped being a hub, affects all its holders.
 * 2. The core: every previous component holding an affected account, whole, and the affected accounts.
 *    Links from the core to the rest stayed weak (or did not change, and a strong one would have put its
 *    other end in the same previous component), so the core's components after the change lie inside it.
 * 3. The boundary: every other holder of a unit a core account holds (their memberships make the core's
 *    weights exact: holder counts and corroboration), with the totals of identifiers over the hub threshold;
 *    for an IP address, which takes no part in corroboration, only its total.
 *
 * @example
 * const closure = collectClosure(previous.state, ['snap#a', 'wa#b'], inMemoryGraphSource(memberships, facts), { verdicts, changedIdentifiers });
 * const { result, state } = detectIncremental(previous.state, closure, { verdicts, nowMs: Date.now() });
 */
export function collectClosure(
  state: PreviousComponents,
  touchedAccounts: Iterable<string>,
  source: GraphSource,
  context: {
    verdicts?: readonly Verdict[];
    options?: Partial<DetectionOptions>;
    /**
     * Every identifier added to, observed again on or removed from a touched account since the previous
     * run. Without it, every identifier the touched accounts hold now counts as changed (a larger
     * closure, and blind to removed values).
     */
    changedIdentifiers?: ReadonlyArray<{ type: SignalType; value: string }>;
  } = {},
): TouchedClosure {
  const options = resolveDetectionOptions(context.options);
  const walk: Walk = {
    reader: new UnitReader(source, options, previousHubKeys(state), loneHubPhotos(state)),
    loaded: new LoadedAccounts(source),
    componentOf: componentIndex(state),
    options,
  };
  const touched = [...new Set(touchedAccounts)];
  walk.loaded.load(touched);
  const changed = context.changedIdentifiers ?? touched.flatMap((account) => walk.loaded.of(account));
  const affected = new Set(touched);
  acrossStrongLinks(unitsChangedPairwise(touched, changed, walk, affected), walk, affected);
  const coreAccounts = coreOf(affected, state, walk.componentOf, mustPartnersOf(context.verdicts ?? []));
  walk.loaded.load(coreAccounts);
  walkBoundary(coreAccounts, walk);
  return {
    accounts: coreAccounts,
    memberships: concatenated(walk.loaded.all.values()),
    facts: source.factsOf(coreAccounts),
    holderTotals: walk.reader.holderTotals,
    familyHubs: walk.reader.familyHubs,
  };
}

/** The lists one after another, in one array (faster than `flat` over many short lists). */
function concatenated<T>(lists: Iterable<readonly T[]>): T[] {
  const all: T[] = [];
  for (const list of lists) appendAll(all, list);
  return all;
}

/** What the closure's steps share: the unit reader, the accounts read so far, the previous components. */
interface Walk {
  reader: UnitReader;
  loaded: LoadedAccounts;
  componentOf: ReadonlyMap<string, number>;
  options: DetectionOptions;
}

/** Memberships of the accounts the walk has read, each account read once. */
class LoadedAccounts {
  readonly all = new Map<string, Membership[]>();

  constructor(private readonly source: GraphSource) {}

  load(accounts: readonly string[]): void {
    const wanted = accounts.filter((account) => !this.all.has(account));
    for (const account of wanted) this.all.set(account, []);
    for (const membership of this.source.membershipsOf(wanted)) this.all.get(membership.account)!.push(membership);
  }

  /** Memberships of an account loaded already. */
  of(account: string): Membership[] {
    return this.all.get(account)!;
  }
}

/**
 * Step 1, the units whose weight changed: holders of a changed unit that is no pairwise one (a photo
 * family, a hub coming or going) join `affected` here; the units whose weight changed only for pairs
 * of their holders are returned, each with those holders.
 *
 * Corroboration: a pair that gained or lost a shared identifier changes the corroboration, and so the
 * weight, of every other unit both hold (IP addresses neither corroborate nor are corroborated). Such a
 * pair is two holders of a changed unit now, or a holder now and a touched account that may have held
 * it before (which one did is not known here), or two touched accounts.
 */
function unitsChangedPairwise(
  touched: readonly string[],
  changed: ReadonlyArray<{ type: SignalType; value: string }>,
  { reader, loaded }: Walk,
  affected: Set<string>,
): Map<UnitLook, readonly string[]> {
  const pairwise = new Map<UnitLook, readonly string[]>();
  const nonIpUnits = (account: string) => {
    const units = new Set<UnitLook>();
    for (const membership of loaded.of(account)) if (membership.type !== 'ip') units.add(reader.unit(membership.type, membership.value));
    return units;
  };
  const touchedHolders = new Map<UnitLook, string[]>();
  for (const account of touched) {
    for (const unit of nonIpUnits(account)) {
      const holders = touchedHolders.get(unit);
      if (holders) holders.push(account);
      else touchedHolders.set(unit, [account]);
    }
  }
  let corroborationChanged = false;
  for (const { type, value } of changed) {
    const look = reader.unit(type, value);
    if (look.pairwise) pairwise.set(look, look.changed);
    else for (const holder of look.changed) affected.add(holder);
    if (type === 'ip') continue;
    corroborationChanged = true;
    loaded.load(look.changed);
    const holdersNow = new Set(look.changed);
    const sharedBy = new Map<UnitLook, number>();
    for (const holder of look.changed) {
      for (const unit of nonIpUnits(holder)) {
        if (unit === look) continue;
        sharedBy.set(unit, (sharedBy.get(unit) ?? 0) + 1);
        if (touchedHolders.get(unit)?.some((account) => !holdersNow.has(account))) pairwise.set(unit, unit.holders);
      }
    }
    for (const [unit, holders] of sharedBy) if (holders >= 2) pairwise.set(unit, unit.holders);
  }
  if (corroborationChanged) for (const [unit, holders] of touchedHolders) if (holders.length >= 2) pairwise.set(unit, unit.holders);
  return pairwise;
}

/**
 * Step 1, which pairs of holders of a unit whose weight changed are affected. A unit changes the links
 * between its holders and no other. Holders in one previous component changed links inside it; holders
 * in different components are joined by a weak link (a strong one would have put them in one
 * component), which matters only if it may be strong now ({@link LinkBounds}).
 */
function acrossStrongLinks(pairwise: ReadonlyMap<UnitLook, readonly string[]>, { reader, loaded, componentOf, options }: Walk, affected: Set<string>): void {
  const bounds = new LinkBounds(reader, options, loaded.all);
  for (const [unit, holders] of pairwise) {
    // A photo family that is a hub (read whole, its holders kept) links nothing now; had it linked
    // before, a photo of it changed, and all its holders are affected already (unitsChangedPairwise).
    // Pairing its holders cost the square of a hub's thousands.
    if (unit.holders.length > options.hubThreshold) continue;
    const byComponent = new Map<number | string, string[]>();
    for (const holder of holders) {
      const key = componentOf.get(holder) ?? holder;
      const group = byComponent.get(key);
      if (group) group.push(holder);
      else byComponent.set(key, [holder]);
    }
    const groups = [...byComponent.values()];
    for (const group of groups) if (group.length >= 2) for (const holder of group) affected.add(holder);
    if (groups.length < 2) continue;
    loaded.load(holders);
    for (let g = 0; g < groups.length; g++) {
      for (let h = g + 1; h < groups.length; h++) {
        for (const a of groups[g]) {
          for (const b of groups[h]) {
            if (affected.has(a) && affected.has(b)) continue;
            if (bounds.mayBeStrong(a, b)) affected.add(a).add(b);
          }
        }
      }
    }
  }
}

/** The same-actor partners of each account, by the must-links in force. */
function mustPartnersOf(verdicts: readonly Verdict[]): Map<string, string[]> {
  return partnersOf(resolveVerdicts(verdicts).mustLink);
}

/** Step 2, the core: the affected accounts, with their whole previous components and must-link partners, to a fixed point. */
function coreOf(affected: ReadonlySet<string>, state: PreviousComponents, componentOf: ReadonlyMap<string, number>, mustPartners: ReadonlyMap<string, string[]>): string[] {
  const core = new Set<string>();
  // Each component is taken once: queued again from each of its members, a component of n accounts
  // queued n² of them (a component of 28,000 accounts overflowed an array and killed the process).
  const taken = new Set<number>();
  const pending = [...affected];
  while (pending.length > 0) {
    const account = pending.pop()!;
    if (core.has(account)) continue;
    core.add(account);
    const component = componentOf.get(account);
    if (component !== undefined && !taken.has(component)) {
      taken.add(component);
      for (const member of state.components[component].members) if (!core.has(member)) pending.push(member);
    }
    for (const partner of mustPartners.get(account) ?? []) if (!core.has(partner)) pending.push(partner);
  }
  return [...core];
}

/**
 * Step 3, the boundary: other holders of the core's units, and whole photo families of everything loaded.
 * Accounts read in step 1 (for a link bound or corroboration) and left out of the core are boundary
 * accounts too: their memberships are in the closure, so their photo families and hub totals must be.
 */
function walkBoundary(coreAccounts: string[], { reader, loaded }: Walk): void {
  let frontier = coreAccounts;
  let linkedFrom = true;
  const visited = new Set(coreAccounts);
  const walked = new Set<UnitLook>();
  while (frontier.length > 0) {
    const next = new Set<string>();
    if (linkedFrom) for (const account of loaded.all.keys()) if (!visited.has(account)) next.add(account);
    for (const account of frontier) {
      for (const { type, value } of loaded.of(account)) {
        // Core accounts need every holder of their units; boundary accounts only their photo families
        // complete, and the totals of their identifiers over the hub threshold (the reader keeps them).
        if (!linkedFrom && type !== 'photo_pdq') {
          reader.unit(type, value);
          continue;
        }
        // An IP address neither corroborates nor is corroborated: its holder count is all the core's
        // weights need of it, so its other holders are not read.
        if (type === 'ip') {
          reader.keepTotal(type, value);
          continue;
        }
        // Each unit's holders once: a photo family read whole (a hub of 15,000 holders, say) was walked
        // again from each of its holders.
        const unit = reader.unit(type, value);
        if (walked.has(unit)) continue;
        walked.add(unit);
        for (const holder of unit.holders) if (!visited.has(holder)) next.add(holder);
      }
    }
    frontier = [...next];
    for (const account of frontier) visited.add(account);
    loaded.load(frontier);
    linkedFrom = false;
  }
}
