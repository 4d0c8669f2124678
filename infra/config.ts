/**
 * The deployment's configuration, read once from CDK context (`cdk.json` or `-c key=value`) into a
 * typed object. Every key has a default except the optional ones; a bad value fails synthesis with
 * the key's name and the form it expects.
 */
import { z } from 'zod';
import {
  DEFAULT_HUB_THRESHOLD,
  DEFAULT_RELEASE_THRESHOLD,
  DEFAULT_REQUESTS_PER_MINUTE,
  DEFAULT_RETENTION_DAYS,
} from '../lib/runtime/config.js';
import { parseDetectionOptions, type DetectionOptions } from '../lib/detect/options.js';

/** An OIDC issuer the investigator API trusts instead of a Cognito user pool the stack creates. */
export interface ExistingIdentityProvider {
  /** The issuer URL, `https://...`, exactly as in the tokens' `iss` claim. */
  issuer: string;
  /** Accepted `aud` (or `client_id`) values. */
  audience: string[];
}

/** What an operator can change without touching code. */
export interface DeploymentConfig {
  /** Names the stack and its resources: `Crosslink-<stage>`. */
  stage: string;
  /** Identifiers shared by more accounts than this are excluded from linking (HUB_THRESHOLD). */
  hubThreshold: number;
  /** Detection settings over the defaults (DETECTION_OPTIONS; docs/detection.md, "Tuning"), e.g. `{"cpmResolution":0.05}`. */
  detectionOptions: Partial<DetectionOptions>;
  /** Signals expire this many days after receipt through DynamoDB TTL (RETENTION_DAYS). */
  retentionDays: number;
  /** A cluster must span this many platforms before a platform's lookup reveals it (RELEASE_THRESHOLD). */
  releaseThreshold: number;
  /** Requests a minute a platform may make unless its entry says otherwise (PLATFORM_REQUESTS_PER_MINUTE). */
  platformRequestsPerMinute: number;
  /** EventBridge Scheduler expression for scheduled detection: `rate(...)` or `cron(...)`. */
  detectionSchedule: string;
  /** Time zone the schedule expression is read in (IANA name). */
  detectionScheduleTimeZone: string;
  /** Where alarms are e-mailed; without it the SNS topic has no subscriber. */
  alarmEmail?: string;
  /** Origins allowed to call the API from a browser, besides the console's own CloudFront origin. */
  corsOrigins: string[];
  /** Trust this identity provider; without it the stack creates a Cognito user pool. */
  identityProvider?: ExistingIdentityProvider;
  /** The built console to publish (relative to the repository root); skipped when the folder is absent. */
  consoleAssetPath: string;
  /** Log retention of the functions and the API access log, in days (a CloudWatch Logs allowed value). */
  logRetentionDays: number;
  /** The Cognito hosted sign-in domain's prefix (`<prefix>.auth.<region>.amazoncognito.com`); default `crosslink-<stage>-<8 characters of the stack's id>`. */
  signInDomainPrefix?: string;
}

/** The context keys this module reads. */
export const CONFIG_KEYS = [
  'stage',
  'hubThreshold',
  'detectionOptions',
  'retentionDays',
  'releaseThreshold',
  'platformRequestsPerMinute',
  'detectionSchedule',
  'detectionScheduleTimeZone',
  'alarmEmail',
  'corsOrigins',
  'identityProvider',
  'consoleAssetPath',
  'logRetentionDays',
  'signInDomainPrefix',
] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];

/** The defaults, merged under whatever context gives. */
export const DEFAULT_CONFIG: DeploymentConfig = {
  stage: 'dev',
  hubThreshold: DEFAULT_HUB_THRESHOLD,
  detectionOptions: {},
  retentionDays: DEFAULT_RETENTION_DAYS,
  releaseThreshold: DEFAULT_RELEASE_THRESHOLD,
  platformRequestsPerMinute: DEFAULT_REQUESTS_PER_MINUTE,
  detectionSchedule: 'rate(1 hour)',
  detectionScheduleTimeZone: 'UTC',
  corsOrigins: [],
  consoleAssetPath: 'web/dist',
  logRetentionDays: 90,
};

/** Thrown when a context value is malformed; the message starts with the key. */
export class DeploymentConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`context key "${key}": ${message}`);
    this.name = 'DeploymentConfigError';
  }
}

// The values CloudWatch Logs accepts for a retention period.
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

// `-c key=value` gives strings; cdk.json gives JSON values. Both forms are accepted.
const wholeNumber = (min: number, max: number) =>
  z.preprocess(
    (raw) => (typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw),
    z.number({ error: `expected a whole number from ${min} to ${max}` }).int({ error: `expected a whole number from ${min} to ${max}` }).min(min, { error: `expected at least ${min}` }).max(max, { error: `expected at most ${max}` }),
  );

