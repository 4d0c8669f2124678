import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SignalType } from '../../../lib/contract/signals.js';
import { DEFAULT_DETECTION_OPTIONS, detectClustersDetailed, type DetectionState } from '../../../lib/detect/detect.js';
import { collectClosure, detectIncremental, FullRunRequiredError, hubsUntouched, inMemoryGraphSource, IncrementalClosureError } from '../../../lib/detect/incremental.js';
import type { AccountFacts, DetectionResult, Membership, Verdict } from '../../../lib/detect/model.js';
import type { DetectionOptions } from '../../../lib/detect/options.js';
import { pdqDistance } from '../../../lib/detect/pdq-index.js';
import { DAY_MS, hashed, NOW_MS, pdqVariant, seen } from './fixtures.js';

// A small world where every rule can fire: few accounts and values (so hubs appear and vanish at a
// threshold of 4), photos near and far from each other, verdicts of both kinds.
const OPTIONS: Partial<DetectionOptions> = { hubThreshold: 4, idSeed: 'property' };
const BASE_PHOTO = hashed('photo-base');
const PHOTOS = [BASE_PHOTO, pdqVariant(BASE_PHOTO, 10), pdqVariant(BASE_PHOTO, 25, 3), pdqVariant(BASE_PHOTO, 40, 5), hashed('other-photo')];
const TYPES: SignalType[] = ['email', 'phone', 'device', 'payment', 'ip', 'username', 'photo_pdq'];

/** Random histories over `accountCount` accounts and five values per type, types drawn from `types`. */
function historyArbs(accountCount: number, types: readonly SignalType[] = TYPES, maxRemoved = 2) {
  const accounts = Array.from({ length: accountCount }, (_, i) => `${['snap', 'insta', 'wa'][i % 3]}#u${i}`);
  const membership = fc.record({
    account: fc.constantFrom(...accounts),
    type: fc.constantFrom(...types),
    label: fc.integer({ min: 0, max: 4 }),
    daysAgo: fc.integer({ min: 0, max: 400 }),
  });
  const verdict = fc.record({
    a: fc.constantFrom(...accounts),
    b: fc.constantFrom(...accounts),
    kind: fc.constantFrom<Verdict['kind']>('same-actor', 'not-same-actor'),
  });
  const step = fc.record({
    added: fc.array(membership, { maxLength: 6 }),
    removed: fc.array(fc.nat(), { maxLength: maxRemoved }),
    verdicts: fc.array(verdict, { maxLength: 1 }),
    facts: fc.array(fc.record({ account: fc.constantFrom(...accounts), minors: fc.integer({ min: 0, max: 30 }) }), { maxLength: 1 }),
  });
  return { membership, step };
}

function toMembership(raw: { account: string; type: SignalType; label: number; daysAgo: number }): Membership {
  if (raw.type === 'photo_pdq') return { account: raw.account, type: raw.type, value: PHOTOS[raw.label], observedAtMs: NOW_MS - raw.daysAgo * DAY_MS };
  return seen(raw.account, raw.type, `v${raw.label}`, raw.daysAgo);
}

/** The result without timings, which are the only thing allowed to differ. */
function comparable(result: DetectionResult) {
  return { ...result, stats: { ...result.stats, timingsMs: {} } };
}

describe('Function: hubsUntouched', () => {
  const ipHub = { type: 'ip', values: [hashed('shared')], accounts: 900 };
  const photoHub = { type: 'photo_pdq', values: [BASE_PHOTO, PHOTOS[1]], accounts: 700 };
  const member = (type: SignalType, value: string): Membership => ({ account: 'snap#u1', type, value, observedAtMs: NOW_MS });

  it('keeps the hubs no membership holds, and drops one held through any of its values', () => {
    expect(hubsUntouched([ipHub, photoHub], [member('email', hashed('mine'))])).toEqual([ipHub, photoHub]);
    expect(hubsUntouched([ipHub, photoHub], [member('photo_pdq', PHOTOS[1])])).toEqual([ipHub]);
    expect(hubsUntouched([ipHub, photoHub], [member('ip', hashed('shared')), member('photo_pdq', BASE_PHOTO)])).toEqual([]);
  });

  it('tells identifiers apart by type: the same value under another type does not touch the hub', () => {
    expect(hubsUntouched([ipHub], [member('device', hashed('shared'))])).toEqual([ipHub]);
  });
});

