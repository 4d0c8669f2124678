import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pdqDistance, PdqIndex } from '../../../lib/detect/pdq-index.js';
import { hashed, pdqVariant } from './fixtures.js';

/** Every pair within `maxDistance`, by comparing all pairs: the independent answer the index must give. */
function bruteForce(hashes: string[], maxDistance: number) {
  const pairs: Array<{ a: number; b: number; distance: number }> = [];
  for (let a = 0; a < hashes.length; a++) {
    for (let b = a + 1; b < hashes.length; b++) {
      const distance = pdqDistance(hashes[a], hashes[b]);
      if (distance <= maxDistance) pairs.push({ a, b, distance });
    }
  }
  return pairs;
}

// Photos and re-encodes of them at chosen distances, so that pairs fall on both sides of the threshold.
const hashesArb = fc.array(fc.record({ base: fc.integer({ min: 0, max: 5 }), bits: fc.integer({ min: 0, max: 36 }), offset: fc.integer({ min: 0, max: 255 }) }), { minLength: 2, maxLength: 25 }).map((specs) =>
  [...new Set(specs.map(({ base, bits, offset }) => pdqVariant(hashed(`photo-${base}`), bits, offset)))],
);

describe('Class: PdqIndex', () => {
  it.each([16, 8] as const)('finds exactly the pairs all-pairs comparison finds (%i-bit chunks)', (chunkBits) => {
    fc.assert(
      fc.property(hashesArb, fc.integer({ min: 0, max: 40 }), (hashes, maxDistance) => {
        expect(PdqIndex.build(hashes, { maxDistance, chunkBits }).nearPairs()).toEqual(bruteForce(hashes, maxDistance));
      }),
      { numRuns: 60, seed: 3 },
    );
  });

  it.each([16, 8] as const)('answers every query of one index as all-pairs comparison does, each hash once (%i-bit chunks)', (chunkBits) => {
    fc.assert(
      fc.property(hashesArb, hashesArb, fc.integer({ min: 0, max: 40 }), (indexed, asked, maxDistance) => {
        const index = PdqIndex.build(indexed, { maxDistance, chunkBits });
        // Queries in a row on one index: what one query marked must not hide anything from the next.
        for (const hex of [...asked, ...indexed]) {
          const expected = indexed
            .map((other, position) => ({ index: position, distance: pdqDistance(hex, other) }))
            .filter(({ distance }) => distance <= maxDistance)
            .sort((x, y) => x.distance - y.distance || x.index - y.index);
          expect(index.query(hex)).toEqual(expected);
        }
      }),
      { numRuns: 60, seed: 5 },
    );
  });

  it('finds every pair when one photo has so many near copies that their pairs overflow the kernel\'s output area', () => {
    // 300 copies within 6 bits of each other: 44,850 pairs under one chunk position, more than the
    // output area holds at once (as many triples as hashes, 4,096 at least), so the scan resumes.
    const photo = hashed('photo');
    const hashes = [...new Set(Array.from({ length: 300 }, (_, i) => pdqVariant(photo, i % 4, (i * 13) % 256)))];
    const others = Array.from({ length: 50 }, (_, i) => hashed(`other-${i}`));
    const all = [...hashes, ...others, ...hashes.map((hash) => pdqVariant(hash, 1, 200))];

    const pairs = PdqIndex.build(all, { maxDistance: 31, chunkBits: 16 }).nearPairs();

    expect(pairs.length).toBeGreaterThan(4096);
    expect(pairs).toEqual(bruteForce(all, 31));
  });

  it('answers a query with the indexed hashes within the distance, nearest first', () => {
    const photo = hashed('photo');
    const index = PdqIndex.build([pdqVariant(photo, 20), hashed('unrelated'), pdqVariant(photo, 5)], { maxDistance: 31, chunkBits: 16 });

    expect(index.query(photo)).toEqual([
      { index: 2, distance: 5 },
      { index: 0, distance: 20 },
    ]);
  });
});
