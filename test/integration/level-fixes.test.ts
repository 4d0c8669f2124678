/**
 * The mends the local stack's DynamoDB server thread applies to dynalite's LevelDB
 * (lib/runtime/local/level-fixes.mjs), on dynalite's own store: a query stream it is done with closes
 * its iterator (else the snapshot it holds keeps every later version of every item), and point reads,
 * now answered by a one-key iterator, still answer what `get` answers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mendLevel } from '../../lib/runtime/local/level-fixes.mjs';

interface DynaliteStore {
  db: {
    put(key: string, value: unknown): Promise<void>;
    get(key: string, options?: { snapshot?: unknown }): Promise<unknown>;
    snapshot(): { close(): Promise<void> };
    compactRange(start: string, end: string): Promise<void>;
    approximateSize(start: string, end: string): Promise<number>;
    close(): Promise<void>;
  };
  getItemDb(table: string): { createValueStream(options: object): NodeJS.ReadableStream };
}
interface DynaliteDb {
  create(options: { path: string }): DynaliteStore;
  lazy(stream: NodeJS.ReadableStream, onError: (error: Error) => void): { takeWhile(keep: () => boolean): { join(done: (values: unknown[]) => void): void } };
}
const dynaliteDb: DynaliteDb = createRequire(import.meta.url)('dynalite/db');

let home: string;
let store: DynaliteStore;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'crosslink-level-'));
  mendLevel();
  store = dynaliteDb.create({ path: home });
});
afterEach(async () => {
  await store.db.close();
  rmSync(home, { recursive: true, force: true });
});

/** One query as dynalite serves it (db/index.js queryTable): a stream over the item store, left after its first value. */
async function queryFirst(): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    let taken = 0;
    dynaliteDb
      .lazy(store.getItemDb('t').createValueStream({}), reject)
      .takeWhile(() => taken++ < 1)
      .join(resolve);
  });
}

describe('Function: mendLevel', () => {
  it('closes the iterator of a query stream dynalite is done with, so that old versions are not kept', async () => {
    for (const key of ['a', 'b', 'c']) await store.db.put(`item-t~${key}`, { v: 0 });
    // Onto disk first, so that the compaction below merges the rewrites into it (a memory table is
    // written out whole, every version in it).
    await store.db.compactRange('item-t~', 'item-t~\xff');
    expect(await queryFirst()).toEqual([{ v: 0 }]);
    // An item rewritten 40 times with 20 KB that does not compress: 800 KB of versions.
    for (let version = 1; version <= 40; version++) await store.db.put('item-t~b', { v: version, pad: randomBytes(15_000).toString('base64') });
    await store.db.compactRange('item-t~', 'item-t~\xff');
    // Only the newest version is left once nothing holds a snapshot from before the rewrites (all 40, 800 KB, without the mend).
    expect(await store.db.approximateSize('item-t~', 'item-t~\xff')).toBeLessThan(100_000);
    expect(await store.db.get('item-t~b')).toMatchObject({ v: 40 });
  });

  it('answers a point read as get does: the value, nothing for a key never written, and what a snapshot saw', async () => {
    // dynalite's own wrapper passes no options to get, so the snapshot is asked of the database itself.
    const db = new ClassicLevel<string, string>(join(home, 'plain'), { valueEncoding: 'utf8' });
    await db.open();
    try {
      await db.put('k', 'one');
      const seen = db.snapshot();
      await db.put('k', 'two');
      await db.put('k2', 'three');
      expect(await db.get('k')).toBe('two');
      expect(await db.get('k', { snapshot: seen })).toBe('one');
      expect(await db.get('k2', { snapshot: seen })).toBeUndefined();
      // A key between two written ones, a prefix of one, and one past them all are not found.
      expect(await db.get('j')).toBeUndefined();
      expect(await db.get('')).toBeUndefined();
      expect(await db.get('k3')).toBeUndefined();
      expect(await db.get('k', { valueEncoding: 'buffer' })).toEqual(Buffer.from('two'));
      await seen.close();
    } finally {
      await db.close();
    }
  });
});
