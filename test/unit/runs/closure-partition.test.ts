/**
 * An incremental run on the stored graph: the previous run's graph with the logged changes applied
 * (applyChanges), its closure cut into tasks (partitionClosure), each task clustering its core. Over
 * random histories this must equal a full run over the table as it is: the same graph, the same
 * clusters for the recomputed accounts, the others' clusters unchanged, and the same components for
 * the next run to start from.
 */
import fc from 'fast-check';
import { GraphIndex } from '../../../lib/detect/graph-index.js';
import { describe, expect, it } from 'vitest';
import type { SignalType } from '../../../lib/contract/signals.js';
import { detectClusters, resolveDetectionOptions } from '../../../lib/detect/detect.js';
import type { AccountFacts, Verdict } from '../../../lib/detect/model.js';
import type { DetectionOptions } from '../../../lib/detect/options.js';
import { partitionClosure } from '../../../lib/runs/closure-partition.js';
import { partitionIntoTasks } from '../../../lib/runs/component-partition.js';
import { applyChanges, overlayOf, withOverlay, type RunGraph, type StoredMembership, type StoredSignals } from '../../../lib/runs/run-graph.js';
import { hashed, memberSets, NOW_MS, pdqVariant, seen } from '../detect/fixtures.js';

const OPTIONS = resolveDetectionOptions({ hubThreshold: 4, idSeed: 'closure-partition' });
const ACCOUNTS = Array.from({ length: 16 }, (_, i) => `${['snap', 'insta', 'wa'][i % 3]}#u${i}`);
const BASE_PHOTO = hashed('photo-base');
const PHOTOS = [BASE_PHOTO, pdqVariant(BASE_PHOTO, 10), pdqVariant(BASE_PHOTO, 25, 3), pdqVariant(BASE_PHOTO, 40, 5), hashed('other-photo')];
const TYPES: SignalType[] = ['email', 'phone', 'device', 'payment', 'ip', 'username', 'photo_pdq'];
const NOW_S = NOW_MS / 1000;

/** Memberships of the world's accounts, types drawn from `types`. */
const membershipArbOf = (types: readonly SignalType[]) => fc.record({
  account: fc.constantFrom(...ACCOUNTS),
  type: fc.constantFrom(...types),
  label: fc.integer({ min: 0, max: 4 }),
  daysAgo: fc.integer({ min: 0, max: 400 }),
  // Seconds after NOW until the signal expires: some expire during the history (a step is 1 s).
  lifetime: fc.integer({ min: 1, max: 12 }),
});
const stepArbOf = (types: readonly SignalType[]) => fc.record({
  stored: fc.array(membershipArbOf(types), { maxLength: 6 }),
  deleted: fc.array(fc.nat(), { maxLength: 2 }),
  // Signals a platform sends again as they were (same observation), with a new expiry.
  resent: fc.array(fc.record({ index: fc.nat(), lifetime: fc.integer({ min: 1, max: 12 }) }), { maxLength: 2 }),
  facts: fc.array(fc.record({ account: fc.constantFrom(...ACCOUNTS), minors: fc.integer({ min: 0, max: 30 }) }), { maxLength: 1 }),
});
const verdictArb = fc.record({ a: fc.constantFrom(...ACCOUNTS), b: fc.constantFrom(...ACCOUNTS), kind: fc.constantFrom<Verdict['kind']>('same-actor', 'not-same-actor') });

type Raw = { account: string; type: SignalType; label: number; daysAgo: number; lifetime: number };
const toStored = (raw: Raw): StoredMembership => {
  const plain = raw.type === 'photo_pdq' ? seen(raw.account, raw.type, PHOTOS[raw.label], raw.daysAgo) : seen(raw.account, raw.type, `v${raw.label}`, raw.daysAgo);
  return { ...plain, expiresAtS: NOW_S + raw.lifetime };
};
const keyOf = (m: { account: string; type: string; value: string }) => `${m.account}|${m.type}|${m.value}`;
/** A graph's content regardless of the order of its memberships (every field of each). */
const contentOf = (graph: RunGraph) => ({ ...graph, memberships: graph.memberships.map((m) => JSON.stringify(m)).sort() });
const sorted = (lists: string[][]) => lists.map((list) => [...list].sort()).sort((a, b) => (a.join() < b.join() ? -1 : 1));