const jsonOrValue = (raw: unknown) => {
  if (typeof raw !== 'string') return raw;
  const text = raw.trim();
  if (text.startsWith('[') || text.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      return raw;
    }
  }
  return raw;
};

const httpsUrl = z.url({ protocol: /^https$/, error: 'expected an https:// URL' });
const origin = z
  .string()
  .regex(/^(https:\/\/[a-z0-9.-]+(:\d+)?|http:\/\/localhost(:\d+)?)$/i, { error: 'expected origins like https://console.example.org (or http://localhost:5173), without a path' });

const schemas: { [K in ConfigKey]: z.ZodType } = {
  stage: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, { error: 'expected 1-20 lowercase letters, digits or dashes, starting with a letter' }),
  hubThreshold: wholeNumber(2, 1_000_000),
  detectionOptions: z.unknown().transform((raw, context) => {
    try {
      return parseDetectionOptions(typeof raw === 'string' ? raw : JSON.stringify(raw));
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  retentionDays: wholeNumber(1, 3650),
  releaseThreshold: wholeNumber(1, 100),
  platformRequestsPerMinute: wholeNumber(1, 1_000_000),
  detectionSchedule: z.string().regex(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))$/, {
    error: 'expected an EventBridge Scheduler expression such as "rate(1 hour)" or "cron(0 3 * * ? *)"',
  }),
  detectionScheduleTimeZone: z.string().regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/, { error: 'expected an IANA time zone such as "UTC" or "Europe/London"' }),
  alarmEmail: z.email({ error: 'expected an e-mail address' }),
  corsOrigins: z.preprocess(
    (raw) => {
      const value = jsonOrValue(raw);
      return typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter(Boolean) : value;
    },
    z.array(origin, { error: 'expected a list of origins (JSON array, or comma-separated)' }),
  ),
  identityProvider: z.preprocess(
    jsonOrValue,
    z.object(
      {
        issuer: httpsUrl,
        audience: z.preprocess((raw) => (typeof raw === 'string' ? [raw] : raw), z.array(z.string().min(1)).min(1, { error: 'expected at least one audience' })),
      },
      { error: 'expected {"issuer":"https://...","audience":["<client id>"]}' },
    ),
  ),
  consoleAssetPath: z.string().min(1, { error: 'expected a folder path' }),
  logRetentionDays: z.preprocess(
    (raw) => (typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw),
    z.number().refine((days) => LOG_RETENTION_DAYS.includes(days), { error: `expected one of ${LOG_RETENTION_DAYS.join(', ')}` }),
  ),
  // Cognito's rule for domain prefixes; it also refuses the words aws, amazon and cognito.
  signInDomainPrefix: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, { error: 'expected 1-63 lowercase letters, digits or dashes, not starting or ending with a dash' })
    .refine((prefix) => !/aws|amazon|cognito/.test(prefix), { error: 'Cognito refuses prefixes containing aws, amazon or cognito' }),
};

/**
 * Reads the deployment configuration from a context lookup such as `(key) => app.node.tryGetContext(key)`.
 * Keys that are absent (or empty strings, as `-c key=` gives) take their defaults.
 *
 * @example
 * readDeploymentConfig((key) => ({ hubThreshold: 'many' })[key]);
 * // DeploymentConfigError: context key "hubThreshold": expected a whole number from 2 to 1000000
 */
export function readDeploymentConfig(context: (key: string) => unknown): DeploymentConfig {
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const key of CONFIG_KEYS) {
    const raw = context(key);
    if (raw === undefined || raw === null || raw === '') continue;
    const parsed = schemas[key].safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` (at ${issue.path.join('.')})` : '';
      throw new DeploymentConfigError(key, `${issue?.message ?? 'invalid value'}${where}; got ${JSON.stringify(raw)}`);
    }
    config[key] = parsed.data;
  }
  // The default sign-in domain prefix holds the stage (investigator-identity.ts), and Cognito refuses a
  // prefix with one of these words: say so now rather than halfway through a deploy.
  const refusedWord = /aws|amazon|cognito/.exec(String(config.stage));
  if (refusedWord && config.signInDomainPrefix === undefined) {
    throw new DeploymentConfigError(
      'stage',
      `the default sign-in domain prefix (crosslink-${String(config.stage)}-<stack id>) would contain "${refusedWord[0]}", which Cognito refuses: choose another stage, or set signInDomainPrefix; got ${JSON.stringify(config.stage)}`,
    );
  }
  return config as unknown as DeploymentConfig;
}
