/**
 * Configuration, read once at the edge into a typed object. A missing or malformed variable
 * fails fast with its name, never as a silent `undefined` deep inside a request.
 */
import { parseDetectionOptions, type DetectionOptions } from '../detect/options.js';
import { ValidationError } from '../errors.js';

/** Settings every Crosslink process shares. */
export interface CrosslinkConfig {
  tableName: string;
  signalQueueUrl: string;
  signalDeadLetterQueueUrl: string;
  /** Where detection runs send their component tasks; without it, tasks run inside the coordinator. */
  detectTaskQueueUrl?: string;
  /** Signals expire this many days after they were received (DynamoDB TTL). */
  retentionDays: number;
  /** Identifiers shared by more accounts than this are excluded from linking as shared infrastructure. */
  hubThreshold: number;
  /** A cluster must span at least this many platforms before a platform's lookup reveals it. */
  releaseThreshold: number;
  /** Signed requests per minute a platform may make unless its credential says otherwise. */
  defaultRequestsPerMinute: number;
  /** Detection settings over the defaults (`DETECTION_OPTIONS`, JSON; docs/detection.md, "Tuning"); a hub threshold here wins over `HUB_THRESHOLD`. */
  detectionOptions: Partial<DetectionOptions>;
  /** Core memberships one incremental task takes before the closure is cut into several (default `CLOSURE_TASK_MEMBERSHIPS` in lib/runs/closure-partition.ts); tests set it low. */
  closureTaskMemberships?: number;
  /** How long after a run ends the next may read the ranking index (RANKING_SETTLE_MS on AWS; unset locally, where dynalite updates indexes with the write). */
  rankingSettleMs?: number;
}

/**
 * DynamoDB brings a global secondary index up to date "within a fraction of a second" of a write in
 * normal operation; a run reads the ranking index no sooner than this after the previous run ended.
 */
export const RANKING_SETTLE_MS = 2_000;

/** Thrown at start-up when a required environment variable is missing or malformed. */
export class ConfigError extends ValidationError {}

/** A variable that must be set; fails fast with its name. */
export function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`environment variable ${name} must be a positive whole number, got "${raw}"`);
  return value;
}

/** `DETECTION_OPTIONS`: detection settings as JSON, checked at start-up; none when unset. */
export function detectionOptionsFrom(env: NodeJS.ProcessEnv): Partial<DetectionOptions> {
  const raw = env.DETECTION_OPTIONS;
  if (raw === undefined || raw.trim() === '') return {};
  try {
    return parseDetectionOptions(raw);
  } catch (error) {
    throw new ConfigError(`environment variable DETECTION_OPTIONS: ${(error as Error).message}`);
  }
}

/** Default retention: a year of signals. */
export const DEFAULT_RETENTION_DAYS = 365;
/** Default hub threshold: an identifier on more than 50 accounts is infrastructure (see shared DETECTION-NOTES). */
export const DEFAULT_HUB_THRESHOLD = 50;

/** Default release threshold: only clusters spanning two or more platforms are revealed to platforms. */
export const DEFAULT_RELEASE_THRESHOLD = 2;
/** Default platform rate: 600 requests (up to 300,000 signals) a minute. */
export const DEFAULT_REQUESTS_PER_MINUTE = 600;

/** Reads the configuration from the environment (Lambda) or a given map (local stack). */
export function readConfig(env: NodeJS.ProcessEnv = process.env): CrosslinkConfig {
  return {
    tableName: required(env, 'TABLE_NAME'),
    signalQueueUrl: required(env, 'SIGNAL_QUEUE_URL'),
    signalDeadLetterQueueUrl: required(env, 'SIGNAL_DLQ_URL'),
    detectTaskQueueUrl: env.DETECT_COMPONENT_QUEUE_URL || undefined,
    retentionDays: positiveInt(env, 'RETENTION_DAYS', DEFAULT_RETENTION_DAYS),
    hubThreshold: positiveInt(env, 'HUB_THRESHOLD', DEFAULT_HUB_THRESHOLD),
    releaseThreshold: positiveInt(env, 'RELEASE_THRESHOLD', DEFAULT_RELEASE_THRESHOLD),
    defaultRequestsPerMinute: positiveInt(env, 'PLATFORM_REQUESTS_PER_MINUTE', DEFAULT_REQUESTS_PER_MINUTE),
    detectionOptions: detectionOptionsFrom(env),
    rankingSettleMs: RANKING_SETTLE_MS,
  };
}
