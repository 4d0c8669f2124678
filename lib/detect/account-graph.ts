/**
 * The account graph detection works on, built from memberships into typed arrays with integer ids:
 * identifiers and their holders, hubs left out, PDQ near-duplicates joined into photo families,
 * evidence weights, and the weighted links between accounts (CSR).
 *
 * Evidence weight of one shared identifier for one pair of accounts:
 * `typeWeights[type] * (holders - 1) ^ -specificityExponent * 0.5 ^ (age / halfLife[type])`,
 * where `holders` counts the accounts holding it (specificity: learnt from the data) and `age` runs from
 * the older of the two observations to `nowMs` floored to `agingStepMs`. A link's weight is the sum over
 * everything the pair shares, rounded to 1e-9 so that it does not depend on the order of summation.
 */
import { SIGNAL_TYPES, type SignalType } from '../contract/signals.js';
import type { GraphSource } from './incremental.js';
import type { ExcludedHub, Membership } from './model.js';
import type { DetectionOptions } from './options.js';
import { byString } from './by-string.js';
import { startNearPairs } from './near-pairs-job.js';
import { UnionFind } from './union-find.js';

const DAY_MS = 86_400_000;
const PHOTO_TYPE = SIGNAL_TYPES.indexOf('photo_pdq');
const WEIGHT_DECIMALS = 1e9;

/** An excluded hub and every value it covers (a photo family covers several near-identical hashes). */
export interface HubRecord extends ExcludedHub {
  values: string[];
}

export interface AccountGraph {
  accountKeys: string[];
  accountIndex: Map<string, number>;
  /** Distinct identifiers per account. */
  membershipCounts: Int32Array;
  identType: Uint8Array;
  identValue: string[];
  /** Linking units (a non-hub identifier, or a family of near-identical photos): holders as entries. */
  unitCount: number;
  unitType: Uint8Array;
  unitStart: Int32Array;
  entryAccount: Int32Array;
  /** The unit each entry belongs to. */
  entryUnit: Int32Array;
  /** The exact identifier behind each entry (differs between entries of a photo family). */
  entryIdent: Int32Array;
  entryObservedAtMs: Float64Array;
  entryDecay: Float64Array;
  /** Evidence weight one pair of holders of the unit gets before ageing. */
  unitPairWeight: Float64Array;
  /** Per account: indices of its entries (into the entry arrays). */
  accountEntryStart: Int32Array;
  accountEntries: Int32Array;
  hubs: HubRecord[];
  /** Symmetric weighted links (CSR over account ids). */
  linkStart: Int32Array;
  linkNeighbor: Int32Array;
  linkWeight: Float64Array;
}

/** Decay factor of an observation at `observedAtMs` seen from `nowMs`. */
export function ageingFactor(observedAtMs: number, nowMs: number, halfLifeDays: number): number {
  if (!Number.isFinite(halfLifeDays)) return 1;
  const ageDays = Math.max(0, nowMs - observedAtMs) / DAY_MS;
  return Math.pow(0.5, ageDays / halfLifeDays);
}

/** Weight one pair of holders gets from an identifier of `type` held by `holders` accounts, before ageing. */
export function specificWeight(type: SignalType, holders: number, options: Pick<DetectionOptions, 'typeWeights' | 'specificityExponent'>): number {
  if (holders < 2) return 0;
  return options.typeWeights[type] * Math.pow(holders - 1, -options.specificityExponent);
}

const IP_TYPE = SIGNAL_TYPES.indexOf('ip');

/**
 * Corroboration, learnt from the data: the share of a unit's holder pairs that also share some other
 * identifier (IP addresses aside, as they are shared by households and strangers alike). A phone
 * shared by one person's accounts is corroborated by their email and device; a tablet shared by a
 * household, or a popular username, is not. The unit's weight is scaled by
 * `(1 - corroborationWeight[type]) + corroborationWeight[type] * share`.
 */
