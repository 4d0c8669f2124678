/**
 * The worker thread of near-pairs-job.ts: indexes the hashes it is given, finds their near pairs and
 * puts them on the port (or the error that stopped it), then raises the flag the caller waits on.
 */
import { workerData } from 'node:worker_threads';
import { packedNearPairs, type NearPairsAnswer, type NearPairsWorkerData } from './near-pairs-job.js';
import { PdqIndex } from './pdq-index.js';

const { joined, options, port, done } = workerData as NearPairsWorkerData;
try {
  const pairs = packedNearPairs(PdqIndex.buildJoined(joined, options));
  port.postMessage({ pairs } satisfies NearPairsAnswer, [pairs.buffer as ArrayBuffer]);
} catch (error) {
  port.postMessage({ error: String((error as Error).stack ?? error) } satisfies NearPairsAnswer);
} finally {
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}