describe('Function: inMemoryGraphSource', () => {
  it('finds near photos as all-pairs comparison does, nearest first, whether or not an account holds the photo', () => {
    // Families of re-encodes (1-60 bits from their photo, so some beyond 31) and unrelated photos.
    const bases = [BASE_PHOTO, hashed('second-photo'), hashed('third-photo')];
    const photos = [...new Set([...bases, ...bases.flatMap((base, b) => Array.from({ length: 30 }, (_, i) => pdqVariant(base, 1 + ((i * 13 + b) % 60), i * 11 + b))), ...Array.from({ length: 40 }, (_, i) => hashed(`unrelated-${i}`))])];
    const source = inMemoryGraphSource(photos.map((photo, i) => seen(`snap#p${i}`, 'photo_pdq', photo)), new Map());
    const bruteForce = (hash: string) =>
      photos
        .map((photo, index) => ({ photo, index, distance: pdqDistance(hash, photo) }))
        .filter((entry) => entry.distance <= 31)
        .sort((x, y) => x.distance - y.distance || x.index - y.index)
        .map((entry) => entry.photo);
    const answers = photos.map((photo) => source.nearPhotos(photo, 31));
    expect(answers).toEqual(photos.map(bruteForce));
    expect(answers.some((answer) => answer.length > 2)).toBe(true);
    // A photo no account holds is answered too.
    const unheld = pdqVariant(BASE_PHOTO, 5, 200);
    expect(photos).not.toContain(unheld);
    expect(source.nearPhotos(unheld, 31)).toEqual(bruteForce(unheld));
  });
});

