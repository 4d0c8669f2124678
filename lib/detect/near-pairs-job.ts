/**
 * Near pairs of many PDQ hashes ({@link PdqIndex.nearPairs}), worked out on a second thread while the
 * caller goes on: `buildAccountGraph` starts them before it interns a large graph's memberships, which
 * the photo search does not need, and takes them once it has its photo identifiers. Interning and the
 * photo search are the two largest parts of building a million-account graph, and neither waits on the
 * other.
 *
 * The caller stays synchronous: it blocks on a shared flag (`Atomics.wait`) and takes the answer with
 * `receiveMessageOnPort`. Whatever goes wrong on the thread (no worker file beside this module, as in a
 * Lambda bundle; a thread that cannot start; an invalid hash) leaves the work to the calling thread,
 * which gives the same pairs, or throws the same error, as it always did. A small list never goes to a
 * thread: starting one costs more than its search.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { PdqIndex } from './pdq-index.js';

/** Hashes below which the search stays on the calling thread (at 42,000 photos it takes about 0.25 s). */
export const NEAR_PAIRS_THREAD_MIN = 100_000;
/**
 * Hashes below which the search indexes them on 8-bit chunks whatever `chunkBits` says: the same pairs
 * (the pigeonhole bound holds for either), from an index of 32 x 257 buckets instead of 16 x 65,537,
 * whose set-up alone took 6-8 ms. A full run's tasks each search their own few hundred photos: 0.2-1 ms
 * each now (10 and 300 random hashes), against 8 ms. Near 10,000 hashes the two cost the same; above,
 * 16-bit chunks win (43,000: 0.22 s against 0.35 s).
 */
export const SMALL_SEARCH_MAX = 10_000;
/** How long the caller waits for the thread before doing the work itself. */
const THREAD_WAIT_MS = 600_000;

export interface NearPairsOptions {
  maxDistance: number;
  chunkBits: 8 | 16;
}

/** What the worker is given (see near-pairs-worker.ts). */
export interface NearPairsWorkerData {
  joined: string;
  options: NearPairsOptions;
  port: MessagePort;
  /** Set to 1 (and notified) once the answer, or an error, is on the port. */
  done: Int32Array;
}

/** What the worker answers: the pairs as `[a, b, a, b, ...]`, or why it could not. */
export type NearPairsAnswer = { pairs: Int32Array } | { error: string };

/** Pairs `[a, b, a, b, ...]` of positions in the hashes given, `a < b`, in {@link PdqIndex.nearPairs}'s order. */
export function packedNearPairs(index: PdqIndex): Int32Array {
  const pairs = index.nearPairs();
  const packed = new Int32Array(pairs.length * 2);
  pairs.forEach((pair, n) => {
    packed[2 * n] = pair.a;
    packed[2 * n + 1] = pair.b;
  });
  return packed;
}

/** The near pairs of a list of hashes, being worked out; `pairs()` waits for them. */
export interface NearPairsJob {
  pairs(): Int32Array;
  /** Which thread worked the pairs out, once `pairs()` has answered. */
  answeredBy?: 'worker' | 'caller';
}

// The worker's first script: loads the worker module (through tsx when it is TypeScript source), and
// says so on the port if it cannot, so that the caller stops waiting and does the work itself.
const BOOT = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.typescript) (await import(workerData.typescript)).register();
  await import(workerData.entry);
})().catch((error) => {
  workerData.port.postMessage({ error: String((error && error.stack) || error) });
  Atomics.store(workerData.done, 0, 1);
  Atomics.notify(workerData.done, 0);
});`;

/** The worker module beside this one: compiled JavaScript, or TypeScript source run through tsx. Undefined in a bundle. */
function workerEntry(): { entry: string; typescript?: string } | undefined {
  const compiled = new URL('./near-pairs-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return { entry: compiled.href };
  const source = new URL('./near-pairs-worker.ts', import.meta.url);
  if (!existsSync(fileURLToPath(source))) return undefined;
  try {
    return { entry: source.href, typescript: import.meta.resolve('tsx/esm/api') };
  } catch {
    return undefined;
  }
}

function inThisThread(hashes: readonly string[], options: NearPairsOptions): NearPairsJob {
  const job: NearPairsJob = {
    pairs: () => {
      const pairs = packedNearPairs(PdqIndex.build(hashes, hashes.length < SMALL_SEARCH_MAX ? { ...options, chunkBits: 8 } : options));
      job.answeredBy = 'caller';
      return pairs;
    },
  };
  return job;
}

/**
 * Starts the near-pair search of `hashes` (64 hex characters each) on a worker thread when the list is
 * large and the machine has a second core; otherwise `pairs()` does it on the calling thread.
 *
 * @example
 * const job = startNearPairs(photoHashes, { maxDistance: 31, chunkBits: 16 });
 * // ... other work on this thread ...
 * const pairs = job.pairs(); // Int32Array [a, b, ...]: photoHashes[a] and photoHashes[b] are near
 */
export function startNearPairs(hashes: readonly string[], options: NearPairsOptions, threadMin = NEAR_PAIRS_THREAD_MIN): NearPairsJob {
  if (hashes.length < threadMin || availableParallelism() < 2) return inThisThread(hashes, options);
  const entry = workerEntry();
  if (!entry) return inThisThread(hashes, options);
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    const workerData: NearPairsWorkerData & { entry: string; typescript?: string } = { ...entry, joined: hashes.join(''), options, port: port2, done };
    worker = new Worker(BOOT, { eval: true, workerData, transferList: [port2] });
  } catch {
    port1.close();
    return inThisThread(hashes, options);
  }
  // Neither keeps the process alive: a job nobody takes does not hold up the exit.
  worker.unref();
  worker.on('error', () => undefined);
  const job: NearPairsJob = {
    pairs: () => {
      Atomics.wait(done, 0, 0, THREAD_WAIT_MS);
      const answer = receiveMessageOnPort(port1)?.message as NearPairsAnswer | undefined;
      port1.close();
      void worker.terminate();
      if (answer && 'pairs' in answer) {
        job.answeredBy = 'worker';
        return answer.pairs;
      }
      const caller = inThisThread(hashes, options);
      const pairs = caller.pairs();
      job.answeredBy = caller.answeredBy;
      return pairs;
    },
  };
  return job;
}
