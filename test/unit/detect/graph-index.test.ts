import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SignalType } from '../../../lib/contract/signals.js';
import { GraphIndex } from '../../../lib/detect/graph-index.js';
import type { AccountFacts, Membership } from '../../../lib/detect/model.js';
import { nearPairsThrough } from '../../../lib/detect/account-graph.js';
import { packedNearPairs } from '../../../lib/detect/near-pairs-job.js';
import { PdqIndex, pdqDistance } from '../../../lib/detect/pdq-index.js';
import { hashed, pdqVariant, seen } from './fixtures.js';

// Few accounts and values, so that holders come and go; photos near and far from each other (and a
// chain whose middle photo, when nobody holds it, must stop bridging its ends).
const ACCOUNTS = Array.from({ length: 10 }, (_, i) => `${['snap', 'insta', 'wa'][i % 3]}#u${i}`);
const BASE = hashed('graph-index-photo');
const PHOTOS = [BASE, pdqVariant(BASE, 12, 1), pdqVariant(BASE, 24, 2), pdqVariant(BASE, 40, 3), pdqVariant(BASE, 30, 4), hashed('unrelated-photo'), pdqVariant(hashed('unrelated-photo'), 7, 5)];
const TYPES: SignalType[] = ['email', 'device', 'ip', 'photo_pdq'];
const valueOf = (type: SignalType, label: number) => (type === 'photo_pdq' ? PHOTOS[label % PHOTOS.length] : hashed(`${type}-${label % 3}`));

const accountArb = fc.uniqueArray(fc.record({ type: fc.constantFrom(...TYPES), label: fc.integer({ min: 0, max: 6 }) }), {
  maxLength: 5,
  selector: ({ type, label }) => `${type}|${valueOf(type, label)}`,
});
/** A graph: each account's memberships (possibly none), with facts for some. */
const graphArb = fc.tuple(fc.array(accountArb, { minLength: ACCOUNTS.length, maxLength: ACCOUNTS.length }), fc.array(fc.integer({ min: 0, max: 50 }), { minLength: ACCOUNTS.length, maxLength: ACCOUNTS.length }));

function graphOf([perAccount, contacts]: [Array<Array<{ type: SignalType; label: number }>>, number[]]): { memberships: Membership[]; facts: Map<string, AccountFacts> } {
  const memberships = perAccount.flatMap((list, i) => list.map(({ type, label }) => seen(ACCOUNTS[i], type, valueOf(type, label))));
  const facts = new Map<string, AccountFacts>(ACCOUNTS.flatMap((account, i) => (contacts[i] % 3 === 0 ? [] : [[account, { minorContacts7d: contacts[i] }] as const])));
  return { memberships, facts };
}

/** The photos found, sorted; after checking that they came nearest first. */
function nearestFirst(photo: string, found: string[]): string[] {
  const distances = found.map((other) => pdqDistance(photo, other));
  expect(distances).toEqual([...distances].sort((x, y) => x - y));
  return [...found].sort();
}

/** Everything a closure can ask of a source, in a form that does not depend on insertion order where the contract does not fix it. */
function answers(index: GraphIndex) {
  const identifiers = [...new Set(TYPES.flatMap((type) => Array.from({ length: 7 }, (_, label) => `${type}|${valueOf(type, label)}`)))];
  return {
    memberships: ACCOUNTS.map((account) =>
      index
        .membershipsOf([account])
        .map((m) => `${m.type}|${m.value}|${m.observedAtMs}`)
        .sort(),
    ),
    holders: identifiers.map((key) => {
      const [type, value] = key.split('|') as [SignalType, string];
      return [...index.holdersOf(type, value)].sort();
    }),
    // Nearest first; photos at one distance come in the order they were first indexed, which patching changes.
    near: [...PHOTOS, pdqVariant(BASE, 6, 9)].map((photo) => nearestFirst(photo, index.nearPhotos(photo, 31))),
    nearer: PHOTOS.map((photo) => nearestFirst(photo, index.nearPhotos(photo, 15))),
    facts: [...index.factsOf(ACCOUNTS)],
  };
}

