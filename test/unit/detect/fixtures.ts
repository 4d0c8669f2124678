/** Small factories for detection fixtures: hashed identifiers, memberships, PDQ hashes a chosen distance apart. */
import { createHash } from 'node:crypto';
import type { SignalType } from '../../../lib/contract/signals.js';
import type { DetectionInput, Membership, Verdict } from '../../../lib/detect/model.js';

export const NOW_MS = Date.parse('2026-11-28T00:00:00Z');
export const DAY_MS = 86_400_000;

/** 64 hex characters derived from a readable label, standing in for a keyed hash. */
export const hashed = (label: string) => createHash('sha256').update(label).digest('hex');

/** A membership: `account` (`platform#id`) seen with the identifier labelled `label` of `type`. */
export function seen(account: string, type: SignalType, label: string, observedDaysAgo = 1): Membership {
  return { account, type, value: type === 'photo_pdq' && /^[0-9a-f]{64}$/.test(label) ? label : hashed(`${type}:${label}`), observedAtMs: NOW_MS - observedDaysAgo * DAY_MS };
}

/** A PDQ hash `bits` bits away from `base` (flips the first `bits` bits, spread over the hash). */
export function pdqVariant(base: string, bits: number, offset = 0): string {
  const value = BigInt(`0x${base}`);
  let flipped = value;
  for (let i = 0; i < bits; i++) flipped ^= 1n << BigInt((offset + i * 7) % 256);
  return flipped.toString(16).padStart(64, '0');
}

export function verdict(a: string, b: string, kind: Verdict['kind'], atMs = NOW_MS - DAY_MS): Verdict {
  return { a, b, kind, by: 'investigator-1', atMs };
}

export function input(memberships: Membership[], extra: Partial<DetectionInput> = {}): DetectionInput {
  return { memberships, accounts: new Map(), nowMs: NOW_MS, ...extra };
}

/** The clusters as sorted member lists, sorted: easy to compare with an expectation. */
export function memberSets(result: { clusters: Array<{ members: string[] }> }): string[][] {
  return result.clusters.map((cluster) => [...cluster.members].sort()).sort((a, b) => (a[0] < b[0] ? -1 : 1));
}