function applyCorroboration(
  corroborationWeight: DetectionOptions['corroborationWeight'],
  graph: Pick<AccountGraph, 'unitCount' | 'unitType' | 'unitStart' | 'entryAccount' | 'entryUnit' | 'accountEntryStart' | 'accountEntries' | 'unitPairWeight'>,
  mark: Int32Array,
): void {
  const { unitCount, unitType, unitStart, entryAccount, entryUnit, accountEntryStart, accountEntries, unitPairWeight } = graph;
  mark.fill(-1);
  let stamp = 0;
  for (let unit = 0; unit < unitCount; unit++) {
    const first = unitStart[unit];
    const end = unitStart[unit + 1];
    const holders = end - first;
    const weight = corroborationWeight[SIGNAL_TYPES[unitType[unit]]];
    if (holders < 2 || unitType[unit] === IP_TYPE || unitPairWeight[unit] === 0 || weight === 0) continue;
    let corroborated = 0;
    for (let x = first; x < end; x++) {
      const account = entryAccount[x];
      stamp++;
      // Everyone `account` shares another (non-IP) identifier with.
      for (let at = accountEntryStart[account]; at < accountEntryStart[account + 1]; at++) {
        const other = entryUnit[accountEntries[at]];
        if (other === unit || unitType[other] === IP_TYPE) continue;
        for (let o = unitStart[other]; o < unitStart[other + 1]; o++) mark[entryAccount[o]] = stamp;
      }
      for (let y = x + 1; y < end; y++) if (mark[entryAccount[y]] === stamp) corroborated++;
    }
    const share = corroborated / ((holders * (holders - 1)) / 2);
    unitPairWeight[unit] *= 1 - weight + weight * share;
  }
  mark.fill(-1);
}

/**
 * Finds every pair of the hashes within the options' `pdqMaxDistance`, as positions packed
 * `[a, b, a, b, ...]` with `a < b` (any order of pairs); `pairs()` may wait for a search started earlier.
 */
export type PhotoPairSearch = (hashes: readonly string[]) => { pairs(): Int32Array };

/**
 * The near pairs of some held photos as a graph source knows them ({@link GraphSource.nearPhotos}),
 * for {@link buildAccountGraph}: what the source has memoised is not searched for again.
 */
export function nearPairsThrough(source: Pick<GraphSource, 'nearPhotos'>, maxDistance: number): PhotoPairSearch {
  return (hashes) => {
    const position = new Map<string, number>();
    hashes.forEach((hash, at) => position.set(hash, at));
    const pairs: number[] = [];
    hashes.forEach((hash, a) => {
      for (const near of source.nearPhotos(hash, maxDistance)) {
        const b = position.get(near);
        if (b !== undefined && b > a) pairs.push(a, b);
      }
    });
    const packed = Int32Array.from(pairs);
    return { pairs: () => packed };
  };
}

const roundWeight = (weight: number) => Math.round(weight * WEIGHT_DECIMALS) / WEIGHT_DECIMALS;

/**
 * Builds the graph. `extraAccounts` (verdict endpoints) become accounts even without memberships.
 * `holderTotals` gives, for identifiers whose holders are not all in `memberships` (an incremental
 * closure), the true number of holders, keyed `type\u0000value`: it decides hubs, and weighs an
 * identifier that is not one. Corroboration counts the holders at hand, so a closure gives the totals of
 * corroborated types only for hubs.
 */