describe('Class: GraphIndex', () => {
  it('answers, after patches from graph to graph, exactly as an index built over the last graph does', () => {
    fc.assert(
      fc.property(fc.array(graphArb, { minLength: 2, maxLength: 5 }), fc.boolean(), (graphs, rebuildOften) => {
        const [first, ...rest] = graphs.map(graphOf);
        // A threshold of 0 rebuilds the PDQ index whenever a photo is first held; the default scans new photos.
        const index = GraphIndex.build(first.memberships, first.facts, {}, rebuildOften ? 0 : undefined);
        // Asked before patching, so that memoised answers must be extended.
        answers(index);
        let previous = first;
        for (const next of rest) {
          const changed = ACCOUNTS.filter((account) => {
            const key = (g: typeof next) => JSON.stringify(g.memberships.filter((m) => m.account === account));
            return key(previous) !== key(next);
          });
          index.patch(next.memberships, next.facts, changed);
          expect(answers(index)).toEqual(answers(GraphIndex.build(next.memberships, next.facts)));
          previous = next;
        }
      }),
      { numRuns: 150 },
    );
  });

  it('finds exactly the held photos within the distance, by comparison with every held photo, built and after patches', () => {
    const heldWithin = (memberships: readonly Membership[], photo: string, distance: number) =>
      [...new Set(memberships.filter((m) => m.type === 'photo_pdq' && pdqDistance(photo, m.value) <= distance).map((m) => m.value))].sort();
    fc.assert(
      fc.property(fc.array(graphArb, { minLength: 1, maxLength: 4 }), (graphs) => {
        const [first, ...rest] = graphs.map(graphOf);
        const index = GraphIndex.build(first.memberships, first.facts);
        for (const graph of [first, ...rest]) {
          if (graph !== first) index.patch(graph.memberships, graph.facts, ACCOUNTS);
          for (const photo of [...PHOTOS, pdqVariant(BASE, 6, 9)]) {
            for (const distance of [31, 15]) expect([...index.nearPhotos(photo, distance)].sort()).toEqual(heldWithin(graph.memberships, photo, distance));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('gives buildAccountGraph the near pairs among some of its photos that a search over just those finds', () => {
    const photos = [...PHOTOS, pdqVariant(BASE, 6, 9), pdqVariant(PHOTOS[2], 9, 10)];
    const index = GraphIndex.build(photos.map((photo, i) => seen(ACCOUNTS[i % ACCOUNTS.length], 'photo_pdq', photo)), new Map());
    const sortedPairs = (packed: Int32Array) => Array.from({ length: packed.length / 2 }, (_, n) => `${packed[2 * n]}-${packed[2 * n + 1]}`).sort();
    for (const some of [photos, photos.slice(1, 6), [photos[3], photos[0], photos[7], photos[2]]]) {
      const searched = packedNearPairs(PdqIndex.build(some, { maxDistance: 31, chunkBits: 16 }));
      expect(sortedPairs(nearPairsThrough(index, 31)(some).pairs())).toEqual(sortedPairs(searched));
    }
    expect(sortedPairs(nearPairsThrough(index, 31)(photos).pairs()).length).toBeGreaterThan(3);
  });

  it('stops a photo bridging its near photos once nobody holds it', () => {
    const middle = pdqVariant(BASE, 20, 7);
    const far = pdqVariant(middle, 20, 8);
    const before = [seen('snap#a', 'photo_pdq', BASE), seen('insta#b', 'photo_pdq', middle), seen('wa#c', 'photo_pdq', far)];
    const index = GraphIndex.build(before, new Map());
    expect(index.nearPhotos(middle, 31)).toContain(BASE);
    index.patch(before.filter((m) => m.account !== 'insta#b'), new Map(), ['insta#b']);
    expect(index.nearPhotos(BASE, 31)).toEqual([BASE]);
    expect(index.nearPhotos(middle, 31)).not.toContain(middle);
    expect(index.holdersOf('photo_pdq', middle)).toEqual([]);
  });
});
