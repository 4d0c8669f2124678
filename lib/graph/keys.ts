/**
 * The DynamoDB item keys (see docs/ARCHITECTURE.md). One place builds them; nothing else
 * concatenates key strings.
 */
import type { SignalType } from '../contract/signals.js';
import { parseAccountKey } from '../contract/platforms.js';

export const signalPk = (type: SignalType, value: string) => `SIG#${type}#${value}`;
export const accountPk = (platform: string, account: string) => `ACC#${platform}#${account}`;
/** The partition key of an account given as `platform#account`. */
export function accountPkOf(key: string): string {
  const ref = parseAccountKey(key);
  return accountPk(ref.platform, ref.account);
}
export const SK_META = 'META';

/**
 * The `kind` of an account's `META` item once the account is withdrawn: it holds no facts, only the
 * withdrawal's time as `reportedAt`, so that older account records still queued are not stored over it.
 */
export const KIND_WITHDRAWN_META = 'withdrawn-account';

/** Whether a `META` item holds an account's facts (not a withdrawal's marker). */
export const isAccountMeta = (item: Record<string, unknown>) => item.kind !== KIND_WITHDRAWN_META;

export const SK_CLUSTER = 'CLUSTER';
export const SK_WITHDRAWN = 'WITHDRAWN';
export const STAT_PK = 'STAT';
export const SK_COUNTERS = 'COUNTERS';
export const SK_LATEST_RUN = 'LATEST_RUN';
export const SK_LAST_SUCCESSFUL_RUN = 'LAST_SUCCESSFUL_RUN';
export const runPk = (runId: string) => `RUN#${runId}`;
export const SK_RUN = 'RUN';
export const RUNS_INDEX_PK = 'RUNS';
export const clusterPk = (clusterId: string) => `CLUSTER#${clusterId}`;
/** The cluster id a `CLUSTER#` partition key names (the inverse of {@link clusterPk}). */
export const clusterIdOfPk = (pk: unknown) => String(pk).slice('CLUSTER#'.length);
export const SK_REPORT = 'REPORT';
export const SK_REVIEW = 'REVIEW';
/**
 * The ranking index's one partition before it was spread over shards (`rankPk` of the reports an earlier
 * version wrote), and the partition of the ranking items kept before the index (lib/graph/legacy-ranking.ts).
 */
export const RANK_PK = 'RANK';
/** Partitions of the ranking a current cluster's report is spread over (16 x DynamoDB's per-partition write rate). */
export const RANK_SHARDS = 16;

/** The ranking partition of a cluster's report: `RANK#<shard>`, by an FNV-1a hash of its id. */
export function rankPkOf(clusterId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < clusterId.length; i++) hash = Math.imul(hash ^ clusterId.charCodeAt(i), 0x01000193);
  return `${RANK_PK}#${(hash >>> 0) % RANK_SHARDS}`;
}

/** Every partition of the ranking: the shards, and the one partition of reports an earlier version wrote. */
export const RANKING_PARTITIONS: readonly string[] = [RANK_PK, ...Array.from({ length: RANK_SHARDS }, (_, shard) => `${RANK_PK}#${shard}`)];

export const VERDICT_PK = 'VERDICT';
/** A retired hashing key id: signals stamped with it are refused and not stored. */
export const retiredKeyPk = (keyId: string) => `KEYID#${keyId}`;
export const SK_RETIRED = 'RETIRED';

/** Highest risk sorts first: scores are 0-100 with 3 decimals, inverted and zero-padded. */
export function rankSk(risk: number, clusterId: string): string {
  const inverted = 1_000_000 - Math.round(Math.min(100, Math.max(0, risk)) * 1000);
  return `${String(inverted).padStart(7, '0')}#${clusterId}`;
}

/** One string for an item's whole key (partition and sort), to fold repeated keys before a batch call. */
export const itemKeyString = (key: Record<string, unknown>) => `${key.pk}\u0000${key.sk}`;

/** Splits `ACC#<platform>#<account>` back into its parts. */
export function parseAccountPk(pk: string): { platform: string; account: string } {
  const rest = pk.slice(4);
  const cut = rest.indexOf('#');
  return { platform: rest.slice(0, cut), account: rest.slice(cut + 1) };
}
