/**
 * rankingAfter, on a real DynamoDB API (dynalite): the current clusters derived from those before a
 * save and what the save ranked are exactly what reading the ranking gives afterwards, through new,
 * grown, unchanged, re-ranked and dissolved clusters. A coordinator that keeps them for its next run
 * relies on this instead of reading the ranking again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectClusters } from '../../lib/detect/detect.js';
import type { AccountFacts, Membership } from '../../lib/detect/model.js';
import { ClusterRepository, rankingAfter } from '../../lib/graph/cluster-repository.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

const NOW_MS = Date.parse('2026-11-28T00:00:00Z');
let local: LocalDynamo;
let repository: ClusterRepository;

beforeAll(async () => {
  local = await startLocalDynamo('ranking-after');
  await local.ensureTable();
  // Pages of 3 entries, so that the ranking is read in ranges as a large one is; puts sent 2 at a time
  // while the rest are built, as a large save's are.
  repository = new ClusterRepository(local.db, 'crosslink', 3, 2);
});
afterAll(async () => local?.stop());

/** Accounts sharing a phone per group (the group's letter, as a 64-hex-digit value). */
const world = (groups: Record<string, string[]>): Membership[] =>
  Object.entries(groups).flatMap(([letter, accounts]) => accounts.map((account) => ({ account, type: 'phone' as const, value: letter.repeat(64), observedAtMs: NOW_MS - 86_400_000 })));

describe('Function: rankingAfter', () => {
  it('gives what the ranking reads after each save, round after round', async () => {
    const rounds: Array<{ groups: Record<string, string[]>; facts: Array<[string, AccountFacts]> }> = [
      { groups: { a: ['snap#a1', 'wa#a2'], b: ['snap#b1', 'wa#b2', 'insta#b3'], c: ['snap#c1', 'wa#c2'], e: ['snap#e1', 'wa#e2'] }, facts: [] },
      // a grows, b stays, c dissolves, d is new, e's risk moves (its members contact minors now).
      { groups: { a: ['snap#a1', 'wa#a2', 'insta#a3'], b: ['snap#b1', 'wa#b2', 'insta#b3'], d: ['snap#d1', 'wa#d2'], e: ['snap#e1', 'wa#e2'] }, facts: [['snap#e1', { minorContacts7d: 40 }]] },
      // a and d merge (a shared phone), b loses a member, e is as it was.
      { groups: { a: ['snap#a1', 'wa#a2', 'insta#a3', 'snap#d1', 'wa#d2'], b: ['snap#b1', 'wa#b2'], e: ['snap#e1', 'wa#e2'] }, facts: [['snap#e1', { minorContacts7d: 40 }]] },
      { groups: {}, facts: [] },
    ];
    for (const [n, round] of rounds.entries()) {
      const before = await repository.currentClusters();
      const { clusters } = detectClusters({ memberships: world(round.groups), accounts: new Map(round.facts), previousClusters: before, nowMs: NOW_MS }, { idSeed: 'ranking-after' });
      const carried = new Set(clusters.map((cluster) => cluster.id));
      const removed = before.filter((cluster) => !carried.has(cluster.id)).map((cluster) => cluster.id);
      const saved = await repository.applyRun(`run-${n}`, { upserts: clusters, removed, previous: before }, new Date(NOW_MS + n * 1000).toISOString());
      const read = await repository.currentClusters();
      expect(rankingAfter(before, removed, saved.ranked), `round ${n}`).toEqual(read);
      expect(read.length).toBe(Object.keys(round.groups).length);
    }
  });

  it('says it cannot tell when an entry has no ranking key', () => {
    expect(rankingAfter([{ id: 'c-1', members: ['snap#a'], head: {} }], [], [])).toBeUndefined();
  });
});
