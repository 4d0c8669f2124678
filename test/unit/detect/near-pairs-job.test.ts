import { describe, expect, it } from 'vitest';
import { packedNearPairs, startNearPairs } from '../../../lib/detect/near-pairs-job.js';
import { PdqIndex, pdqDistance } from '../../../lib/detect/pdq-index.js';
import { hashed, pdqVariant } from './fixtures.js';

const options = { maxDistance: 31, chunkBits: 16 } as const;
// 40 photos, each with re-encodes at 2-40 bits: pairs on both sides of the threshold.
const hashes = [...new Set(Array.from({ length: 40 }, (_, photo) => [0, 2, 9, 20, 30, 31, 32, 40].map((bits) => pdqVariant(hashed(`photo-${photo}`), bits, photo * 5))).flat())];

describe('Function: startNearPairs', () => {
  it('answers from a worker thread with exactly the pairs the index finds on the calling thread', () => {
    const expected = PdqIndex.build(hashes, options).nearPairs().flatMap((pair) => [pair.a, pair.b]);
    expect(expected.length).toBeGreaterThan(100);
    const job = startNearPairs(hashes, options, 0);
    expect([...job.pairs()]).toEqual(expected);
    expect(job.answeredBy).toBe('worker');
  });

  it('leaves a small list to the calling thread (on 8-bit chunks: the pairs of a 16-bit index and of comparing all pairs)', () => {
    const job = startNearPairs(hashes, options);
    const pairs = [...job.pairs()];
    expect(pairs).toEqual([...packedNearPairs(PdqIndex.build(hashes, options))]);
    const allPairs: number[] = [];
    for (let a = 0; a < hashes.length; a++) for (let b = a + 1; b < hashes.length; b++) if (pdqDistance(hashes[a], hashes[b]) <= options.maxDistance) allPairs.push(a, b);
    expect(pairs).toEqual(allPairs);
    expect(job.answeredBy).toBe('caller');
  });

  it('throws what the calling thread throws when a hash is not one', () => {
    const job = startNearPairs([...hashes, 'not a pdq hash'], options, 0);
    expect(() => job.pairs()).toThrow(/a PDQ hash is 64 hex characters, got 14/);
    expect(job.answeredBy).toBeUndefined();
  });
});