export function buildAccountGraph(
  memberships: readonly Membership[],
  extraAccounts: Iterable<string>,
  options: DetectionOptions,
  agedNowMs: number,
  holderTotals?: ReadonlyMap<string, number>,
  /**
   * How the near pairs among the graph's distinct photo hashes are found: by default a search over them
   * ({@link startNearPairs}); an incremental closure's partition gives the pairs its graph index has
   * memoised already ({@link nearPairsThrough}).
   */
  searchPhotos: PhotoPairSearch = (hashes) => startNearPairs(hashes, { maxDistance: options.pdqMaxDistance, chunkBits: options.pdqChunkBits }),
): AccountGraph {
  const accountIndex = new Map<string, number>();
  const accountKeys: string[] = [];
  const identMaps = SIGNAL_TYPES.map(() => new Map<string, number>());
  const identTypeList: number[] = [];
  const identValue: string[] = [];
  const typeIndex = new Map<string, number>(SIGNAL_TYPES.map((type, index) => [type, index]));
  const membershipCount = memberships.length;
  const memAccount = new Int32Array(membershipCount);
  const memIdent = new Int32Array(membershipCount);

  // The photo search needs only the distinct photo hashes: it starts first, on a second thread when
  // there are many, and runs while the memberships are interned (lib/detect/near-pairs-job.ts).
  const distinctPhotos = new Set<string>();
  for (const membership of memberships) if (membership.type === 'photo_pdq') distinctPhotos.add(membership.value);
  const photoHashes = [...distinctPhotos];
  const photoSearch = searchPhotos(photoHashes);

  const internAccount = (key: string): number => {
    let account = accountIndex.get(key);
    if (account === undefined) {
      account = accountKeys.length;
      accountIndex.set(key, account);
      accountKeys.push(key);
    }
    return account;
  };
  // Memberships mostly arrive grouped by account (a platform's batch, a store query per account), so the
  // previous account is checked before the map.
  let previousKey: string | undefined;
  let previousAccount = -1;
  for (let m = 0; m < membershipCount; m++) {
    const membership = memberships[m];
    let account = previousAccount;
    if (membership.account !== previousKey) {
      account = internAccount(membership.account);
      previousKey = membership.account;
      previousAccount = account;
    }
    const type = typeIndex.get(membership.type);
    if (type === undefined) throw new RangeError(`membership ${m} has unknown signal type "${membership.type}"`);
    const map = identMaps[type];
    let ident = map.get(membership.value);
    if (ident === undefined) {
      ident = identValue.length;
      map.set(membership.value, ident);
      identValue.push(membership.value);
      identTypeList.push(type);
    }
    memAccount[m] = account;
    memIdent[m] = ident;
  }
  for (const extra of extraAccounts) internAccount(extra);
  const accountCount = accountKeys.length;
  const identCount = identValue.length;
  const identType = Uint8Array.from(identTypeList);

  // Holders per identifier, one entry per account (the latest observation wins).
  const identStart = new Int32Array(identCount + 1);
  for (let m = 0; m < membershipCount; m++) identStart[memIdent[m] + 1]++;
  for (let i = 0; i < identCount; i++) identStart[i + 1] += identStart[i];
  const fill = identStart.slice(0, identCount);
  const rawOrder = new Int32Array(membershipCount);
  for (let m = 0; m < membershipCount; m++) rawOrder[fill[memIdent[m]]++] = m;
  const holderAccount = new Int32Array(membershipCount);
  const holderObserved = new Float64Array(membershipCount);
  const holderStart = new Int32Array(identCount + 1);
  const mark = new Int32Array(accountCount).fill(-1);
  const position = new Int32Array(accountCount);
  const membershipCounts = new Int32Array(accountCount);
  let written = 0;
  for (let ident = 0; ident < identCount; ident++) {
    holderStart[ident] = written;
    for (let at = identStart[ident]; at < identStart[ident + 1]; at++) {
      const m = rawOrder[at];
      const account = memAccount[m];
      const observed = memberships[m].observedAtMs;
      if (mark[account] !== ident) {
        mark[account] = ident;
        position[account] = written;
        holderAccount[written] = account;
        holderObserved[written] = observed;
        membershipCounts[account]++;
        written++;
      } else if (observed > holderObserved[position[account]]) {
        holderObserved[position[account]] = observed;
      }
    }
  }
  holderStart[identCount] = written;

  // Hubs, then photo families among the remaining photos.
  const hubs: HubRecord[] = [];
  const isHub = new Uint8Array(identCount);
  const identTotal = new Int32Array(identCount);
  for (let ident = 0; ident < identCount; ident++) {
    const local = holderStart[ident + 1] - holderStart[ident];
    const total = holderTotals?.get(`${SIGNAL_TYPES[identType[ident]]}\u0000${identValue[ident]}`) ?? local;
    identTotal[ident] = total;
    if (total > options.hubThreshold) {
      isHub[ident] = 1;
      hubs.push({ type: SIGNAL_TYPES[identType[ident]], value: identValue[ident], accounts: total, values: [identValue[ident]] });
    }
  }
  const photos: number[] = [];
  for (let ident = 0; ident < identCount; ident++) if (identType[ident] === PHOTO_TYPE && !isHub[ident]) photos.push(ident);
  const familyOf = new Int32Array(identCount).fill(-1);
  const families: number[][] = [];
  if (photos.length > 1) {
    // The search covered every distinct photo hash, hubs included: pairs with a hub are left out here.
    const photoAt = new Int32Array(identCount).fill(-1);
    photos.forEach((ident, p) => (photoAt[ident] = p));
    const searched = photoHashes.map((hash) => photoAt[identMaps[PHOTO_TYPE].get(hash)!]);
    const pairs = photoSearch.pairs();
    const near = new UnionFind(photos.length);
    for (let n = 0; n < pairs.length; n += 2) {
      const a = searched[pairs[n]];
      const b = searched[pairs[n + 1]];
      if (a !== -1 && b !== -1) near.union(a, b);
    }
    const familyByRoot = new Map<number, number>();
    for (let p = 0; p < photos.length; p++) {
      const root = near.find(p);
      if (near.sizeOf(root) < 2) continue;
      let family = familyByRoot.get(root);
      if (family === undefined) {
        family = families.length;
        familyByRoot.set(root, family);
        families.push([]);
      }
      families[family].push(photos[p]);
      familyOf[photos[p]] = family;
    }
    // Photos of a family by value, so that which photo stands for an account holding two of them does
    // not depend on the order memberships came in (a full run and an incremental one see different orders).
    for (const family of families) family.sort((a, b) => (identValue[a] < identValue[b] ? -1 : 1));
  }

  // Linking units: plain identifiers, then photo families (holders merged, latest observation wins).
  // Units never hold more entries than there are holders, nor more units than identifiers.
  const unitTypeAll = new Uint8Array(identCount);
  const unitStartAll = new Int32Array(identCount + 1);
  const unitHoldersAll = new Int32Array(identCount);
  const entryAccountAll = new Int32Array(written);
  const entryIdentAll = new Int32Array(written);
  const entryObservedAll = new Float64Array(written);
  let unitCount = 0;
  let entryCount = 0;
  mark.fill(-1);
  for (let ident = 0; ident < identCount; ident++) {
    if (isHub[ident] || familyOf[ident] !== -1) continue;
    unitTypeAll[unitCount] = identType[ident];
    unitHoldersAll[unitCount] = identTotal[ident];
    for (let at = holderStart[ident]; at < holderStart[ident + 1]; at++) {
      entryAccountAll[entryCount] = holderAccount[at];
      entryIdentAll[entryCount] = ident;
      entryObservedAll[entryCount++] = holderObserved[at];
    }
    unitStartAll[++unitCount] = entryCount;
  }
  families.forEach((family, familyNo) => {
    const startAt = entryCount;
    const stamp = identCount + familyNo;
    for (const ident of family) {
      for (let at = holderStart[ident]; at < holderStart[ident + 1]; at++) {
        const account = holderAccount[at];
        if (mark[account] !== stamp) {
          mark[account] = stamp;
          position[account] = entryCount;
          entryAccountAll[entryCount] = account;
          entryIdentAll[entryCount] = ident;
          entryObservedAll[entryCount++] = holderObserved[at];
        } else if (holderObserved[at] > entryObservedAll[position[account]]) {
          entryIdentAll[position[account]] = ident;
          entryObservedAll[position[account]] = holderObserved[at];
        }
      }
    }
    const holders = entryCount - startAt;
    if (holders > options.hubThreshold) {
      entryCount = startAt;
      const values = family.map((ident) => identValue[ident]).sort();
      hubs.push({ type: 'photo_pdq', value: values[0], accounts: holders, values });
      return;
    }
    unitTypeAll[unitCount] = PHOTO_TYPE;
    unitHoldersAll[unitCount] = holders;
    unitStartAll[++unitCount] = entryCount;
  });
  hubs.sort((a, b) => b.accounts - a.accounts || byString(a.type, b.type) || (a.value < b.value ? -1 : 1));

  const unitType = unitTypeAll.slice(0, unitCount);
  const unitStart = unitStartAll.slice(0, unitCount + 1);
  const entryAccount = entryAccountAll.slice(0, entryCount);
  const entryIdent = entryIdentAll.slice(0, entryCount);
  const entryObservedAtMs = entryObservedAll.slice(0, entryCount);
  const entryDecay = new Float64Array(entryCount);
  const entryUnit = new Int32Array(entryCount);
  const unitPairWeight = new Float64Array(unitCount);
  const halfLifeOfType = Float64Array.from(SIGNAL_TYPES, (type) => options.halfLifeDays[type]);
  for (let unit = 0; unit < unitCount; unit++) {
    const first = unitStart[unit];
    const end = unitStart[unit + 1];
    entryUnit.fill(unit, first, end);
    unitPairWeight[unit] = specificWeight(SIGNAL_TYPES[unitType[unit]], unitHoldersAll[unit], options);
    const halfLife = halfLifeOfType[unitType[unit]];
    if (!Number.isFinite(halfLife)) entryDecay.fill(1, first, end);
    else for (let e = first; e < end; e++) entryDecay[e] = ageingFactor(entryObservedAtMs[e], agedNowMs, halfLife);
  }

  // Account -> its entries.
  const accountEntryStart = new Int32Array(accountCount + 1);
  for (let e = 0; e < entryCount; e++) accountEntryStart[entryAccount[e] + 1]++;
  for (let a = 0; a < accountCount; a++) accountEntryStart[a + 1] += accountEntryStart[a];
  const entryFill = accountEntryStart.slice(0, accountCount);
  const accountEntries = new Int32Array(entryCount);
  for (let e = 0; e < entryCount; e++) accountEntries[entryFill[entryAccount[e]]++] = e;

  if (Object.values(options.corroborationWeight).some((weight) => weight > 0)) {
    applyCorroboration(options.corroborationWeight, { unitCount, unitType, unitStart, entryAccount, entryUnit, accountEntryStart, accountEntries, unitPairWeight }, mark);
  }

  // Links: every pair of holders of every unit, both directions, then merged per account row.
  const rowStart = new Int32Array(accountCount + 1);
  for (let unit = 0; unit < unitCount; unit++) {
    const holders = unitStart[unit + 1] - unitStart[unit];
    if (holders < 2 || unitPairWeight[unit] === 0) continue;
    for (let e = unitStart[unit]; e < unitStart[unit + 1]; e++) rowStart[entryAccount[e] + 1] += holders - 1;
  }
  for (let a = 0; a < accountCount; a++) rowStart[a + 1] += rowStart[a];
  const pairEntries = rowStart[accountCount];
  const neighbor = new Int32Array(pairEntries);
  const weight = new Float64Array(pairEntries);
  const rowFill = rowStart.slice(0, accountCount);
  for (let unit = 0; unit < unitCount; unit++) {
    const first = unitStart[unit];
    const end = unitStart[unit + 1];
    const pairWeight = unitPairWeight[unit];
    if (end - first < 2 || pairWeight === 0) continue;
    for (let x = first; x < end; x++) {
      const ax = entryAccount[x];
      for (let y = x + 1; y < end; y++) {
        const ay = entryAccount[y];
        const w = pairWeight * Math.min(entryDecay[x], entryDecay[y]);
        neighbor[rowFill[ax]] = ay;
        weight[rowFill[ax]++] = w;
        neighbor[rowFill[ay]] = ax;
        weight[rowFill[ay]++] = w;
      }
    }
  }
  const linkStart = new Int32Array(accountCount + 1);
  mark.fill(-1);
  let out = 0;
  for (let a = 0; a < accountCount; a++) {
    const rowOut = out;
    for (let at = rowStart[a]; at < rowStart[a + 1]; at++) {
      const other = neighbor[at];
      if (mark[other] !== a) {
        mark[other] = a;
        position[other] = out;
        neighbor[out] = other;
        weight[out++] = weight[at];
      } else {
        weight[position[other]] += weight[at];
      }
    }
    // Round, drop links aged to nothing, and keep the row compact.
    let keep = rowOut;
    for (let at = rowOut; at < out; at++) {
      const rounded = roundWeight(weight[at]);
      if (rounded <= 0) continue;
      neighbor[keep] = neighbor[at];
      weight[keep++] = rounded;
    }
    out = keep;
    linkStart[a + 1] = out;
  }

  return {
    accountKeys,
    accountIndex,
    membershipCounts,
    identType,
    identValue,
    unitCount,
    unitType,
    unitStart,
    entryAccount,
    entryUnit,
    entryIdent,
    entryObservedAtMs,
    entryDecay,
    unitPairWeight,
    accountEntryStart,
    accountEntries,
    hubs,
    linkStart,
    linkNeighbor: neighbor.slice(0, out),
    linkWeight: weight.slice(0, out),
  };
}
