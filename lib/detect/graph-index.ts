/**
 * The graph in memory as an incremental closure reads it ({@link GraphSource}): memberships per
 * account, holders per identifier, and a PDQ index of the photos. Built once from a graph's
 * memberships, then patched in place with what changed, so that a coordinator that keeps it between
 * runs (lib/runs/warm-graph.ts) does not index the whole graph again for every run.
 *
 * Near photos are memoised per photo, every photo's at the build (one all-pairs search costs less than
 * the queries of a few closures): the answer for an indexed photo changes only when a photo is
 * indexed near it (the memo of each indexed neighbour is extended then) or when a photo loses its last
 * holder (answers keep only photos held now). Photos indexed after the build go to a short list scanned
 * linearly, and the index is rebuilt over all of them when that list grows past a tenth of it.
 */
import type { SignalType } from '../contract/signals.js';
import type { GraphSource } from './incremental.js';
import { IdentMap } from './ident-map.js';
import type { AccountFacts, Membership } from './model.js';
import { resolveDetectionOptions, type DetectionOptions } from './options.js';
import { PdqIndex, pdqDistance } from './pdq-index.js';

/** Photos indexed after the build are scanned linearly up to this many, or a tenth of the index if larger; then the index is rebuilt. */
const MIN_UNINDEXED_PHOTOS = 1024;

/** A near photo as memoised: its id (order of first indexing, the tie-break) and distance. */
interface Near {
  id: number;
  distance: number;
}

export class GraphIndex implements GraphSource {
  private readonly byAccount = new Map<string, Membership[]>();
  /** Holders per identifier as pushed: one account as itself (most identifiers have one holder), more in an array. */
  private readonly holders = new IdentMap<string | string[]>();
  /** Holder arrays known to hold each account once (deduplicated when first asked for, or when patched). */
  private readonly deduplicated = new Set<string[]>();
  /** Every photo ever indexed, by id; the PDQ index covers the first `indexedPhotos`, the rest are scanned. */
  private readonly photos: string[] = [];
  private readonly photoIds = new Map<string, number>();
  private indexedPhotos = 0;
  private pdq: PdqIndex;
  private readonly nearMemo = new Map<number, Near[]>();
  private facts: ReadonlyMap<string, AccountFacts>;
  private readonly options: DetectionOptions;

  private constructor(
    memberships: readonly Membership[],
    facts: ReadonlyMap<string, AccountFacts>,
    options: Partial<DetectionOptions>,
    private readonly minUnindexedPhotos: number,
  ) {
    this.options = resolveDetectionOptions(options);
    this.facts = facts;
    // Memberships mostly come grouped by account (as a graph was kept), so the current account's list is
    // checked before the map.
    let current: Membership[] = [];
    let currentAccount: string | undefined;
    for (const membership of memberships) {
      if (membership.account !== currentAccount) {
        currentAccount = membership.account;
        const list = this.byAccount.get(currentAccount);
        if (list) current = list;
        else this.byAccount.set(currentAccount, (current = []));
      }
      current.push(membership);
      this.addHolder(membership);
    }
    this.pdq = this.buildPdq();
    this.memoiseAll();
  }

  /**
   * Indexes a graph's memberships.
   *
   * @example
   * const index = GraphIndex.build(graph.memberships, graph.facts, options);
   * index.holdersOf('device', deviceHash); // ['snap#a', 'wa#b']
   */
  static build(
    memberships: readonly Membership[],
    facts: ReadonlyMap<string, AccountFacts>,
    options: Partial<DetectionOptions> = {},
    /** Photos first held after the build that are scanned linearly before the PDQ index is rebuilt (at least; a tenth of it when larger). */
    minUnindexedPhotos: number = MIN_UNINDEXED_PHOTOS,
  ): GraphIndex {
    return new GraphIndex(memberships, facts, options, minUnindexedPhotos);
  }

  /**
   * Makes the index that of another graph: `accounts` are those whose memberships differ (their lists
   * are replaced by what `memberships` holds for them; every other account's must be unchanged), and
   * `facts` replaces the facts.
   *
   * @example
   * const applied = applyChanges(kept, changes, nowMs);
   * index.patch(applied.graph.memberships, applied.graph.facts, applied.replaced);
   */
  patch(memberships: readonly Membership[], facts: ReadonlyMap<string, AccountFacts>, accounts: Iterable<string>): void {
    this.facts = facts;
    const replaced = new Set(accounts);
    if (replaced.size === 0) return;
    const fresh = new Map<string, Membership[]>();
    for (const account of replaced) fresh.set(account, []);
    for (const membership of memberships) fresh.get(membership.account)?.push(membership);

    // Holders lost and gained, gathered per identifier so that a large holder list is rewritten once.
    const lost = new IdentMap<Set<string>>();
    const gained = new IdentMap<Set<string>>();
    const seen = new IdentMap<true>();
    const touched: Array<{ type: SignalType; value: string }> = [];
    const note = (into: IdentMap<Set<string>>, m: Membership) => {
      let set = into.get(m.type, m.value);
      if (!set) into.set(m.type, m.value, (set = new Set()));
      set.add(m.account);
      if (!seen.has(m.type, m.value)) {
        seen.set(m.type, m.value, true);
        touched.push({ type: m.type, value: m.value });
      }
    };
    for (const [account, list] of fresh) {
      for (const m of this.byAccount.get(account) ?? []) note(lost, m);
      for (const m of list) note(gained, m);
      if (list.length > 0) this.byAccount.set(account, list);
      else this.byAccount.delete(account);
    }
    const newPhotos: string[] = [];
    for (const { type, value } of touched) {
      const held = this.holders.get(type, value);
      const before = held === undefined ? [] : typeof held === 'string' ? [held] : held;
      const gone = lost.get(type, value);
      const kept = new Set(gone ? before.filter((account) => !gone.has(account)) : before);
      for (const account of gained.get(type, value) ?? []) kept.add(account);
      if (held !== undefined && typeof held !== 'string') this.deduplicated.delete(held);
      if (kept.size === 0) {
        this.holders.set(type, value, EMPTY);
        continue;
      }
      const all = [...kept];
      this.holders.set(type, value, all.length === 1 ? all[0] : all);
      if (all.length > 1) this.deduplicated.add(all);
      if (type === 'photo_pdq' && !this.photoIds.has(value)) newPhotos.push(value);
    }
    for (const photo of newPhotos) this.indexPhoto(photo);
  }

