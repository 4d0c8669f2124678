/**
 * Near-matching of 256-bit PDQ photo hashes without comparing all pairs: multi-index hashing.
 *
 * Split each hash into `m = 256 / chunkBits` chunks. If two hashes differ in at most `D` bits, the
 * differences spread over `m` chunks, so (pigeonhole) at least one chunk differs in at most
 * `floor(D / m)` bits. The index keeps, per chunk position, a bucket per chunk value; a query probes,
 * per chunk, every value within `floor(D / m)` bits of its own chunk and verifies the candidates on
 * all 256 bits. With D = 31: 16-bit chunks probe 16 x 17 buckets, 8-bit chunks 32 x 1 bucket.
 *
 * The chunk layout maps one-to-one onto DynamoDB items: one item per (hash, chunk position) with
 * `pk = PDQ#<chunkNo>#<chunkHex>` and `sk = <hash>`; a query is one Query per probed
 * `PDQ#<chunkNo>#<probeHex>`, then the same 256-bit verification ({@link pdqDistance}).
 */

/** Parses 64 hex characters into 8 big-endian 32-bit words. */
export function parsePdqHex(hex: string, into: Uint32Array = new Uint32Array(8), offset = 0): Uint32Array {
  if (hex.length !== 64) throw new RangeError(`a PDQ hash is 64 hex characters, got ${hex.length}`);
  for (let word = 0; word < 8; word++) {
    const value = Number.parseInt(hex.slice(word * 8, word * 8 + 8), 16);
    if (Number.isNaN(value)) throw new RangeError(`a PDQ hash is 64 hex characters, got "${hex}"`);
    into[offset + word] = value;
  }
  return into;
}

