/**
 * A seeded benchmark world: a multi-platform population with the truth kept beside it.
 *
 * - Ordinary people with 1-4 accounts on distinct platforms, reusing their phone, email (sometimes an
 *   alternative one), phone's device, username (sometimes a variant) and profile photo (re-encoded:
 *   PDQ hashes a few bits apart) imperfectly: not every signal on every account. Some teenagers talk
 *   to minors (their friends); a few people get reported.
 * - Households of 1-5 people sharing a home IP and sometimes a tablet.
 * - Shared infrastructure: carrier NAT addresses (thousands of accounts each), default device ids and
 *   test emails (hundreds each), popular usernames (a few strangers each), VPN exits (tens each).
 * - Actors running 4-40 throwaway profiles across platforms: a fresh email each, glued by a few reused
 *   devices, burner phones, stolen photos re-encoded (PDQ distance 4-30), now and then a payment card,
 *   VPN exits shared with strangers; profiles created in bursts, contacting many minors.
 */
import type { SignalType } from '../lib/contract/signals.js';
import type { AccountFacts, Membership } from '../lib/detect/model.js';
import { seededRandom } from '../lib/demo/seeded-random.js';

export const PLATFORMS = ['snap', 'insta', 'wa', 'tiktok', 'discord', 'fb'] as const;
const DAY_MS = 86_400_000;
export const WORLD_NOW_MS = Date.parse('2026-11-28T00:00:00Z');

export { seededRandom };

export interface World {
  memberships: Membership[];
  accounts: Map<string, AccountFacts>;
  /** Account key -> entity (a person `p<n>` or an actor `a<n>`). */
  truth: Map<string, string>;
  /** Entities that are actors, with their profile counts. */
  actors: Map<string, number>;
  nowMs: number;
}

export interface WorldOptions {
  accounts: number;
  seed: number;
  /** Share of accounts that are actors' profiles. */
  actorShare: number;
}