  membershipsOf(accounts: readonly string[]): Membership[] {
    return accounts.flatMap((account) => this.byAccount.get(account) ?? []);
  }

  holdersOf(type: SignalType, value: string): string[] {
    const held = this.holders.get(type, value);
    let all = held === undefined ? EMPTY : typeof held === 'string' ? [held] : held;
    if (all.length > 1 && !this.deduplicated.has(all)) {
      all = [...new Set(all)];
      this.holders.set(type, value, all);
      this.deduplicated.add(all);
    }
    return all;
  }

  /**
   * Photos held now within `maxDistance` of `hash` (itself included when held), nearest first. The
   * index finds photos within the options' `pdqMaxDistance`: a larger `maxDistance` finds no more.
   */
  nearPhotos(hash: string, maxDistance: number = this.options.pdqMaxDistance): string[] {
    const id = this.photoIds.get(hash);
    const near = id === undefined ? this.search(hash) : this.memoised(id);
    const found: string[] = [];
    for (const { id: other, distance } of near) if (distance <= maxDistance && this.isHeld(this.photos[other])) found.push(this.photos[other]);
    return found;
  }

  factsOf(accounts: readonly string[]): Map<string, AccountFacts> {
    const found = new Map<string, AccountFacts>();
    for (const account of accounts) {
      const fact = this.facts.get(account);
      if (fact) found.set(account, fact);
    }
    return found;
  }

  private addHolder(membership: Membership): void {
    const accounts = this.holders.get(membership.type, membership.value);
    if (accounts === undefined) {
      this.holders.set(membership.type, membership.value, membership.account);
      if (membership.type === 'photo_pdq' && !this.photoIds.has(membership.value)) {
        this.photoIds.set(membership.value, this.photos.length);
        this.photos.push(membership.value);
      }
    } else if (typeof accounts === 'string') this.holders.set(membership.type, membership.value, [accounts, membership.account]);
    else accounts.push(membership.account);
  }

  private isHeld(photo: string): boolean {
    const held = this.holders.get('photo_pdq', photo);
    return held !== undefined && held.length > 0;
  }

  private buildPdq(): PdqIndex {
    this.indexedPhotos = this.photos.length;
    return PdqIndex.build(this.photos, { maxDistance: this.options.pdqMaxDistance, chunkBits: this.options.pdqChunkBits });
  }

  /**
   * Memoises the near photos of every photo indexed at the build, from one all-pairs search: about
   * 0.25 s at 43,000 photos, where a closure's walk asked the index photo by photo for 0.4 s, run after run.
   */
  private memoiseAll(): void {
    for (let id = 0; id < this.photos.length; id++) this.nearMemo.set(id, [{ id, distance: 0 }]);
    for (const { a, b, distance } of this.pdq.nearPairs()) {
      this.nearMemo.get(a)!.push({ id: b, distance });
      this.nearMemo.get(b)!.push({ id: a, distance });
    }
    for (const near of this.nearMemo.values()) if (near.length > 1) near.sort(byDistanceThenId);
  }

  /** Every photo ever indexed within the distance of `hash`, held or not, nearest first (ties in order of indexing). */
  private search(hash: string): Near[] {
    const near: Near[] = this.pdq.query(hash).map(({ index, distance }) => ({ id: index, distance }));
    for (let id = this.indexedPhotos; id < this.photos.length; id++) {
      const distance = pdqDistance(hash, this.photos[id]);
      if (distance <= this.options.pdqMaxDistance) near.push({ id, distance });
    }
    return near.sort(byDistanceThenId);
  }

  private memoised(id: number): Near[] {
    let near = this.nearMemo.get(id);
    if (!near) this.nearMemo.set(id, (near = this.search(this.photos[id])));
    return near;
  }

  /** Adds a photo first held now; every memoised answer it belongs to is extended. */
  private indexPhoto(photo: string): void {
    const id = this.photos.length;
    const near = this.search(photo);
    this.photoIds.set(photo, id);
    this.photos.push(photo);
    for (const { id: other, distance } of near) {
      const memo = this.nearMemo.get(other);
      // The new photo has the highest id, so it goes after every photo at its distance.
      if (memo) memo.splice(insertionPoint(memo, distance), 0, { id, distance });
    }
    near.splice(insertionPoint(near, 0), 0, { id, distance: 0 });
    this.nearMemo.set(id, near);
    if (this.photos.length - this.indexedPhotos > Math.max(this.minUnindexedPhotos, this.indexedPhotos / 10)) this.pdq = this.buildPdq();
  }
}

const EMPTY: string[] = [];

/** The order of a memoised answer: nearest first, ties in order of indexing. */
const byDistanceThenId = (x: Near, y: Near) => x.distance - y.distance || x.id - y.id;

/** Where an entry at `distance` with the highest id goes in a list sorted by distance then id. */
function insertionPoint(near: readonly Near[], distance: number): number {
  let at = near.length;
  while (at > 0 && near[at - 1].distance > distance) at--;
  return at;
}
