/**
 * Two defects under dynalite 4 (the local stack's DynamoDB API server), mended where the local stack
 * loads it: in its server thread (lib/runtime/local/dynamo-server-thread.mjs), before the server opens
 * its LevelDB. Both were seen in `npm run bench:incremental` (docs/faults.md has the account).
 *
 * 1. **Iterators never closed.** dynalite serves every Query and Scan from a stream over an abstract-level
 *    iterator and, when it is done with the stream, closes the iterator through `iterator.return()`.
 *    abstract-level 3 iterators have no `return` (they have `close`), so none was ever closed: each query
 *    left an open LevelDB iterator behind, holding a snapshot of the database and the table files of its
 *    moment, for as long as the server ran. With snapshots held, LevelDB keeps every version of an item
 *    written since the oldest of them.
 * 2. **A read that returns an older version of an item.** classic-level 3 embeds LevelDB 1.20, which
 *    has google/leveldb#320 (fixed in 1.22 by #339): while snapshots keep several versions of one key,
 *    a compaction can split them between two table files and push the file with the newest version a
 *    level down, leaving an older one above it. `get` searches level by level and stops at the first
 *    version it meets, so it answers the older one, for good; an iterator merges every level by sequence
 *    number and answers the newest. So a point read here goes through a one-key iterator.
 */
import { createRequire } from 'node:module';

const here = createRequire(import.meta.url);
// The very copies dynalite loads: dynalite -> level -> classic-level -> abstract-level.
const fromLevel = createRequire(createRequire(here.resolve('dynalite')).resolve('level'));
const fromClassicLevel = createRequire(fromLevel.resolve('classic-level'));
const { ClassicLevel } = fromLevel('classic-level');
const { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } = fromClassicLevel('abstract-level');

let applied = false;

/** Applies both mends once per thread (to the classes dynalite uses); later calls do nothing. */
export function mendLevel() {
  if (applied) return;
  applied = true;
  for (const Iterator of [AbstractIterator, AbstractKeyIterator, AbstractValueIterator]) {
    if (typeof Iterator.prototype.return !== 'function') {
      Object.defineProperty(Iterator.prototype, 'return', {
        configurable: true,
        writable: true,
        value: async function () {
          await this.close();
          return { done: true, value: undefined };
        },
      });
    }
  }
  ClassicLevel.prototype._get = readThroughIterator;
}

/**
 * `_get` of classic-level (the key and the options already in the store's formats), answered by an
 * iterator over exactly that key: the newest version whatever level it lies in.
 */
async function readThroughIterator(key, options) {
  const iterator = this.iterator({
    gte: key,
    lte: key,
    limit: 1,
    keys: false,
    keyEncoding: options.keyEncoding,
    valueEncoding: options.valueEncoding,
    fillCache: options.fillCache,
    ...(options.snapshot ? { snapshot: options.snapshot } : {}),
  });
  try {
    const entry = await iterator.next();
    return entry === undefined ? undefined : entry[1];
  } finally {
    await iterator.close();
  }
}