export function generateWorld(options: WorldOptions): World {
  const random = seededRandom(options.seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const chance = (p: number) => random() < p;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const hex8 = () => ((random() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
  const randomHash = () => hex8() + hex8() + hex8() + hex8() + hex8() + hex8() + hex8() + hex8();
  let counter = 0;
  const salt = randomHash().slice(0, 48);
  /** A fresh keyed-hash-like value (distinct for every call). */
  const freshValue = () => salt + (counter++).toString(16).padStart(16, '0');
  const variantOf = (hash: string, bits: number) => {
    const words = Array.from({ length: 8 }, (_, i) => Number.parseInt(hash.slice(i * 8, i * 8 + 8), 16));
    const flipped = new Set<number>();
    while (flipped.size < bits) flipped.add(Math.floor(random() * 256));
    for (const bit of flipped) words[bit >> 5] = (words[bit >> 5] ^ (1 << (bit & 31))) >>> 0;
    return words.map((word) => word.toString(16).padStart(8, '0')).join('');
  };
  const daysAgo = (min: number, max: number) => WORLD_NOW_MS - (min + random() * (max - min)) * DAY_MS;

  const memberships: Membership[] = [];
  const accounts = new Map<string, AccountFacts>();
  const truth = new Map<string, string>();
  const actors = new Map<string, number>();
  const see = (account: string, type: SignalType, value: string, observedAtMs = daysAgo(0, 180)) => memberships.push({ account, type, value, observedAtMs });
  const newAccount = (platform: string, entity: string, facts: AccountFacts) => {
    const key = `${platform}#${hex8()}${hex8()}`;
    truth.set(key, entity);
    accounts.set(key, facts);
    return key;
  };

  const scale = options.accounts;
  const carrierNats = Array.from({ length: Math.max(2, Math.round(scale / 4000)) }, freshValue);
  const defaultDevices = Array.from({ length: Math.max(1, Math.round((scale * 0.01) / 150)) }, freshValue);
  const testEmails = Array.from({ length: Math.max(1, Math.round((scale * 0.01) / 150)) }, freshValue);
  const popularUsernames = Array.from({ length: Math.max(5, Math.round(scale / 400)) }, freshValue);
  const vpnExits = Array.from({ length: Math.max(3, Math.round(scale / 1500)) }, freshValue);
  const infrastructure = (account: string) => {
    if (chance(0.2)) see(account, 'ip', pick(carrierNats), daysAgo(0, 30));
    if (chance(0.01)) see(account, 'device', pick(defaultDevices));
    if (chance(0.01)) see(account, 'email', pick(testEmails));
    if (chance(0.04)) see(account, 'ip', pick(vpnExits), daysAgo(0, 60));
  };

  let made = 0;
  let actorNo = 0;
  let personNo = 0;
  const actorBudget = Math.round(scale * options.actorShare);
  let actorAccounts = 0;
  while (made < scale) {
    // Actors, spread through the population so that every size of world gets its share.
    if (actorAccounts < actorBudget && actorAccounts <= (made * options.actorShare) / (1 - options.actorShare)) {
      const entity = `a${actorNo++}`;
      const profiles = Math.min(40, 4 + Math.floor(Math.pow(random(), 2.2) * 37));
      actors.set(entity, profiles);
      const devices = Array.from({ length: int(1, 3) }, freshValue);
      const burners = Array.from({ length: Math.max(1, Math.ceil(profiles / 5)) }, freshValue);
      const stolenPhotos = Array.from({ length: int(1, 3) }, randomHash);
      const card = chance(0.3) ? freshValue() : undefined;
      const vpn = Array.from({ length: int(1, 2) }, () => pick(vpnExits));
      const handles = Array.from({ length: 2 }, freshValue);
      const burstCentres = Array.from({ length: int(1, 3) }, () => daysAgo(3, 120));
      for (let p = 0; p < profiles; p++) {
        const account = newAccount(pick(PLATFORMS), entity, {
          createdAtMs: pick(burstCentres) + random() * 5 * DAY_MS,
          minorContacts7d: chance(0.85) ? int(3, 60) : 0,
          reports30d: chance(0.3) ? int(1, 5) : 0,
        });
        see(account, 'email', freshValue());
        if (chance(0.85)) see(account, 'device', pick(devices), daysAgo(0, 60));
        if (chance(0.15)) see(account, 'device', pick(devices), daysAgo(0, 60));
        if (chance(0.6)) see(account, 'phone', pick(burners));
        if (chance(0.8)) see(account, 'photo_pdq', variantOf(pick(stolenPhotos), int(4, 30)));
        if (card && chance(0.35)) see(account, 'payment', card);
        if (chance(0.7)) see(account, 'ip', pick(vpn), daysAgo(0, 30));
        if (chance(0.2)) see(account, 'username', pick(handles));
        else see(account, 'username', freshValue());
        infrastructure(account);
        made++;
        actorAccounts++;
      }
      continue;
    }

    // A household of ordinary people.
    const members = Math.min(5, 1 + Math.floor(Math.pow(random(), 1.5) * 5));
    const homeIp = freshValue();
    const tablet = chance(0.15) ? freshValue() : undefined;
    for (let m = 0; m < members && made < scale; m++) {
      const entity = `p${personNo++}`;
      const accountCount = pick([1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4]);
      const platforms = [...PLATFORMS].sort(() => random() - 0.5).slice(0, accountCount);
      const phone = freshValue();
      const altPhone = chance(0.1) ? freshValue() : undefined;
      const emails = [freshValue(), ...(chance(0.4) ? [freshValue()] : [])];
      const device = freshValue();
      const username = chance(0.05) ? pick(popularUsernames) : freshValue();
      const photo = chance(0.7) ? randomHash() : undefined;
      const teen = chance(0.15);
      let usedTablet = false;
      for (const platform of platforms) {
        const account = newAccount(platform, entity, {
          createdAtMs: daysAgo(30, 3000),
          minorContacts7d: teen && chance(0.6) ? int(1, 12) : 0,
          reports30d: chance(0.02) ? 1 : 0,
        });
        if (chance(0.75)) see(account, 'phone', altPhone && chance(0.4) ? altPhone : phone);
        if (chance(0.8)) see(account, 'email', chance(0.75) ? emails[0] : pick(emails));
        if (chance(0.7)) see(account, 'device', device, daysAgo(0, 90));
        if (chance(0.7)) see(account, 'username', chance(0.6) ? username : freshValue());
        if (photo && chance(0.6)) see(account, 'photo_pdq', variantOf(photo, int(0, 8)));
        if (members > 1 || chance(0.5)) if (chance(0.7)) see(account, 'ip', homeIp, daysAgo(0, 60));
        if (tablet && !usedTablet && chance(0.5)) {
          see(account, 'device', tablet, daysAgo(0, 90));
          usedTablet = true;
        }
        infrastructure(account);
        made++;
      }
    }
  }
  return { memberships, accounts, truth, actors, nowMs: WORLD_NOW_MS };
}

/**
 * Draws batches of 1% new signals for a world, as the incremental benchmarks take them in: each copies
 * an identifier drawn in proportion to use, onto an existing account (half the time) or a new profile
 * on the same platform (named with `tag`), observed an hour before the world's now. Seeded: the same
 * world gives the same batches in the same order.
 */
export function onePercentDrawer(world: World, seed = 7): (tag: string) => Membership[] {
  const random = seededRandom(seed);
  const accounts = [...world.accounts.keys()];
  return (tag) => {
    const additions: Membership[] = [];
    const count = Math.round(world.memberships.length * 0.01);
    for (let i = 0; i < count; i++) {
      const template = world.memberships[Math.floor(random() * world.memberships.length)];
      const account = random() < 0.5 ? accounts[Math.floor(random() * accounts.length)] : `${template.account.split('#')[0]}#${tag}${i.toString(36)}`;
      additions.push({ ...template, account, observedAtMs: world.nowMs - 3_600_000 });
    }
    return additions;
  };
}
