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
import { PDQ_KERNEL_WASM } from './pdq-kernel-wasm.js';

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

/** The WebAssembly kernel of {@link PdqIndex.nearPairs} (see lib/detect/pdq-kernel.wat). */
interface PdqKernel {
  memory: WebAssembly.Memory;
  gather(hashes: number, ids: number, count: number, ordered: number): void;
  scan(ordered: number, starts: number, nonEmpty: number, nonEmptyCount: number, mask: number, max: number, out: number, cap: number, at: number, row: number): number;
  resumeAt: WebAssembly.Global;
  resumeRow: WebAssembly.Global;
}

let kernelModule: WebAssembly.Module | undefined;

/** A fresh instance of the kernel with at least `bytes` of memory (the module is compiled once). */
function pdqKernel(bytes: number): PdqKernel {
  kernelModule ??= new WebAssembly.Module(Buffer.from(PDQ_KERNEL_WASM, 'base64'));
  const exports = new WebAssembly.Instance(kernelModule).exports as unknown as PdqKernel;
  const pages = Math.ceil(bytes / 65_536) - exports.memory.buffer.byteLength / 65_536;
  if (pages > 0) exports.memory.grow(pages);
  return exports;
}

/**
 * Whether the hashes at `xo` and `yo` lie within the probe radius under a chunk position before
 * `chunkNo`: the pair was reported there (each pair is reported under the first position that finds it).
 */
function nearUnderEarlierChunk(words: Uint32Array, xo: number, yo: number, chunkNo: number, chunkBits: number, perWord: number, chunkMask: number, probeRadius: number): boolean {
  for (let earlier = 0; earlier < chunkNo; earlier++) {
    const word = Math.floor(earlier / perWord);
    const shift = 32 - chunkBits * ((earlier % perWord) + 1);
    if (popcount32(((words[xo + word] ^ words[yo + word]) >>> shift) & chunkMask) <= probeRadius) return true;
  }
  return false;
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
   * The hot loop of near-matching (386 million candidate pairs among the 429,000 photos of a
   * million-account world) runs in WebAssembly (lib/detect/pdq-kernel.wat) for its native 64-bit bit
   * count. Chunk position by chunk position, the hashes are copied in bucket order, and every bucket is
   * compared with itself, then with the bucket one flip mask away (`b ^ mask`, each mask within the
   * probe radius), walking the non-empty buckets in order so that both reads run through contiguous memory.
   */
  nearPairs(): PdqNearPair[] {
    const { words, chunks, chunkBits, probeRadius, maxDistance, size } = this;
    const buckets = 1 << chunkBits;
    const cap = Math.max(size, 4096);
    // Memory: hashes by id, one position's ids in bucket order, the hashes in that order, bucket starts,
    // the non-empty buckets in order, output.
    const idsAt = size * 32;
    const orderedAt = idsAt + size * 4;
    const startsAt = orderedAt + size * 32;
    const nonEmptyAt = startsAt + (buckets + 1) * 4;
    const outAt = nonEmptyAt + size * 4;
    const kernel = pdqKernel(outAt + cap * 12);
    new Uint32Array(kernel.memory.buffer, 0, size * 8).set(words);
    const ids = new Int32Array(kernel.memory.buffer, idsAt, size);
    const inBucketOrder = new Uint32Array(kernel.memory.buffer, orderedAt, size * 8);
    const startsView = new Int32Array(kernel.memory.buffer, startsAt, buckets + 1);
    const nonEmpty = new Int32Array(kernel.memory.buffer, nonEmptyAt, size);
    const out = new Int32Array(kernel.memory.buffer, outAt, cap * 3);
    const masks: number[] = [];
    probesWithin(0, chunkBits, probeRadius, masks);
    const perWord = 32 / chunkBits;
    const chunkMask = (1 << chunkBits) - 1;
    const found: number[] = [];
    for (let chunkNo = 0; chunkNo < chunks; chunkNo++) {
      const entries = this.bucketEntries[chunkNo];
      const starts = this.bucketStarts[chunkNo];
      ids.set(entries);
      startsView.set(starts);
      kernel.gather(0, idsAt, size, orderedAt);
      // Only the non-empty buckets are walked (entries are in bucket order), so a small index stays cheap.
      let nonEmptyCount = 0;
      for (let first = 0; first < size; ) {
        const bucket = chunkValue(words, entries[first] * 8, chunkNo, chunkBits);
        nonEmpty[nonEmptyCount++] = bucket;
        first = starts[bucket + 1];
      }
      for (const mask of masks) {
        for (let at = 0, row = -1; at < nonEmptyCount; at = kernel.resumeAt.value, row = kernel.resumeRow.value) {
          const count = kernel.scan(orderedAt, startsAt, nonEmptyAt, nonEmptyCount, mask, maxDistance, outAt, cap, at, row);
          for (let n = 0; n < count * 3; n += 3) {
            // Each pair is reported under the first chunk position within the probe radius.
            if (nearUnderEarlierChunk(inBucketOrder, out[n] * 8, out[n + 1] * 8, chunkNo, chunkBits, perWord, chunkMask, probeRadius)) continue;
            const a = entries[out[n]];
            const b = entries[out[n + 1]];
            found.push(Math.min(a, b), Math.max(a, b), out[n + 2]);
          }
        }
      }
    }
    const pairs: PdqNearPair[] = [];
    for (let n = 0; n < found.length; n += 3) pairs.push({ a: found[n], b: found[n + 1], distance: found[n + 2] });
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
