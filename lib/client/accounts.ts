/**
 * `crosslink submit --accounts FILE`: account metadata (createdAt, minorContacts7d, reports30d),
 * which Crosslink uses for risk only, never for linking. Sent as `{"signals":[],"accounts":[...]}`
 * batches through the same signed transport as signals.
 *
 * There is no checkpoint: Crosslink keeps one metadata record per account and a later one replaces
 * it, so sending a file again (after an interruption, or in full) changes nothing.
 */
import { accountMetaSchema, MAX_ACCOUNTS_PER_REQUEST, type AccountMeta } from '../contract/signals.js';
import { ACCOUNT_COLUMNS, formatFromPath, readRows, type InputFormat } from './input.js';
import { isoInstant } from './submit.js';
import type { SignalsTransport } from './transport.js';

/** What to send. */
export interface SubmitAccountsOptions {
  inputPath: string;
  /** Default: from the extension. */
  format?: InputFormat;
  transport: Pick<SignalsTransport, 'send'>;
  /** Records per request, at most the contract's {@link MAX_ACCOUNTS_PER_REQUEST}. */
  maxAccountsPerBatch?: number;
  signal?: AbortSignal;
}

/** One row refused, by the client or by Crosslink, and why. */
export interface RejectedAccountRow {
  row: number;
  line: number;
  stage: 'client' | 'server';
  field: string;
  error: string;
}

/** The outcome of one accounts file. */
export interface AccountsSummary {
  inputPath: string;
  rows: number;
  accepted: number;
  rejected: RejectedAccountRow[];
  requests: number;
}

const COUNT_FIELDS = ['minorContacts7d', 'reports30d'] as const;

/**
 * One input row as an account metadata record, or the field at fault. CSV cells are text, so a
 * count written as digits becomes a number and an empty cell means "not given".
 *
 * @example
 * accountFromRow({ account: 'u-1', createdAt: '1767225600', reports30d: '2', minorContacts7d: '' })
 * // -> { record: { account: 'u-1', createdAt: '2026-01-01T00:00:00.000Z', reports30d: 2 } }
 */
export function accountFromRow(fields: Record<string, unknown>): { record: AccountMeta } | { field: string; error: string } {
  const candidate: Record<string, unknown> = { account: typeof fields.account === 'number' ? String(fields.account) : fields.account };
  if (fields.createdAt !== undefined && fields.createdAt !== '') candidate.createdAt = isoInstant(fields.createdAt);
  for (const field of COUNT_FIELDS) {
    const value = fields[field];
    if (value === undefined || value === '') continue;
    candidate[field] = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  }
  const parsed = accountMetaSchema.safeParse(candidate);
  if (parsed.success) return { record: parsed.data };
  const issue = parsed.error.issues[0];
  return { field: String(issue.path[0] ?? 'item'), error: issue.message };
}

/**
 * Reads, checks and sends an accounts file in batches.
 *
 * @throws SubmitError when Crosslink refuses a batch outright or retries run out.
 * @example
 * const summary = await submitAccountsFile({ inputPath: 'accounts.csv', transport });
 * // -> { inputPath: 'accounts.csv', rows: 2, accepted: 2, rejected: [], requests: 1 }
 */
export async function submitAccountsFile(options: SubmitAccountsOptions): Promise<AccountsSummary> {
  const batchLimit = Math.min(options.maxAccountsPerBatch ?? MAX_ACCOUNTS_PER_REQUEST, MAX_ACCOUNTS_PER_REQUEST);
  const summary: AccountsSummary = { inputPath: options.inputPath, rows: 0, accepted: 0, rejected: [], requests: 0 };
  let batch: Array<{ record: AccountMeta; row: number; line: number }> = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const sent = batch;
    batch = [];
    // 500 records of at most ~200 bytes each stay far below the 1 MiB body limit.
    const answer = await options.transport.send(JSON.stringify({ signals: [], accounts: sent.map((entry) => entry.record) }), options.signal);
    summary.requests += 1;
    summary.accepted += answer.accountsAccepted;
    for (const item of answer.rejected) {
      const entry = item.list === 'accounts' ? sent[item.index] : undefined;
      if (entry) summary.rejected.push({ row: entry.row, line: entry.line, stage: 'server', field: item.field, error: item.error });
    }
  };

  for await (const row of readRows(options.inputPath, options.format ?? formatFromPath(options.inputPath), ACCOUNT_COLUMNS)) {
    options.signal?.throwIfAborted();
    summary.rows += 1;
    const built = row.parseError ? { field: 'item', error: row.parseError } : accountFromRow(row.fields);
    if ('record' in built) batch.push({ record: built.record, row: row.row, line: row.line });
    else summary.rejected.push({ row: row.row, line: row.line, stage: 'client', ...built });
    if (batch.length >= batchLimit) await flush();
  }
  await flush();
  summary.rejected.sort((a, b) => a.row - b.row);
  return summary;
}

/**
 * The accounts summary as a few lines for a person.
 *
 * @example
 * formatAccountsSummary(summary)
 * // submitted accounts.csv: 3 rows, 2 account records accepted, 1 rejected, in 1 requests
 * //   row 2 (line 3) reports30d: must not be negative
 */
export function formatAccountsSummary(summary: AccountsSummary): string {
  const lines = [
    `submitted ${summary.inputPath}: ${summary.rows} rows, ${summary.accepted} account records accepted, ${summary.rejected.length} rejected, in ${summary.requests} requests`,
  ];
  for (const rejected of summary.rejected.slice(0, 20)) lines.push(`  row ${rejected.row} (line ${rejected.line}) ${rejected.field}: ${rejected.error}`);
  if (summary.rejected.length > 20) lines.push(`  ... and ${summary.rejected.length - 20} more (--json lists them all)`);
  return lines.join('\n');
}