describe('Function: detectIncremental', () => {
  // Few accounts: large components, hubs coming and going. More accounts at a higher resolution: many
  // small components joined by weak links, so that a changed identifier's holders in other components
  // are often left out of the closure (collectClosure's link bound decides which).
  it.each([
    { world: '14 accounts', accounts: 14, initial: 20, options: OPTIONS },
    { world: '40 accounts, most shared identifiers linking weakly', accounts: 40, initial: 60, options: { ...OPTIONS, cpmResolution: 0.3 } },
    // IP-heavy histories with more removals, the kind of change the review's cases came from (at this size
    // and run count it does not find them itself: the direct tests below hold each case).
    {
      world: '30 accounts, mostly IP addresses and usernames, a hub at 4 holders',
      accounts: 30,
      initial: 80,
      options: { ...OPTIONS, hubThreshold: 3, cpmResolution: 0.3 },
      types: ['ip', 'ip', 'ip', 'email', 'phone', 'device', 'username', 'username', 'photo_pdq'] as SignalType[],
      maxRemoved: 4,
      steps: 8,
    },
    // Photo families that become hubs, split and lose photos (each case also a direct test below).
    {
      world: '20 accounts, mostly photos, a hub at 4 holders',
      accounts: 20,
      initial: 40,
      options: { ...OPTIONS, hubThreshold: 3 },
      types: ['photo_pdq', 'photo_pdq', 'photo_pdq', 'photo_pdq', 'email', 'ip'] as SignalType[],
      maxRemoved: 4,
      steps: 6,
    },
  ])('equals a full run after every step of a random history ($world)', ({ accounts, initial: initialCount, options: OPTIONS, ...world }) => {
    const arbs = historyArbs(accounts, 'types' in world ? world.types : undefined, 'maxRemoved' in world ? world.maxRemoved : undefined);
    fc.assert(
      fc.property(fc.array(arbs.membership, { maxLength: initialCount }), fc.array(arbs.step, { minLength: 1, maxLength: 'steps' in world ? world.steps : 5 }), (initial, steps) => {
        let memberships = initial.map(toMembership);
        const facts = new Map<string, AccountFacts>();
        const verdicts: Verdict[] = [];
        let state: DetectionState = detectClustersDetailed({ memberships, accounts: facts, verdicts, nowMs: NOW_MS }, OPTIONS).state;

        for (const [stepNo, step] of steps.entries()) {
          const nowMs = NOW_MS + stepNo * 1000;
          const touched = new Set<string>();
          const removed = new Set(step.removed.map((index) => index % Math.max(1, memberships.length)));
          const changedIdentifiers = [...memberships.filter((_, index) => removed.has(index)), ...step.added.map(toMembership)].map(({ type, value }) => ({ type, value }));
          memberships.forEach((membership, index) => removed.has(index) && touched.add(membership.account));
          memberships = memberships.filter((_, index) => !removed.has(index));
          for (const raw of step.added) {
            memberships.push(toMembership(raw));
            touched.add(raw.account);
          }
          for (const { a, b, kind } of step.verdicts) {
            verdicts.push({ a, b, kind, by: 'investigator', atMs: nowMs });
            touched.add(a).add(b);
          }
          for (const { account, minors } of step.facts) {
            facts.set(account, { minorContacts7d: minors });
            touched.add(account);
          }

          const full = detectClustersDetailed({ memberships, accounts: facts, verdicts, previousClusters: state.clusters, nowMs }, OPTIONS);
          const closure = collectClosure(state, touched, inMemoryGraphSource(memberships, facts, OPTIONS), { verdicts, options: OPTIONS, changedIdentifiers });
          const incremental = detectIncremental(state, closure, { verdicts, nowMs }, OPTIONS);

          expect(comparable(incremental.result)).toEqual(comparable(full.result));
          state = incremental.state;
        }
      }),
      // PROPERTY_RUNS and PROPERTY_SEED run more histories, or others, when the closure's rules change.
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 100), seed: Number(process.env.PROPERTY_SEED ?? 20261128) },
    );
    // About 10 s on an idle 2-core machine; generous for a loaded one.
  }, 240_000);

  it('recomputes only the touched components', () => {
    const memberships = [seen('snap#a1', 'phone', 'a'), seen('wa#a2', 'phone', 'a'), seen('snap#b1', 'email', 'b'), seen('wa#b2', 'email', 'b')];
    const { state } = detectClustersDetailed({ memberships, accounts: new Map(), nowMs: NOW_MS });
    const next = [...memberships, seen('insta#a3', 'phone', 'a')];

    const closure = collectClosure(state, ['insta#a3'], inMemoryGraphSource(next, new Map()));
    const { result, recomputedAccounts } = detectIncremental(state, closure, { nowMs: NOW_MS });

    expect(closure.accounts.sort()).toEqual(['insta#a3', 'snap#a1', 'wa#a2']);
    expect(recomputedAccounts).toBe(3);
    expect(result.clusters.map((cluster) => cluster.members).sort()).toEqual([
      ['insta#a3', 'snap#a1', 'wa#a2'],
      ['snap#b1', 'wa#b2'],
    ]);
  });

  it('takes a large previous component into the core once (it was queued again from each member: n² accounts, which killed the process at 28,000)', () => {
    const members = Array.from({ length: 40_000 }, (_, n) => `snap#x${n}`);
    const memberships = members.map((account) => seen(account, 'email', account));
    const added = seen('snap#x0', 'device', 'new');

    const closure = collectClosure({ components: [{ members }], hubs: [] }, ['snap#x0'], inMemoryGraphSource([...memberships, added], new Map()), { changedIdentifiers: [added] });

    expect(closure.accounts).toHaveLength(members.length);
    expect(new Set(closure.accounts)).toEqual(new Set(members));
    expect(closure.memberships).toHaveLength(memberships.length + 1);
  });

  it('leaves out the components of an identifier\'s other holders while their links to the change stay weak', () => {
    // a1-a2 and b1-b2 are two components; a1 and b1 share a home IP, far too weak to join them.
    const before = [seen('snap#a1', 'phone', 'a'), seen('wa#a2', 'phone', 'a'), seen('snap#b1', 'phone', 'b'), seen('wa#b2', 'phone', 'b'), seen('snap#a1', 'ip', 'home'), seen('snap#b1', 'ip', 'home')];
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS });
    // c1 joins the IP: the IP's weight changes for every pair of its holders, each still far below the resolution.
    const added = seen('insta#c1', 'ip', 'home');
    const after = [...before, added];
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }).result;

    const closure = collectClosure(state, ['insta#c1'], inMemoryGraphSource(after, new Map()), { changedIdentifiers: [added] });

    expect(closure.accounts).toEqual(['insta#c1']);
    expect(comparable(detectIncremental(state, closure, { nowMs: NOW_MS }).result)).toEqual(comparable(full));
  });

  it('recomputes a component two holders of a changed identifier are in, whose link through it changed', () => {
    const before = [seen('snap#a1', 'phone', 'a'), seen('wa#a2', 'phone', 'a'), seen('snap#a1', 'ip', 'home'), seen('wa#a2', 'ip', 'home')];
    const { state, result } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS });
    const added = seen('insta#c1', 'ip', 'home');
    const after = [...before, added];
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }).result;

    const closure = collectClosure(state, ['insta#c1'], inMemoryGraphSource(after, new Map()), { changedIdentifiers: [added] });

    // The IP, held by three now, weighs less in a1-a2's link: the cluster's report changed.
    expect(full.clusters[0].links[0].weight).toBeLessThan(result.clusters[0].links[0].weight);
    expect(closure.accounts.sort()).toEqual(['insta#c1', 'snap#a1', 'wa#a2']);
    expect(comparable(detectIncremental(state, closure, { nowMs: NOW_MS }).result)).toEqual(comparable(full));
  });

  it('weighs an IP address the core holds by its count, without reading its other holders', () => {
    // a1 and a2 are one person, on a café's IP address that two strangers use too.
    const before = [seen('snap#a1', 'phone', 'a'), seen('wa#a2', 'phone', 'a'), ...['snap#a1', 'wa#a2', 'snap#s1', 'wa#s2'].map((account) => seen(account, 'ip', 'cafe'))];
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS });
    const added = seen('wa#a2', 'email', 'new');
    const after = [...before, added];
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }).result;

    const closure = collectClosure(state, ['wa#a2'], inMemoryGraphSource(after, new Map()), { changedIdentifiers: [added] });

    expect(closure.accounts.sort()).toEqual(['snap#a1', 'wa#a2']);
    expect(new Set(closure.memberships.map((membership) => membership.account))).toEqual(new Set(['snap#a1', 'wa#a2']));
    expect(closure.holderTotals.get(`ip\u0000${hashed('ip:cafe')}`)).toBe(4);
    // The IP's share of a1-a2's link is weighed as by four holders, as the full run does.
    expect(full.clusters[0].links[0].evidence.map((evidence) => evidence.type)).toContain('ip');
    expect(comparable(detectIncremental(state, closure, { nowMs: NOW_MS }).result)).toEqual(comparable(full));
  });

  // Found by an adversarial review of the two rules above and of older ones; each fails on the code before its fix.
  const photoOf = (account: string, value: string): Membership => ({ account, type: 'photo_pdq', value, observedAtMs: NOW_MS });

  it('keeps the photo-family hub of an account read only for a link bound', () => {
    // b1 shares a home IP with the change and holds a photo of a family over the threshold of 3.
    const options = { hubThreshold: 3, idSeed: 'review' };
    const before = [seen('snap#b1', 'ip', 'home'), photoOf('snap#b1', BASE_PHOTO), photoOf('wa#x1', BASE_PHOTO), photoOf('wa#x2', PHOTOS[1]), photoOf('wa#x3', PHOTOS[1])];
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    const added = seen('insta#c1', 'ip', 'home');
    const after = [...before, added];
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options).result;

    const closure = collectClosure(state, ['insta#c1'], inMemoryGraphSource(after, new Map(), options), { options, changedIdentifiers: [added] });

    expect(full.hubs).toEqual([{ type: 'photo_pdq', value: expect.any(String), accounts: 4 }]);
    expect(comparable(detectIncremental(state, closure, { nowMs: NOW_MS }, options).result)).toEqual(comparable(full));
  });

  it('revisits the holders of a unit whose corroboration changed when a holder left another unit', () => {
    // h and y share a device, which corroborates one of the six pairs of the username n; z and w share a phone, another.
    const options: Partial<DetectionOptions> = { cpmResolution: 0.3, clusterMergeWeight: 0.3, idSeed: 'review' };
    const before = [...['snap#h', 'wa#y', 'insta#z', 'fb#w'].map((account) => seen(account, 'username', 'n')), seen('snap#h', 'device', 'D'), seen('wa#y', 'device', 'D'), seen('insta#z', 'phone', 'p'), seen('fb#w', 'phone', 'p')];
    const { state, result } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    // h drops the device: the username's corroboration, and so z-w's link, changes though neither z nor w shares anything with h but n.
    const removed = before[4];
    const after = before.filter((membership) => membership !== removed);
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options).result;

    const closure = collectClosure(state, ['snap#h'], inMemoryGraphSource(after, new Map(), options), { options, changedIdentifiers: [removed] });

    const zw = (r: DetectionResult) => r.clusters.find((cluster) => cluster.members.includes('insta#z'))!.links[0].weight;
    expect(zw(full)).not.toBe(zw(result));
    expect(comparable(detectIncremental(state, closure, { nowMs: NOW_MS }, options).result)).toEqual(comparable(full));
  });

  it('splits the photo family a removed photo bridged', () => {
    // PHOTOS[0] is within 31 bits of PHOTOS[1] and of PHOTOS[2], which are further apart: without it they are two families.
    expect([pdqDistance(PHOTOS[0], PHOTOS[1]) <= 31, pdqDistance(PHOTOS[0], PHOTOS[2]) <= 31, pdqDistance(PHOTOS[1], PHOTOS[2]) <= 31]).toEqual([true, true, false]);
    const options = { hubThreshold: 3, typeWeights: { ...DEFAULT_DETECTION_OPTIONS.typeWeights, ip: 0.2 }, idSeed: 'review' };
    const before = [photoOf('snap#u0', PHOTOS[0]), photoOf('snap#u9', PHOTOS[1]), photoOf('wa#u2', PHOTOS[1]), photoOf('wa#u8', PHOTOS[1])];
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    const [removed] = before;
    const added = photoOf('snap#u0', PHOTOS[2]);
    const after = [...before.slice(1), added];
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options).result;

    const closure = collectClosure(state, ['snap#u0'], inMemoryGraphSource(after, new Map(), options), { options, changedIdentifiers: [removed, added] });

    expect(full.clusters.map((cluster) => cluster.members)).toEqual([['snap#u9', 'wa#u2', 'wa#u8']]);
    expect(comparable(detectIncremental(state, closure, { nowMs: NOW_MS }, options).result)).toEqual(comparable(full));
  });

  it('reports a hub that lost a holder and stays a hub with its count now', () => {
    const options = { hubThreshold: 3, idSeed: 'review' };
    const before = ['snap#u0', 'wa#u5', 'snap#u24', 'snap#u18', 'insta#u28'].map((account) => seen(account, 'ip', 'v3'));
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    const after = before.slice(1);
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options).result;

    const closure = collectClosure(state, ['snap#u0'], inMemoryGraphSource(after, new Map(), options), { options, changedIdentifiers: [before[0]] });

    expect(full.hubs.map((hub) => hub.accounts)).toEqual([4]);
    expect(comparable(detectIncremental(state, closure, { nowMs: NOW_MS }, options).result)).toEqual(comparable(full));
  });

  // A photo family that is a hub before and after a change links nothing either time, so its holders do
  // not enter the closure; the closure's walk reads the family whole, and its count and photos come from that.
  it('reports a photo-family hub that lost a holder and stays a hub with its count now', () => {
    const options = { hubThreshold: 3, idSeed: 'review' };
    const before = [photoOf('snap#a', BASE_PHOTO), photoOf('wa#b', BASE_PHOTO), photoOf('fb#c', PHOTOS[1]), photoOf('insta#d', PHOTOS[1]), photoOf('snap#e', PHOTOS[1])];
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    const removed = before[4];
    const after = before.slice(0, 4);
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options).result;

    const closure = collectClosure(state, ['snap#e'], inMemoryGraphSource(after, new Map(), options), { options, changedIdentifiers: [removed] });

    expect(full.hubs.map((hub) => hub.accounts)).toEqual([4]);
    expect(detectIncremental(state, closure, { nowMs: NOW_MS }, options).result.hubs).toEqual(full.hubs);
  });

  it('reports a photo-family hub that lost a photo with the photos it holds now', () => {
    const options = { hubThreshold: 3, idSeed: 'review' };
    // Ten and twenty bits from the base photo (fixtures' pdqVariant flips the same bits first): one family.
    const [near, nearer] = [pdqVariant(BASE_PHOTO, 20), pdqVariant(BASE_PHOTO, 10)];
    const before = [photoOf('snap#a', BASE_PHOTO), photoOf('wa#b', BASE_PHOTO), photoOf('fb#c', nearer), photoOf('insta#d', nearer), photoOf('snap#e', near)];
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    const after = before.slice(0, 4);
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options);

    const closure = collectClosure(state, ['snap#e'], inMemoryGraphSource(after, new Map(), options), { options, changedIdentifiers: [before[4]] });
    const incremental = detectIncremental(state, closure, { nowMs: NOW_MS }, options);

    expect(state.hubs.map((hub) => hub.values.length)).toEqual([3]);
    expect(full.state.hubs.map((hub) => [hub.accounts, hub.values.length])).toEqual([[4, 2]]);
    expect(incremental.state.hubs).toEqual(full.state.hubs);
    expect(comparable(incremental.result)).toEqual(comparable(full.result));
  });

  it('reports the part of a photo-family hub that stays a hub when the photo bridging it goes', () => {
    const options = { hubThreshold: 3, idSeed: 'review' };
    // The bridge is 20 and 30 bits from the far side's photos, which are 40 and 50 bits from the base
    // photo (beyond the distance of 31). Each photo has at most three holders: none is a hub alone.
    const [bridge, far, farther] = [pdqVariant(BASE_PHOTO, 20), pdqVariant(BASE_PHOTO, 40), pdqVariant(BASE_PHOTO, 50)];
    const farSide = [photoOf('fb#c', far), photoOf('insta#d', far), photoOf('wa#f', farther), photoOf('fb#g', farther)];
    const before = [photoOf('snap#a', BASE_PHOTO), photoOf('wa#b', BASE_PHOTO), photoOf('snap#e', bridge), ...farSide];
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    const after = before.filter((membership) => membership.account !== 'snap#e');
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options);

    const closure = collectClosure(state, ['snap#e'], inMemoryGraphSource(after, new Map(), options), { options, changedIdentifiers: [before[2]] });
    const incremental = detectIncremental(state, closure, { nowMs: NOW_MS }, options);

    expect(state.hubs.map((hub) => hub.accounts)).toEqual([7]);
    // The base photo's side (two holders) now links; the far side (four) is a hub on its own.
    expect(full.result.clusters.map((cluster) => cluster.members)).toEqual([['snap#a', 'wa#b']]);
    expect(full.state.hubs).toEqual([{ type: 'photo_pdq', value: [far, farther].sort()[0], accounts: 4, values: [far, farther].sort() }]);
    expect(incremental.state.hubs).toEqual(full.state.hubs);
    expect(comparable(incremental.result)).toEqual(comparable(full.result));
  });

  it('revisits the family a photo no longer bridges once it is a hub on its own', () => {
    const options = { hubThreshold: 3, idSeed: 'review' };
    // The base photo (three holders) and a re-encode 25 bits away (two): one family of five, a hub.
    const before = [photoOf('wa#u8', BASE_PHOTO), photoOf('wa#u11', BASE_PHOTO), photoOf('insta#u7', BASE_PHOTO), photoOf('snap#u3', PHOTOS[2]), photoOf('insta#u10', PHOTOS[2])];
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    // A fourth holder makes the base photo a hub alone: it bridges nothing, and the re-encode's two holders link.
    const added = photoOf('snap#u0', BASE_PHOTO);
    const after = [...before, added];
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options);

    const closure = collectClosure(state, ['snap#u0'], inMemoryGraphSource(after, new Map(), options), { options, changedIdentifiers: [added] });
    const incremental = detectIncremental(state, closure, { nowMs: NOW_MS }, options);

    expect(state.hubs.map((hub) => hub.values.length)).toEqual([2]);
    expect(full.result.clusters.map((cluster) => cluster.members)).toEqual([['insta#u10', 'snap#u3']]);
    expect(full.state.hubs).toEqual([{ type: 'photo_pdq', value: BASE_PHOTO, accounts: 4, values: [BASE_PHOTO] }]);
    expect(comparable(incremental.result)).toEqual(comparable(full.result));
    expect(incremental.state.hubs).toEqual(full.state.hubs);
  });

  it('reports a photo that is a hub on its own and lost a holder with its count now', () => {
    const options = { hubThreshold: 3, idSeed: 'review' };
    const before = ['wa#u8', 'insta#u4', 'insta#u16', 'snap#u0', 'wa#u2'].map((account) => photoOf(account, BASE_PHOTO));
    const { state } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    const after = before.slice(1);
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options);

    const closure = collectClosure(state, ['wa#u8'], inMemoryGraphSource(after, new Map(), options), { options, changedIdentifiers: [before[0]] });
    const incremental = detectIncremental(state, closure, { nowMs: NOW_MS }, options);

    expect(full.state.hubs.map((hub) => hub.accounts)).toEqual([4]);
    expect(incremental.state.hubs).toEqual(full.state.hubs);
    expect(comparable(incremental.result)).toEqual(comparable(full.result));
  });

  // Found in the second review: a hub none of whose values anyone holds now left no trace in the closure and was carried as it was.
  it.each([
    { hub: 'an identifier', before: ['snap#a', 'wa#b', 'fb#c', 'insta#d'].map((account) => seen(account, 'email', 'e')) },
    { hub: 'a photo alone', before: ['snap#a', 'wa#b', 'fb#c', 'insta#d'].map((account) => photoOf(account, BASE_PHOTO)) },
    { hub: 'a photo family', before: [photoOf('snap#a', BASE_PHOTO), photoOf('wa#b', BASE_PHOTO), photoOf('fb#c', PHOTOS[1]), photoOf('insta#d', PHOTOS[1])] },
  ])('drops $hub that was a hub and lost every holder in one step', ({ before }) => {
    const options = { hubThreshold: 3, idSeed: 'review' };
    const bystanders = [seen('snap#x', 'phone', 'p'), seen('wa#y', 'phone', 'p')];
    const { state } = detectClustersDetailed({ memberships: [...before, ...bystanders], accounts: new Map(), nowMs: NOW_MS }, options);
    const full = detectClustersDetailed({ memberships: bystanders, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options);

    const closure = collectClosure(state, ['snap#a', 'wa#b', 'fb#c', 'insta#d'], inMemoryGraphSource(bystanders, new Map(), options), { options, changedIdentifiers: before });
    const incremental = detectIncremental(state, closure, { nowMs: NOW_MS }, options);

    expect(state.hubs.map((hub) => hub.accounts)).toEqual([4]);
    expect(full.state.hubs).toEqual([]);
    expect(incremental.state.hubs).toEqual([]);
    expect(comparable(incremental.result)).toEqual(comparable(full.result));
  });

  it('revisits the other holders of an identifier an account lost, whose link grew strong without it', () => {
    // Held by three, the username is too weak to link anyone (0.05 * 2^-0.5 < 0.04); held by two, it links them.
    const options: Partial<DetectionOptions> = { typeWeights: { ...DEFAULT_DETECTION_OPTIONS.typeWeights, username: 0.05 }, corroborationWeight: { ...DEFAULT_DETECTION_OPTIONS.corroborationWeight, username: 0 } };
    const before = [seen('snap#x', 'username', 'u'), seen('snap#x', 'phone', 'x'), seen('insta#y', 'username', 'u'), seen('wa#z', 'username', 'u')];
    const { state, result } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS }, options);
    const after = before.slice(1);
    const source = inMemoryGraphSource(after, new Map(), options);
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }, options).result;

    const closure = collectClosure(state, ['snap#x'], source, { options, changedIdentifiers: [{ type: 'username', value: hashed('username:u') }] });
    const incremental = detectIncremental(state, closure, { nowMs: NOW_MS }, options).result;

    expect(result.clusters).toEqual([]);
    expect(full.clusters.map((cluster) => cluster.members)).toEqual([['insta#y', 'wa#z']]);
    expect(comparable(incremental)).toEqual(comparable(full));
    // Told only of the account, the closure cannot see the value it lost.
    const blind = collectClosure(state, ['snap#x'], source, { options });
    expect(detectIncremental(state, blind, { nowMs: NOW_MS }, options).result.clusters).toEqual([]);
  });

  it('revisits every holder of a unit whose corroboration a new shared identifier changed', () => {
    // Four accounts share a username: uncorroborated, too weak to link (0.3 * 3^-0.5 * 0.1 = 0.017).
    const before = ['snap#a', 'wa#b', 'insta#c', 'fb#d'].map((account) => seen(account, 'username', 'n'));
    before.push(seen('wa#b', 'device', 'D'));
    const { state, result } = detectClustersDetailed({ memberships: before, accounts: new Map(), nowMs: NOW_MS });
    // snap#a now shares b's device: one username pair of six is corroborated, and every pair of it grows strong.
    const added = seen('snap#a', 'device', 'D');
    const after = [...before, added];
    const full = detectClustersDetailed({ memberships: after, accounts: new Map(), previousClusters: state.clusters, nowMs: NOW_MS }).result;

    const closure = collectClosure(state, ['snap#a'], inMemoryGraphSource(after, new Map()), { changedIdentifiers: [added] });

    expect(result.clusters).toEqual([]);
    expect(full.clusters.map((cluster) => cluster.members)).toEqual([['fb#d', 'insta#c', 'snap#a', 'wa#b']]);
    expect(closure.accounts.sort()).toEqual(['fb#d', 'insta#c', 'snap#a', 'wa#b']);
    expect(comparable(detectIncremental(state, closure, { nowMs: NOW_MS }).result)).toEqual(comparable(full));
  });

  it('asks for a full run once evidence has aged by a step', () => {
    const { state } = detectClustersDetailed({ memberships: [seen('snap#a', 'phone', 'p'), seen('wa#b', 'phone', 'p')], accounts: new Map(), nowMs: NOW_MS });
    const closure = { accounts: [], memberships: [], facts: new Map(), holderTotals: new Map() };

    expect(() => detectIncremental(state, closure, { nowMs: NOW_MS + DAY_MS })).toThrow(FullRunRequiredError);
    expect(() => detectIncremental(state, closure, { nowMs: NOW_MS }, { cpmResolution: 0.3 })).toThrow(FullRunRequiredError);
  });

  it('refuses a closure that holds only part of a previous component', () => {
    const memberships = [seen('snap#a', 'phone', 'p'), seen('wa#b', 'phone', 'p')];
    const { state } = detectClustersDetailed({ memberships, accounts: new Map(), nowMs: NOW_MS });

    const partial = { accounts: ['snap#a'], memberships: [memberships[0]], facts: new Map(), holderTotals: new Map() };

    expect(() => detectIncremental(state, partial, { nowMs: NOW_MS })).toThrow(IncrementalClosureError);
  });
});

