/**
 * A small synthetic multi-platform population with raw (unhashed) identifiers, for the demo: ordinary
 * people with a few accounts each, households sharing a home IP, carrier NAT addresses shared by
 * hundreds, and a handful of actors running throwaway profiles across platforms. Seeded, so the demo
 * shows the same world every time.
 */
import type { SignalType } from '../contract/signals.js';
import { seededRandom } from './seeded-random.js';

/** One raw observation as a platform would hold it before hashing. */
export interface RawSignal {
  platform: string;
  account: string;
  type: SignalType;
  raw: string;
  observedAt: string;
}

export interface RawAccount {
  platform: string;
  account: string;
  createdAt: string;
  minorContacts7d: number;
  reports30d: number;
}

export interface SyntheticPopulation {
  signals: RawSignal[];
  accounts: RawAccount[];
  /** Which accounts each actor runs (`platform#account`), for checking what detection found. */
  actors: string[][];
}


const DAY_MS = 86_400_000;

export function syntheticPopulation(options: { platforms: readonly string[]; people?: number; actors?: number; seed?: number; nowMs?: number }): SyntheticPopulation {
  const random = seededRandom(options.seed ?? 7);
  const nowMs = options.nowMs ?? Date.now();
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const chance = (p: number) => random() < p;
  const hex = (chars: number) => Array.from({ length: chars }, () => Math.floor(random() * 16).toString(16)).join('');
  const daysAgo = (max: number) => new Date(nowMs - Math.floor(random() * max * DAY_MS)).toISOString();
  const flipBits = (pdq: string, bits: number) => {
    const bytes = Buffer.from(pdq, 'hex');
    for (let i = 0; i < bits; i++) {
      const bit = Math.floor(random() * 256);
      bytes[bit >> 3] ^= 1 << (bit & 7);
    }
    return bytes.toString('hex');
  };

  const signals: RawSignal[] = [];
  const accounts: RawAccount[] = [];
  const actors: string[][] = [];
  let serial = 0;
  const newAccount = (platform: string, createdAt: string, minorContacts7d: number, reports30d: number) => {
    const account = `u${(++serial).toString(36)}${hex(4)}`;
    accounts.push({ platform, account, createdAt, minorContacts7d, reports30d });
    return account;
  };
  const observe = (platform: string, account: string, type: SignalType, raw: string) => signals.push({ platform, account, type, raw, observedAt: daysAgo(20) });

  const natAddresses = Array.from({ length: 3 }, (_, i) => `100.64.${i}.1`);
  const people = options.people ?? 1500;
  let household: { ip: string; left: number } = { ip: '', left: 0 };
  for (let person = 0; person < people; person++) {
    if (household.left === 0) household = { ip: `81.${Math.floor(random() * 200)}.${Math.floor(random() * 250)}.${1 + Math.floor(random() * 250)}`, left: 1 + Math.floor(random() * 4) };
    household.left--;
    const identity = {
      email: `person${person}.${hex(3)}@example.org`,
      phone: `+4477${String(10_000_000 + person * 7).padStart(8, '0')}`,
      device: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
      username: `user_${person}_${hex(3)}`,
      photo: hex(64),
    };
    const accountCount = 1 + Math.floor(random() * 3);
    const platforms = [...options.platforms].sort(() => random() - 0.5).slice(0, accountCount);
    for (const platform of platforms) {
      const account = newAccount(platform, daysAgo(900), chance(0.05) ? 1 : 0, chance(0.02) ? 1 : 0);
      if (chance(0.8)) observe(platform, account, 'email', identity.email);
      if (chance(0.6)) observe(platform, account, 'phone', identity.phone);
      if (chance(0.5)) observe(platform, account, 'device', identity.device);
      if (chance(0.4)) observe(platform, account, 'username', identity.username);
      if (chance(0.3)) observe(platform, account, 'photo_pdq', flipBits(identity.photo, Math.floor(random() * 6)));
      observe(platform, account, 'ip', chance(0.3) ? pick(natAddresses) : household.ip);
    }
  }

  for (let actor = 0; actor < (options.actors ?? 6); actor++) {
    const devices = [hex(32), hex(32)];
    const burner = `+4478${String(20_000_000 + actor * 13).padStart(8, '0')}`;
    const card = `card_fp_${hex(16)}`;
    const stolenPhoto = hex(64);
    const vpnExit = `185.220.${actor}.7`;
    const burstStart = nowMs - (10 + Math.floor(random() * 30)) * DAY_MS;
    const profiles: string[] = [];
    const profileCount = 4 + Math.floor(random() * 9);
    for (let profile = 0; profile < profileCount; profile++) {
      const platform = options.platforms[(actor + profile) % options.platforms.length];
      const createdAt = new Date(burstStart + Math.floor(random() * 3 * DAY_MS)).toISOString();
      const account = newAccount(platform, createdAt, 5 + Math.floor(random() * 25), Math.floor(random() * 3));
      profiles.push(`${platform}#${account}`);
      observe(platform, account, 'email', `throwaway.${actor}.${profile}.${hex(4)}@example.net`);
      observe(platform, account, 'device', pick(devices));
      if (chance(0.6)) observe(platform, account, 'phone', burner);
      if (chance(0.25)) observe(platform, account, 'payment', card);
      if (chance(0.7)) observe(platform, account, 'photo_pdq', flipBits(stolenPhoto, 4 + Math.floor(random() * 20)));
      observe(platform, account, 'ip', chance(0.5) ? vpnExit : pick(natAddresses));
    }
    actors.push(profiles);
  }
  return { signals, accounts, actors };
}