/** What a full run over the table sees: the graph and its components, as a full run stores them. */
function fullRun(table: Map<string, StoredMembership>, facts: Map<string, AccountFacts>, verdicts: Verdict[], nowMs: number, options: DetectionOptions) {
  const memberships = [...table.values()].filter((m) => m.expiresAtS > nowMs / 1000);
  const partition = partitionIntoTasks({ memberships, accounts: facts, verdicts, nowMs }, options);
  const graph: RunGraph = { memberships, facts: new Map(facts), withdrawnAt: new Map(), components: partition.components, hubs: partition.hubRecords };
  return { graph, clusters: memberSets(detectClusters({ memberships, accounts: facts, verdicts, nowMs }, options)) };
}

describe('Function: partitionClosure over applyChanges', () => {
  it.each([
    { world: 'every type, a hub at 5 holders', options: OPTIONS, types: TYPES },
    // Photo families that become hubs, split and lose photos (the cases of incremental.test.ts's direct tests).
    { world: 'mostly photos, a hub at 4 holders', options: resolveDetectionOptions({ hubThreshold: 3, idSeed: 'closure-partition' }), types: ['photo_pdq', 'photo_pdq', 'photo_pdq', 'photo_pdq', 'email', 'ip'] as SignalType[] },
  ])('equals a full run over the table after every step of a random history ($world)', ({ options: OPTIONS, types }) => {
    fc.assert(
      fc.property(fc.array(membershipArbOf(types), { maxLength: 24 }), fc.array(verdictArb, { maxLength: 2 }), fc.array(stepArbOf(types), { minLength: 1, maxLength: 5 }), (initial, rawVerdicts, steps) => {
        // The table as DynamoDB holds it: one item per (account, identifier), the last write winning.
        const table = new Map<string, StoredMembership>();
        for (const raw of initial) table.set(keyOf(toStored(raw)), toStored(raw));
        const facts = new Map<string, AccountFacts>();
        const verdicts = rawVerdicts.map(({ a, b, kind }) => ({ a, b, kind, by: 'investigator', atMs: NOW_MS }));
        let previous = fullRun(table, facts, verdicts, NOW_MS, OPTIONS);
        // The graph kept whole by the full run, every account rewritten since and every account whose
        // components were recomputed since: each step's graph kept as an overlay of it must give that graph back.
        const keptWhole = previous.graph;
        const rewritten: string[] = [];
        const regrouped: string[] = [];
        // The index a warm coordinator keeps: built once, then patched step by step (the closure below reads through it).
        const index = GraphIndex.build(previous.graph.memberships, previous.graph.facts, OPTIONS);

        for (const [stepNo, step] of steps.entries()) {
          const nowMs = NOW_MS + (stepNo + 1) * 1000;
          // Stored signals, one message each, as the consumer logs them.
          const live = [...table.values()];
          const resent = live.length === 0 ? [] : step.resent.map(({ index, lifetime }) => ({ ...live[index % live.length], expiresAtS: nowMs / 1000 + lifetime }));
          const stored: StoredSignals[] = [...step.stored.map(toStored), ...resent].map((m) => {
            table.set(keyOf(m), m);
            const cut = m.account.indexOf('#');
            return { platform: m.account.slice(0, cut), receivedAt: new Date(nowMs).toISOString(), expiresAtS: m.expiresAtS, signals: [{ account: m.account.slice(cut + 1), type: m.type, value: m.value, observedAt: new Date(m.observedAtMs).toISOString() }] };
          });
          // Deleted signals: the log names their accounts, which are read afresh.
          const items = [...table.keys()];
          const reread = new Map<string, { memberships: StoredMembership[] }>();
          for (const index of step.deleted) {
            if (items.length === 0) break;
            const key = items[index % items.length];
            const account = table.get(key)?.account;
            table.delete(key);
            if (account) reread.set(account, { memberships: [] });
          }
          for (const [account, fresh] of reread) fresh.memberships = [...table.values()].filter((m) => m.account === account && m.expiresAtS > nowMs / 1000);
          for (const { account, minors } of step.facts) facts.set(account, { minorContacts7d: minors });

          const applied = applyChanges(previous.graph, { stored, reread, factsOf: { accounts: step.facts.map((f) => f.account), facts } }, nowMs);
          const full = fullRun(table, facts, verdicts, nowMs, OPTIONS);
          expect(applied.graph.memberships.map(keyOf).sort()).toEqual(full.graph.memberships.map(keyOf).sort());
          rewritten.push(...applied.rewritten);

          index.patch(applied.graph.memberships, applied.graph.facts, applied.replaced);
          const partition = partitionClosure({ graph: applied.graph, touched: applied.touched, changedIdentifiers: applied.changedIdentifiers, verdicts, nowMs, source: index }, OPTIONS, 5);
          const core = new Set(partition.tasks.flatMap((task) => task.core));
          expect(new Set(partition.core)).toEqual(core);
          // The graph this step keeps, with the components and hubs it formed, as an overlay of the whole one.
          const kept: RunGraph = { ...applied.graph, components: partition.components, hubs: partition.hubs };
          regrouped.push(...partition.core);
          expect(contentOf(withOverlay(keptWhole, overlayOf(kept, rewritten, regrouped)))).toEqual(contentOf(kept));
          const recomputed = partition.tasks.flatMap((task) =>
            memberSets(detectClusters({ memberships: task.memberships, accounts: new Map(task.facts), verdicts, nowMs, core: new Set(task.core), holderTotals: new Map(task.holderTotals) }, OPTIONS)),
          );
          const inCore = (members: string[]) => members.some((member) => core.has(member));
          expect(sorted(recomputed)).toEqual(sorted(full.clusters.filter(inCore)));
          expect(sorted(full.clusters.filter((members) => !inCore(members)))).toEqual(sorted(previous.clusters.filter((members) => !inCore(members))));
          expect(sorted(partition.components)).toEqual(sorted(full.graph.components));
          const hubKeys = (hubs: RunGraph['hubs']) => new Set(hubs.map((hub) => `${hub.type}|${hub.value}|${hub.accounts}|${[...hub.values].sort()}`));
          expect(hubKeys(partition.hubs)).toEqual(hubKeys(full.graph.hubs));

          // One task over the whole closure carries the graph the partition built; detection over it
          // gives what detection building its own graph gives.
          const whole = partitionClosure({ graph: applied.graph, touched: applied.touched, changedIdentifiers: applied.changedIdentifiers, verdicts, nowMs }, OPTIONS);
          expect(whole.tasks.length).toBe(core.size === 0 ? 0 : 1);
          for (const task of whole.tasks) {
            expect(task.graph).toBeDefined();
            const input = { memberships: task.memberships, accounts: new Map(task.facts), verdicts, nowMs, core: new Set(task.core), holderTotals: new Map(task.holderTotals) };
            const withoutTimings = (result: ReturnType<typeof detectClusters>) => ({ ...result, stats: { ...result.stats, timingsMs: {} } });
            expect(withoutTimings(detectClusters({ ...input, graph: task.graph }, OPTIONS))).toEqual(withoutTimings(detectClusters(input, OPTIONS)));
          }
          previous = { graph: kept, clusters: full.clusters };
        }
      }),
      // PROPERTY_RUNS and PROPERTY_SEED run more histories, or others, when the closure's rules change.
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 100), seed: Number(process.env.PROPERTY_SEED ?? 20261129) },
    );
  }, 240_000);
});

