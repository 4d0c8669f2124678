import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_OPTIONS, detectClusters } from '../../../lib/detect/detect.js';
import type { Membership } from '../../../lib/detect/model.js';
import { DAY_MS, hashed, input, memberSets, NOW_MS, pdqVariant, seen, verdict } from './fixtures.js';

/** One person's accounts on three platforms, tied by a phone, an email and a device (not every signal on every account). */
function personAcrossThreePlatforms(name: string): Membership[] {
  return [
    seen(`snap#${name}`, 'phone', `${name}-phone`),
    seen(`snap#${name}`, 'device', `${name}-device`),
    seen(`insta#${name}`, 'phone', `${name}-phone`),
    seen(`insta#${name}`, 'email', `${name}-email`),
    seen(`wa#${name}`, 'email', `${name}-email`),
    seen(`wa#${name}`, 'device', `${name}-device`),
  ];
}

describe('Function: detectClusters', () => {
  it('finds one actor across three platforms whole', () => {
    const result = detectClusters(input(personAcrossThreePlatforms('ann')));

    expect(memberSets(result)).toEqual([['insta#ann', 'snap#ann', 'wa#ann']]);
    expect(result.clusters[0].platforms).toEqual(['insta', 'snap', 'wa']);
    expect(result.stats.crossPlatformClusters).toBe(1);
  });

  it('keeps two actors apart when only a weak identifier joins them', () => {
    const sharedCafeIp = [seen('snap#ann', 'ip', 'cafe'), seen('snap#bob', 'ip', 'cafe')];
    const result = detectClusters(input([...personAcrossThreePlatforms('ann'), ...personAcrossThreePlatforms('bob'), ...sharedCafeIp]));

    expect(memberSets(result)).toEqual([
      ['insta#ann', 'snap#ann', 'wa#ann'],
      ['insta#bob', 'snap#bob', 'wa#bob'],
    ]);
  });

  it('excludes an identifier held by more accounts than the hub threshold and reports it', () => {
    const carrierNat = Array.from({ length: 12 }, (_, i) => seen(`snap#user${i}`, 'ip', 'carrier-nat'));
    const defaultDevice = Array.from({ length: 12 }, (_, i) => seen(`insta#user${i}`, 'device', 'default-device'));

    const result = detectClusters(input([...carrierNat, ...defaultDevice]), { hubThreshold: 10 });

    expect(result.clusters).toEqual([]);
    expect(result.hubs).toEqual([
      { type: 'device', value: hashed('device:default-device'), accounts: 12 },
      { type: 'ip', value: hashed('ip:carrier-nat'), accounts: 12 },
    ]);
  });

  it('links accounts through an identifier held by exactly the hub threshold', () => {
    const sharedDevice = Array.from({ length: 3 }, (_, i) => seen(`snap#p${i}`, 'device', 'family-tablet'));

    const result = detectClusters(input(sharedDevice), { hubThreshold: 3 });

    expect(result.hubs).toEqual([]);
    expect(memberSets(result)).toEqual([['snap#p0', 'snap#p1', 'snap#p2']]);
  });

  it('keeps a household apart when only a home IP links it', () => {
    const household = ['mum', 'dad', 'kid'].flatMap((name) => [...personAcrossThreePlatforms(name), seen(`snap#${name}`, 'ip', 'home'), seen(`wa#${name}`, 'ip', 'home')]);

    const result = detectClusters(input(household));

    expect(memberSets(result)).toEqual([
      ['insta#dad', 'snap#dad', 'wa#dad'],
      ['insta#kid', 'snap#kid', 'wa#kid'],
      ['insta#mum', 'snap#mum', 'wa#mum'],
    ]);
  });

  it('links two photos within the PDQ distance and reports the match', () => {
    const photo = hashed('profile-photo');
    const reEncoded = pdqVariant(photo, 31);

    const result = detectClusters(input([seen('snap#a', 'photo_pdq', photo), seen('insta#b', 'photo_pdq', reEncoded)]));

    expect(memberSets(result)).toEqual([['insta#b', 'snap#a']]);
    const evidence = result.clusters[0].links[0].evidence[0];
    expect(evidence).toMatchObject({ type: 'photo_pdq', distance: 31 });
    expect([evidence.value, evidence.matchedValue].sort()).toEqual([photo, reEncoded].sort());
  });

  it('does not link two photos one bit beyond the PDQ distance', () => {
    const photo = hashed('profile-photo');

    const result = detectClusters(input([seen('snap#a', 'photo_pdq', photo), seen('insta#b', 'photo_pdq', pdqVariant(photo, 32))]));

    expect(result.clusters).toEqual([]);
  });

  it('honours a configured PDQ distance', () => {
    const photo = hashed('profile-photo');
    const memberships = [seen('snap#a', 'photo_pdq', photo), seen('insta#b', 'photo_pdq', pdqVariant(photo, 10))];

    expect(detectClusters(input(memberships), { pdqMaxDistance: 9 }).clusters).toEqual([]);
    expect(detectClusters(input(memberships), { pdqMaxDistance: 10 }).clusters).toHaveLength(1);
  });

  it('keeps a hub photo out of near-matching: two re-encodes of a stock photo stay apart when they are not near each other', () => {
    const stock = hashed('stock-photo');
    // 16 bits from the stock photo each, on different bits: 32 apart, one beyond the PDQ distance.
    const [left, right] = [pdqVariant(stock, 16, 0), pdqVariant(stock, 16, 128)];
    const memberships = [
      ...['snap#s1', 'snap#s2', 'insta#s3', 'tiktok#s4'].map((account) => seen(account, 'photo_pdq', stock)),
      seen('snap#a', 'photo_pdq', left),
      seen('insta#b', 'photo_pdq', left),
      seen('snap#c', 'photo_pdq', right),
      seen('insta#d', 'photo_pdq', right),
    ];

    const result = detectClusters(input(memberships), { hubThreshold: 3 });

    expect(memberSets(result)).toEqual([
      ['insta#b', 'snap#a'],
      ['insta#d', 'snap#c'],
    ]);
    expect(result.hubs).toEqual([expect.objectContaining({ type: 'photo_pdq', value: stock, accounts: 4 })]);
  });

  it('lets old evidence of a fast-ageing type fall below what links a pair', () => {
    const sharedYearsAgo = [seen('snap#a', 'device', 'd', 1500), seen('insta#b', 'device', 'd', 1500)];
    const sharedYesterday = [seen('snap#a', 'device', 'd', 1), seen('insta#b', 'device', 'd', 1)];

    expect(detectClusters(input(sharedYearsAgo)).clusters).toEqual([]);
    expect(detectClusters(input(sharedYesterday)).clusters).toHaveLength(1);
  });

  it('keeps a payment card at full weight however old (no half-life)', () => {
    const old = detectClusters(input([seen('snap#a', 'payment', 'card', 3000), seen('insta#b', 'payment', 'card', 3000)]));
    const fresh = detectClusters(input([seen('snap#a', 'payment', 'card', 0), seen('insta#b', 'payment', 'card', 0)]));

    expect(old.clusters[0].links[0].weight).toBe(fresh.clusters[0].links[0].weight);
  });

  it('keeps two people apart when only an uncorroborated shared tablet joins them', () => {
    const person = (name: string) => ['snap', 'wa', 'fb'].flatMap((platform) => [seen(`${platform}#${name}`, 'phone', name), seen(`${platform}#${name}`, 'email', name)]);
    const tablet = [seen('wa#ann', 'device', 'tablet'), seen('wa#bob', 'device', 'tablet'), seen('wa#ann', 'ip', 'home'), seen('wa#bob', 'ip', 'home')];
    const memberships = [...person('ann'), ...person('bob'), ...tablet];

    expect(memberSets(detectClusters(input(memberships)))).toEqual([
      ['fb#ann', 'snap#ann', 'wa#ann'],
      ['fb#bob', 'snap#bob', 'wa#bob'],
    ]);
    expect(detectClusters(input(memberships), { corroborationWeight: { ...DEFAULT_DETECTION_OPTIONS.corroborationWeight, device: 0 } }).clusters).toHaveLength(1);
  });

  it('lets an uncorroborated burner phone attach a profile that a shared tablet would not', () => {
    // An actor's five profiles glued by a device, and a sixth sharing only a phone (or only a device) with one of them.
    const profiles = ['snap#x1', 'wa#x2', 'fb#x3', 'tiktok#x4', 'discord#x5'];
    const glued = profiles.map((account) => seen(account, 'device', 'd'));
    const burner = [...glued, seen('discord#x5', 'phone', 'burner'), seen('insta#x6', 'phone', 'burner')];
    const tablet = [...glued, seen('discord#x5', 'device', 'tablet'), seen('insta#x6', 'device', 'tablet')];

    expect(memberSets(detectClusters(input(burner)))).toEqual([[...profiles, 'insta#x6'].sort()]);
    expect(memberSets(detectClusters(input(tablet)))).toEqual([[...profiles].sort()]);
  });

  it('weighs an identifier less the more accounts share it', () => {
    const pair = detectClusters(input([seen('snap#a', 'phone', 'p'), seen('snap#b', 'phone', 'p')]));
    const five = detectClusters(input(Array.from({ length: 5 }, (_, i) => seen(`snap#${i}`, 'phone', 'p'))));

    expect(five.clusters[0].links[0].weight).toBeLessThan(pair.clusters[0].links[0].weight);
  });

  it('lists each link with the signal types that make it', () => {
    const result = detectClusters(input([seen('snap#a', 'phone', 'p'), seen('snap#b', 'phone', 'p'), seen('snap#a', 'email', 'e'), seen('snap#b', 'email', 'e')]));

    const link = result.clusters[0].links[0];
    expect({ a: link.a, b: link.b }).toEqual({ a: 'snap#a', b: 'snap#b' });
    expect(link.evidence.map((e) => e.type).sort()).toEqual(['email', 'phone']);
    expect(link.weight).toBeCloseTo(link.evidence[0].weight + link.evidence[1].weight, 9);
  });

  it('merges two accounts an investigator marked as the same actor, and lists the verdict', () => {
    const sameActor = verdict('snap#a', 'insta#z', 'same-actor');

    const result = detectClusters(input([seen('snap#a', 'phone', 'p'), seen('snap#b', 'phone', 'p'), seen('insta#z', 'email', 'z')], { verdicts: [sameActor] }));

    expect(memberSets(result)).toEqual([['insta#z', 'snap#a', 'snap#b']]);
    expect(result.clusters[0].verdicts).toEqual([sameActor]);
  });

  it('keeps apart two accounts an investigator marked as not the same actor, and lists the verdict', () => {
    const notSame = verdict('snap#a', 'snap#b', 'not-same-actor');

    const result = detectClusters(input([seen('snap#a', 'phone', 'p'), seen('snap#b', 'phone', 'p'), seen('snap#c', 'phone', 'p')], { verdicts: [notSame] }));

    const clusters = memberSets(result);
    expect(clusters.some((members) => members.includes('snap#a') && members.includes('snap#b'))).toBe(false);
    expect(clusters.flat().sort()).toEqual(['snap#a', 'snap#c']);
    expect(result.clusters[0].verdicts).toEqual([notSame]);
  });

  it('lets the latest verdict on a pair win', () => {
    const memberships = [seen('snap#a', 'phone', 'p'), seen('snap#b', 'phone', 'p')];
    const verdicts = [verdict('snap#a', 'snap#b', 'not-same-actor', NOW_MS - 2 * DAY_MS), verdict('snap#b', 'snap#a', 'same-actor', NOW_MS - DAY_MS)];

    expect(memberSets(detectClusters(input(memberships, { verdicts })))).toEqual([['snap#a', 'snap#b']]);
  });

  it('refuses a same-actor verdict that contradicts a not-same-actor one and reports the conflict', () => {
    const verdicts = [verdict('snap#a', 'snap#b', 'not-same-actor'), verdict('snap#a', 'snap#c', 'same-actor'), verdict('snap#c', 'snap#b', 'same-actor', NOW_MS)];

    const result = detectClusters(input([seen('snap#x', 'email', 'x')], { verdicts }));

    expect(result.verdictConflicts).toEqual([verdicts[2]]);
    expect(memberSets(result)).toEqual([['snap#a', 'snap#c']]);
  });

  it('fills risk with its reasons and ranks the riskiest cluster first', () => {
    const accounts = new Map([
      ['snap#ann', { minorContacts7d: 40, reports30d: 3, createdAtMs: NOW_MS - 3 * DAY_MS }],
      ['insta#ann', { createdAtMs: NOW_MS - 2 * DAY_MS }],
      ['wa#ann', { createdAtMs: NOW_MS - DAY_MS }],
    ]);
    const quiet = [seen('snap#q1', 'phone', 'q'), seen('snap#q2', 'phone', 'q')];

    const result = detectClusters(input([...quiet, ...personAcrossThreePlatforms('ann')], { accounts }));

    expect(result.clusters[0].members).toContain('snap#ann');
    expect(result.clusters[0].risk.reasons.map((r) => r.factor).sort()).toEqual(['creation-burst', 'minor-contacts', 'platforms', 'profiles', 'reports']);
    expect(result.clusters[0].risk.score).toBeGreaterThan(result.clusters[1].risk.score);
  });

  it('gives clusters of one run distinct ids', () => {
    const result = detectClusters(input(['a', 'b', 'c'].flatMap((name) => [seen(`snap#${name}1`, 'phone', name), seen(`snap#${name}2`, 'phone', name)])));

    expect(new Set(result.clusters.map((cluster) => cluster.id)).size).toBe(3);
  });

  it('finds nothing in an empty input', () => {
    const result = detectClusters(input([]));

    expect(result.clusters).toEqual([]);
    expect(result.stats).toMatchObject({ accounts: 0, memberships: 0, links: 0, components: 0, largestComponent: 0 });
  });
});
