/**
 * The v1 wire contract for platforms: what `POST /v1/signals` takes, item by item.
 *
 * One zod schema per wire type is the single source of truth: the HTTP API, the consumer,
 * the platform client and the docs all read these.
 */
import { z } from 'zod';

/** Every signal type a platform may send. `photo_pdq` is a 256-bit PDQ hash, the rest are keyed HMACs. */
export const SIGNAL_TYPES = ['email', 'phone', 'device', 'payment', 'ip', 'username', 'photo_pdq'] as const;
export type SignalType = (typeof SIGNAL_TYPES)[number];

/** Most signals one request may carry. */
export const MAX_SIGNALS_PER_REQUEST = 500;
/** Most account metadata records one request may carry. */
export const MAX_ACCOUNTS_PER_REQUEST = 500;
/** Largest request body, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** How far in the future an `observedAt` or `createdAt` may lie before it is refused, in ms (clock skew). */
export const MAX_FUTURE_SKEW_MS = 24 * 60 * 60 * 1000;

const HEX64 = /^[0-9a-f]{64}$/;

/** Half of a surrogate pair standing alone: JSON can carry it (`"\ud800"`), UTF-8 cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A platform's opaque account id. It must be well-formed text: DynamoDB stores strings as UTF-8, where a
 * lone surrogate has no form, so it would be refused after the 202 (and the message dead-lettered) or
 * replaced, merging two accounts.
 */
export const accountIdSchema = z
  .string({ error: 'must be a string: the platform\'s opaque account id' })
  .min(1, { error: 'must not be empty: send the platform\'s opaque account id (1-128 chars)' })
  .max(128, { error: 'must be at most 128 characters' })
  .superRefine((account, ctx) => {
    const lone = LONE_SURROGATE.exec(account);
    if (lone) {
      const codePoint = lone[0].charCodeAt(0).toString(16).toUpperCase();
      ctx.addIssue({ code: 'custom', message: `has a lone surrogate (U+${codePoint}) at character ${lone.index + 1}: send the id as well-formed text (each surrogate escape in a pair)` });
    }
  });

const hashedValueSchema = z.string({ error: 'must be a string of 64 lowercase hex characters' }).superRefine((value, ctx) => {
  if (HEX64.test(value)) return;
  if (/^[0-9A-Fa-f]{64}$/.test(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be lowercase hex: lowercase the 64 hex characters' });
  } else if (value.includes('@') || /^\+?[\d\s().-]{6,}$/.test(value) || /^\d{1,3}(\.\d{1,3}){3}$/.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: 'looks like a raw identifier: Crosslink never takes raw identifiers; hash it with the Crosslink client (`crosslink hash`) under the consortium key',
    });
  } else {
    ctx.addIssue({
      code: 'custom',
      message: `must be 64 lowercase hex characters (an HMAC-SHA256 or a PDQ hash), got ${value.length} characters`,
    });
  }
});

const isoInstantSchema = z
  .string({ error: 'must be an ISO-8601 date-time string such as 2026-01-31T12:00:00Z' })
  // At most 9 fraction digits (nanoseconds): unbounded, one value could outgrow DynamoDB's 400 KB item.
  .refine((value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)), {
    message: 'must be an ISO-8601 date-time with a time zone and at most 9 fraction digits, such as 2026-01-31T12:00:00Z',
  })
  .refine((value) => !(Date.parse(value) > Date.now() + MAX_FUTURE_SKEW_MS), {
    message: 'lies more than 24 hours in the future: check the clock or the time zone',
  });

const countSchema = (what: string) =>
  z.number({ error: `must be a number: ${what}` }).int({ error: 'must be a whole number' }).min(0, { error: 'must not be negative' }).max(1_000_000, { error: 'must be at most 1000000' });

// One reason for every way a key id can be wrong (empty, long, not a string, other characters).
const KEY_ID_FORM = "must be a hashing key id of 1-32 letters, digits, dot, dash or underscore (the client's --key-id option), or left out";

/** One account-linkage signal: this account was seen with this hashed identifier. */
export const signalSchema = z.object({
  account: accountIdSchema,
  type: z.enum(SIGNAL_TYPES, { error: `must be one of ${SIGNAL_TYPES.join(', ')}` }),
  value: hashedValueSchema,
  observedAt: isoInstantSchema,
  /** Which consortium hashing key produced `value`, during a key rotation. */
  keyId: z.string({ error: KEY_ID_FORM }).regex(/^[A-Za-z0-9_.-]{1,32}$/, { error: KEY_ID_FORM }).optional(),
});
export type Signal = z.infer<typeof signalSchema>;

/** Behavioural metadata of one account, used for risk only (never for linking). */
export const accountMetaSchema = z.object({
  account: accountIdSchema,
  createdAt: isoInstantSchema.optional(),
  minorContacts7d: countSchema('distinct minors this account contacted in the last 7 days').optional(),
  reports30d: countSchema('user reports against this account in the last 30 days').optional(),
});
export type AccountMeta = z.infer<typeof accountMetaSchema>;

/**
 * The envelope, checked loosely so that one bad item never sinks the request:
 * items are validated one by one afterwards.
 */
export const signalBatchEnvelopeSchema = z
  .object({
    signals: z
      .array(z.unknown(), { error: 'must be an array of signals' })
      .max(MAX_SIGNALS_PER_REQUEST, { error: `carries more than ${MAX_SIGNALS_PER_REQUEST} signals: split the batch` }),
    accounts: z
      .array(z.unknown(), { error: 'must be an array of account records' })
      .max(MAX_ACCOUNTS_PER_REQUEST, { error: `carries more than ${MAX_ACCOUNTS_PER_REQUEST} account records: split the batch` })
      .optional(),
  })
  .refine((body) => body.signals.length > 0 || (body.accounts?.length ?? 0) > 0, {
    message: 'carries no signals and no accounts: send at least one',
  });

/** Why one item of a batch was refused. */
export interface RejectedItem {
  /** Which list the item was in. */
  list: 'signals' | 'accounts';
  /** Its position in that list. */
  index: number;
  /** The field at fault (`value`, `observedAt`...), or `item` when the item is not an object. */
  field: string;
  /** What is wrong and how to fix it. */
  error: string;
}

/** The answer to an accepted `POST /v1/signals`. */
export interface SubmitSignalsResponse {
  accepted: number;
  accountsAccepted: number;
  rejected: RejectedItem[];
}

/** The queue message the ingest API enqueues and the consumer stores. */
export const ingestMessageSchema = z.object({
  v: z.literal(1),
  platform: z.string().min(1),
  requestId: z.string().min(1),
  receivedAt: z.string(),
  signals: z.array(signalSchema.omit({ observedAt: true }).extend({ observedAt: z.string() })),
  accounts: z.array(accountMetaSchema.omit({ createdAt: true }).extend({ createdAt: z.string().optional() })),
});
export type IngestMessage = z.infer<typeof ingestMessageSchema>;