/** Set bits of a 32-bit value; integer-only arithmetic so that V8 keeps it on small integers. */
function popcount32(value: number): number {
  let v = (value - ((value >>> 1) & 0x55555555)) | 0;
  v = ((v & 0x33333333) + ((v >>> 2) & 0x33333333)) | 0;
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Hamming distance between two PDQ hashes given as hex.
 *
 * @example
 * pdqDistance('0'.repeat(64), '0'.repeat(63) + '7'); // 3
 */
export function pdqDistance(a: string, b: string): number {
  const wa = parsePdqHex(a);
  const wb = parsePdqHex(b);
  let distance = 0;
  for (let word = 0; word < 8; word++) distance += popcount32(wa[word] ^ wb[word]);
  return distance;
}

/** Chunk `chunkNo` of the hash at `offset` in `words`, for chunks of 8 or 16 bits. */
function chunkValue(words: Uint32Array, offset: number, chunkNo: number, chunkBits: number): number {
  const perWord = 32 / chunkBits;
  const word = words[offset + Math.floor(chunkNo / perWord)];
  const shift = 32 - chunkBits * ((chunkNo % perWord) + 1);
  return (word >>> shift) & ((1 << chunkBits) - 1);
}

/** Every value within `radius` bits of `value` (itself first). */
function probesWithin(value: number, bits: number, radius: number, out: number[]): void {
  out.length = 0;
  out.push(value);
  if (radius === 1) {
    for (let bit = 0; bit < bits; bit++) out.push(value ^ (1 << bit));
    return;
  }
  const flip = (from: number, start: number, left: number) => {
    for (let bit = start; bit < bits; bit++) {
      const next = from ^ (1 << bit);
      out.push(next);
      if (left > 1) flip(next, bit + 1, left - 1);
    }
  };
  if (radius > 0) flip(value, 0, radius);
}

/** One near match: hashes `a` < `b` (positions in the indexed list) and their distance. */
export interface PdqNearPair {
  a: number;
  b: number;
  distance: number;
}

/**
 * An immutable multi-index over a list of PDQ hashes (queries keep only scratch marks between them).
 *
 * @example
 * const index = PdqIndex.build([h1, h2, h3], { maxDistance: 31, chunkBits: 16 });
 * index.nearPairs(); // [{ a: 0, b: 2, distance: 12 }] when only h1 and h3 are re-encodes of one photo
 * index.query(h4);   // [{ index: 2, distance: 5 }]
 */
export class PdqIndex {
  readonly size: number;
  private readonly chunks: number;
  private readonly probeRadius: number;
  /** Per chunk position: bucket offsets (2^chunkBits + 1 entries) into `bucketEntries`. */
  private readonly bucketStarts: Int32Array[];
  private readonly bucketEntries: Int32Array[];
  /** Per indexed hash, the last query that verified it (see {@link query}). */
  private seenBy?: Int32Array;
  private stamp = 0;
  private readonly probes: number[] = [];

  private constructor(
    private readonly words: Uint32Array,
    private readonly maxDistance: number,
    private readonly chunkBits: 8 | 16,
  ) {
    this.size = words.length / 8;
    this.chunks = 256 / chunkBits;
    this.probeRadius = Math.floor(maxDistance / this.chunks);
    const buckets = 1 << chunkBits;
    this.bucketStarts = [];
    this.bucketEntries = [];
    for (let chunkNo = 0; chunkNo < this.chunks; chunkNo++) {
      const starts = new Int32Array(buckets + 1);
      for (let hash = 0; hash < this.size; hash++) starts[chunkValue(words, hash * 8, chunkNo, chunkBits) + 1]++;
      for (let bucket = 0; bucket < buckets; bucket++) starts[bucket + 1] += starts[bucket];
      const fill = starts.slice(0, buckets);
      const entries = new Int32Array(this.size);
      for (let hash = 0; hash < this.size; hash++) entries[fill[chunkValue(words, hash * 8, chunkNo, chunkBits)]++] = hash;
      this.bucketStarts.push(starts);
      this.bucketEntries.push(entries);
    }
  }

  /** Indexes hashes given as 64 hex characters; their positions in `hashes` are their ids. */
  static build(hashes: readonly string[], options: { maxDistance: number; chunkBits: 8 | 16 }): PdqIndex {
    const words = new Uint32Array(hashes.length * 8);
    hashes.forEach((hex, position) => parsePdqHex(hex, words, position * 8));
    return new PdqIndex(words, options.maxDistance, options.chunkBits);
  }

  /**
   * Indexes hashes given back to back as one string of 64 hex characters each (what a worker thread is
   * sent: one string crosses threads as one copy, where a list of strings is cloned string by string).
   */
  static buildJoined(joined: string, options: { maxDistance: number; chunkBits: 8 | 16 }): PdqIndex {
    if (joined.length % 64 !== 0) throw new RangeError(`joined PDQ hashes are 64 hex characters each, got ${joined.length} characters`);
    const words = new Uint32Array(joined.length / 8);
    for (let position = 0; position < joined.length / 64; position++) parsePdqHex(joined.slice(position * 64, position * 64 + 64), words, position * 8);
    return new PdqIndex(words, options.maxDistance, options.chunkBits);
  }

  /** Distance between two indexed hashes, or `maxDistance + 1` as soon as it exceeds `maxDistance`. */
  private boundedDistance(words: Uint32Array, offset: number, other: number): number {
    let distance = 0;
    const otherOffset = other * 8;
    for (let word = 0; word < 8; word++) {
      distance += popcount32(words[offset + word] ^ this.words[otherOffset + word]);
      if (distance > this.maxDistance) return this.maxDistance + 1;
    }
    return distance;
  }

  /**
   * Every pair of indexed hashes within `maxDistance`, each once, `a < b`, sorted by `a` then `b`.
   *
   * The hot loop of near-matching, written for memory locality: chunk position by chunk position, the
   * hashes are copied in bucket order, and each bucket is compared with itself and with the buckets
   * within the probe radius above it, so that reads run through contiguous memory instead of jumping
   * across the whole index (random reads made it ten times slower). Most unrelated candidates are
   * dropped after two words (they differ in about 16 bits per 32).
   */
  nearPairs(): PdqNearPair[] {
    const { words, chunks, chunkBits, probeRadius, maxDistance, size } = this;
    const pairs: PdqNearPair[] = [];
    const inBucketOrder = new Int32Array(size * 8);
    const probes: number[] = [];
    const perWord = 32 / chunkBits;
    const chunkMask = (1 << chunkBits) - 1;
    for (let chunkNo = 0; chunkNo < chunks; chunkNo++) {
      const starts = this.bucketStarts[chunkNo];
      const entries = this.bucketEntries[chunkNo];
      for (let position = 0; position < size; position++) {
        const from = entries[position] * 8;
        for (let word = 0; word < 8; word++) inBucketOrder[position * 8 + word] = words[from + word];
      }
      // Reports the pair only under the first chunk position where it lies within the probe radius.
      const isFirstChunk = (xo: number, yo: number) => {
        for (let earlier = 0; earlier < chunkNo; earlier++) {
          const word = Math.floor(earlier / perWord);
          const shift = 32 - chunkBits * ((earlier % perWord) + 1);
          if (popcount32(((inBucketOrder[xo + word] ^ inBucketOrder[yo + word]) >>> shift) & chunkMask) <= probeRadius) return false;
        }
        return true;
      };
      const compareBlocks = (first: number, end: number, otherFirst: number, otherEnd: number, sameBlock: boolean) => {
        for (let x = first; x < end; x++) {
          const xo = x * 8;
          const x0 = inBucketOrder[xo];
          const x1 = inBucketOrder[xo + 1];
          for (let y = sameBlock ? x + 1 : otherFirst; y < otherEnd; y++) {
            const yo = y * 8;
            // Unrelated hashes differ in about 32 of the first 64 bits: most stop here.
            let distance = popcount32(x0 ^ inBucketOrder[yo]) + popcount32(x1 ^ inBucketOrder[yo + 1]);
            if (distance > maxDistance) continue;
            for (let word = 2; word < 8 && distance <= maxDistance; word++) distance += popcount32(inBucketOrder[xo + word] ^ inBucketOrder[yo + word]);
            if (distance > maxDistance || !isFirstChunk(xo, yo)) continue;
            const a = entries[x];
            const b = entries[y];
            pairs.push(a < b ? { a, b, distance } : { a: b, b: a, distance });
          }
        }
      };
      // Walk the non-empty buckets only (entries are in bucket order), so a small index stays cheap.
      for (let first = 0; first < size; ) {
        const bucket = chunkValue(words, entries[first] * 8, chunkNo, chunkBits);
        const end = starts[bucket + 1];
        compareBlocks(first, end, first, end, true);
        if (probeRadius > 0) {
          probesWithin(bucket, chunkBits, probeRadius, probes);
          for (let p = 1; p < probes.length; p++) {
            const other = probes[p];
            if (other > bucket) compareBlocks(first, end, starts[other], starts[other + 1], false);
          }
        }
        first = end;
      }
    }
    return pairs.sort((x, y) => x.a - y.a || x.b - y.b);
  }

  /**
   * Indexed hashes within `maxDistance` of `hex`, nearest first. A candidate found under several chunk
   * positions is verified once: a stamp per indexed hash marks those seen by the current query.
   */
  query(hex: string): Array<{ index: number; distance: number }> {
    const words = parsePdqHex(hex);
    const found: Array<{ index: number; distance: number }> = [];
    const seen = (this.seenBy ??= new Int32Array(this.size));
    if (this.stamp === 0x7fffffff) {
      seen.fill(0);
      this.stamp = 0;
    }
    const stamp = ++this.stamp;
    const probes = this.probes;
    for (let chunkNo = 0; chunkNo < this.chunks; chunkNo++) {
      probesWithin(chunkValue(words, 0, chunkNo, this.chunkBits), this.chunkBits, this.probeRadius, probes);
      const starts = this.bucketStarts[chunkNo];
      const entries = this.bucketEntries[chunkNo];
      for (let p = 0; p < probes.length; p++) {
        for (let at = starts[probes[p]], end = starts[probes[p] + 1]; at < end; at++) {
          const other = entries[at];
          if (seen[other] === stamp) continue;
          seen[other] = stamp;
          const distance = this.boundedDistance(words, 0, other);
          if (distance <= this.maxDistance) found.push({ index: other, distance });
        }
      }
    }
    return found.sort((x, y) => x.distance - y.distance || x.index - y.index);
  }
}
