/**
 * Risk of a cluster: a score from 0 to 100 with the reasons behind it, so that investigators work the
 * most dangerous clusters first and can see why each one ranks where it does.
 *
 * Factors (each capped, so that no single one decides alone):
 * - `platforms`: one actor spread over several platforms is the grooming pattern;
 * - `profiles`: many profiles for one person is unusual, and grows slowly (log) beyond a handful;
 * - `minor-contacts`: distinct minors the cluster's accounts contacted in the last 7 days;
 * - `creation-burst`: several of the accounts created within a short window (throwaway profiles);
 * - `reports`: user reports against the accounts in the last 30 days.
 */
import { parseAccountKey } from '../contract/platforms.js';
import { byString } from '../detect/by-string.js';
import type { AccountFacts, RiskReason } from '../detect/model.js';

export interface RiskOptions {
  /** Points per platform beyond the first. */
  pointsPerExtraPlatform: number;
  /** Most points platforms can add. */
  maxPlatformPoints: number;
  /** Points per doubling of the number of profiles beyond one. */
  pointsPerProfileDoubling: number;
  maxProfilePoints: number;
  /** Points per doubling of (1 + minors contacted). */
  pointsPerMinorContactDoubling: number;
  maxMinorContactPoints: number;
  /** Accounts created within this many days of each other count as one burst. */
  burstWindowDays: number;
  /** A burst needs at least this many accounts. */
  minBurstAccounts: number;
  /** Points per account in the largest burst beyond the first. */
  pointsPerBurstAccount: number;
  maxBurstPoints: number;
  /** Points per doubling of (1 + reports). */
  pointsPerReportDoubling: number;
  maxReportPoints: number;
}

/**
 * Defaults: minors and platforms weigh most, as the harm this system looks for is cross-platform
 * grooming. Minor contacts reach their cap only at hundreds (a teenager's friends are minors too; an
 * actor's dozen profiles each contact dozens). The caps add up to 100.
 */
export const DEFAULT_RISK_OPTIONS: Readonly<RiskOptions> = Object.freeze({
  pointsPerExtraPlatform: 8,
  maxPlatformPoints: 24,
  pointsPerProfileDoubling: 4,
  maxProfilePoints: 16,
  pointsPerMinorContactDoubling: 4,
  maxMinorContactPoints: 36,
  burstWindowDays: 7,
  minBurstAccounts: 3,
  pointsPerBurstAccount: 2,
  maxBurstPoints: 15,
  pointsPerReportDoubling: 3,
  maxReportPoints: 9,
});

/** A risk score (0-100, 3 decimals) and the reasons that add up to it, largest first. */
export interface RiskScore {
  score: number;
  reasons: RiskReason[];
}

const DAY_MS = 86_400_000;
const NO_OPTIONS: Partial<RiskOptions> = Object.freeze({});
const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** Size of the largest set of creation times that fit within `windowMs` of each other. */
function largestBurst(createdAtMs: number[], windowMs: number): { count: number; fromMs: number; toMs: number } {
  const times = Float64Array.from(createdAtMs).sort();
  let best = { count: 0, fromMs: 0, toMs: 0 };
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end] - times[start] > windowMs) start++;
    if (end - start + 1 > best.count) best = { count: end - start + 1, fromMs: times[start], toMs: times[end] };
  }
  return best;
}

/** The distinct platforms of a cluster's members (`platform#account` keys), sorted. */
export function platformsOf(members: readonly string[]): string[] {
  const platforms: string[] = [];
  for (const member of members) {
    const { platform } = parseAccountKey(member);
    if (!platforms.includes(platform)) platforms.push(platform);
  }
  return platforms.sort(byString);
}

/**
 * Scores one cluster from its members (`platform#account` keys) and their behavioural facts.
 *
 * @example
 * scoreClusterRisk(['snap#a', 'insta#b', 'wa#c'], new Map([['snap#a', { minorContacts7d: 12 }]]));
 * // { score: 37.x, reasons: [{ factor: 'minor-contacts', points: 18.5, detail: '12 minors contacted in the last 7 days' }, ...] }
 */
export function scoreClusterRisk(
  members: readonly string[],
  facts: ReadonlyMap<string, AccountFacts>,
  options: Partial<RiskOptions> = NO_OPTIONS,
  /** The members' platforms ({@link platformsOf}), when the caller has them already. */
  platforms: readonly string[] = platformsOf(members),
): RiskScore {
  const o = options === NO_OPTIONS ? DEFAULT_RISK_OPTIONS : { ...DEFAULT_RISK_OPTIONS, ...options };
  const reasons: RiskReason[] = [];
  if (platforms.length > 1) {
    reasons.push({
      factor: 'platforms',
      points: Math.min(o.maxPlatformPoints, (platforms.length - 1) * o.pointsPerExtraPlatform),
      detail: `spans ${platforms.length} platforms (${platforms.join(', ')})`,
    });
  }
  if (members.length > 1) {
    reasons.push({
      factor: 'profiles',
      points: Math.min(o.maxProfilePoints, Math.log2(members.length) * o.pointsPerProfileDoubling),
      detail: `${members.length} profiles`,
    });
  }
  let minors = 0;
  let reports = 0;
  const created: number[] = [];
  for (const member of members) {
    const fact = facts.get(member);
    if (!fact) continue;
    minors += fact.minorContacts7d ?? 0;
    reports += fact.reports30d ?? 0;
    if (fact.createdAtMs !== undefined) created.push(fact.createdAtMs);
  }
  if (minors > 0) {
    reasons.push({
      factor: 'minor-contacts',
      points: Math.min(o.maxMinorContactPoints, Math.log2(1 + minors) * o.pointsPerMinorContactDoubling),
      detail: `${minors} minors contacted in the last 7 days`,
    });
  }
  const burst = largestBurst(created, o.burstWindowDays * DAY_MS);
  if (burst.count >= o.minBurstAccounts) {
    reasons.push({
      factor: 'creation-burst',
      points: Math.min(o.maxBurstPoints, (burst.count - 1) * o.pointsPerBurstAccount),
      detail: `${burst.count} accounts created within ${Math.max(1, Math.ceil((burst.toMs - burst.fromMs) / DAY_MS))} days (${new Date(burst.fromMs).toISOString().slice(0, 10)} to ${new Date(burst.toMs).toISOString().slice(0, 10)})`,
    });
  }
  if (reports > 0) {
    reasons.push({
      factor: 'reports',
      points: Math.min(o.maxReportPoints, Math.log2(1 + reports) * o.pointsPerReportDoubling),
      detail: `${reports} user reports in the last 30 days`,
    });
  }
  for (const reason of reasons) reason.points = round3(reason.points);
  reasons.sort((a, b) => b.points - a.points || byString(a.factor, b.factor));
  const score = round3(Math.min(100, reasons.reduce((sum, reason) => sum + reason.points, 0)));
  return { score, reasons };
}