// Cases found in review, each failing on the code before its fix.
describe('Function: partitionClosure, cases found in review', () => {
  const options = resolveDetectionOptions({ hubThreshold: 3, idSeed: 'review' });
  const photo = (account: string, value: string) => ({ account, type: 'photo_pdq' as const, value, observedAtMs: NOW_MS });
  /** The graph a run keeps: the memberships now, over the components and hubs of the previous run. */
  const keptGraph = (previous: ReturnType<typeof partitionIntoTasks>, after: Array<Omit<StoredMembership, 'expiresAtS'>>): RunGraph => ({
    memberships: after.map((m) => ({ ...m, expiresAtS: NOW_S + 86_400 })),
    facts: new Map(),
    withdrawnAt: new Map(),
    components: previous.components,
    hubs: previous.hubRecords,
  });

  // An account read only for a link bound: its memberships were in the closure but its photo family was not read
  // whole, so a photo-family hub it holds was dropped from the hubs the next run starts from.
  it('keeps the photo-family hub of an account read only for a link bound', () => {
    const before = [seen('snap#b1', 'ip', 'home'), photo('snap#b1', BASE_PHOTO), photo('wa#x1', BASE_PHOTO), photo('wa#x2', PHOTOS[1]), photo('wa#x3', PHOTOS[1])];
    const previous = partitionIntoTasks({ memberships: before, accounts: new Map(), verdicts: [], nowMs: NOW_MS }, options);
    const added = seen('insta#c1', 'ip', 'home');
    const after = [...before, added];
    const now = partitionIntoTasks({ memberships: after, accounts: new Map(), verdicts: [], nowMs: NOW_MS }, options);
    const graph = keptGraph(previous, after);

    const partition = partitionClosure({ graph, touched: ['insta#c1'], changedIdentifiers: [added], verdicts: [], nowMs: NOW_MS }, options);

    expect(now.hubRecords.map((hub) => hub.accounts)).toEqual([4]);
    expect(partition.hubs).toEqual(now.hubRecords);
  });

  it('keeps, with its count and photos now, the part of a photo-family hub its bridging photo no longer joins', () => {
    // The bridge is 20 and 30 bits from the far photos, which are 40 and 50 bits from the base photo.
    const [bridge, far, farther] = [pdqVariant(BASE_PHOTO, 20), pdqVariant(BASE_PHOTO, 40), pdqVariant(BASE_PHOTO, 50)];
    const before = [photo('snap#a', BASE_PHOTO), photo('wa#b', BASE_PHOTO), photo('snap#e', bridge), photo('fb#c', far), photo('insta#d', far), photo('wa#f', farther), photo('fb#g', farther)];
    const previous = partitionIntoTasks({ memberships: before, accounts: new Map(), verdicts: [], nowMs: NOW_MS }, options);
    const after = before.filter((m) => m.account !== 'snap#e');
    const now = partitionIntoTasks({ memberships: after, accounts: new Map(), verdicts: [], nowMs: NOW_MS }, options);
    const graph = keptGraph(previous, after);

    const partition = partitionClosure({ graph, touched: ['snap#e'], changedIdentifiers: [before[2]], verdicts: [], nowMs: NOW_MS }, options);

    expect(previous.hubRecords.map((hub) => hub.accounts)).toEqual([7]);
    expect(now.hubRecords.map((hub) => [hub.accounts, hub.values.length])).toEqual([[4, 2]]);
    expect(partition.hubs).toEqual(now.hubRecords);
  });

  it('drops a photo-family hub that lost every holder', () => {
    const before = [photo('snap#a', BASE_PHOTO), photo('wa#b', BASE_PHOTO), photo('fb#c', PHOTOS[1]), photo('insta#d', PHOTOS[1]), seen('snap#x', 'phone', 'p'), seen('wa#y', 'phone', 'p')];
    const previous = partitionIntoTasks({ memberships: before, accounts: new Map(), verdicts: [], nowMs: NOW_MS }, options);
    const after = before.slice(4);
    const graph = keptGraph(previous, after);

    const partition = partitionClosure({ graph, touched: ['snap#a', 'wa#b', 'fb#c', 'insta#d'], changedIdentifiers: before.slice(0, 4), verdicts: [], nowMs: NOW_MS }, options);

    expect(previous.hubRecords.map((hub) => hub.accounts)).toEqual([4]);
    expect(partition.hubs).toEqual([]);
  });
});