describe('Function: collectClosure, near a photo family that is a hub of 15,000 holders (each photo under the threshold)', () => {
  const flipBits = (hex: string, bits: number[]) => {
    const bytes = Buffer.from(hex, 'hex');
    for (const bit of bits) bytes[bit >> 3] ^= 1 << (bit & 7);
    return bytes.toString('hex');
  };
  /** 300 photos within 4 bits of each other, each held by 50 accounts (the default hub threshold): one family, a hub. */
  const hubFamily = () => {
    const base = hashed('viral-image');
    const photos: string[] = [];
    for (let i = 0; photos.length < 300; i++) for (let j = i + 1; j < 256 && photos.length < 300; j++) photos.push(flipBits(base, [i, j]));
    const memberships: Membership[] = photos.flatMap((photo, p) => Array.from({ length: 50 }, (_, h) => seen(`snap#p${p}h${h}`, 'photo_pdq', photo)));
    const sorted = [...photos].sort();
    return { memberships, state: { components: [], hubs: [{ type: 'photo_pdq' as const, value: sorted[0], accounts: memberships.length, values: sorted }] } };
  };
  // Each walked the family's holders once per holder (the square of 15,000): 6 s and 25 s before the
  // fix, tens of milliseconds after. The timeout is the bound.

  it('a holder gains a device: its closure is itself, and the family is walked once (walkBoundary)', () => {
    const { memberships, state } = hubFamily();
    const added = seen('snap#p0h0', 'device', 'new');
    const closure = collectClosure(state, ['snap#p0h0'], inMemoryGraphSource([...memberships, added], new Map()), { changedIdentifiers: [added] });
    expect(closure.accounts).toEqual(['snap#p0h0']);
    // The family is read whole for the boundary, as detection tells a hub family only from all its photos.
    expect(closure.memberships).toHaveLength(memberships.length + 1);
  }, 3_000);

  it('two holders gain the same email: their closure is the two, and the hub family pairs nobody (acrossStrongLinks)', () => {
    const { memberships, state } = hubFamily();
    const added = [seen('snap#p0h0', 'email', 'new'), seen('snap#p1h0', 'email', 'new')];
    const closure = collectClosure(state, ['snap#p0h0', 'snap#p1h0'], inMemoryGraphSource([...memberships, ...added], new Map()), { changedIdentifiers: [added[0]] });
    expect(new Set(closure.accounts)).toEqual(new Set(['snap#p0h0', 'snap#p1h0']));
  }, 3_000);
});
