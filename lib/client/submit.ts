/**
 * `crosslink submit`: a file of raw (or already hashed) identifiers in, normalised, hashed,
 * batched to the contract's limits, signed and sent; a checkpoint after every acknowledged
 * batch, a file of rejected rows and a summary out.
 *
 * Resuming never loses a row: the checkpoint only moves past a batch once Crosslink has answered
 * it, and batches are acknowledged in file order. A batch sent again after an interruption is
 * harmless, because the server stores each signal once.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { CrosslinkError } from '../errors.js';
import { SIGNAL_TYPES, MAX_BODY_BYTES, MAX_SIGNALS_PER_REQUEST, signalSchema, type Signal, type SignalType } from '../contract/signals.js';
import { checkpointPathFor, fingerprintInput, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { ClientConfigError, NormalisationError, SubmitInterruptedError } from './errors.js';
import { checkHashedValue, type IdentifierHasher } from './hash.js';
import { normalisePdqHash } from './normalise.js';
import { countRows, formatFromPath, readRows, type InputFormat, type InputRow } from './input.js';
import type { BatchResult, SignalsTransport } from './transport.js';

/** What to submit and how. */
export interface SubmitOptions {
  inputPath: string;
  /** Defaults to the file's extension. */
  format?: InputFormat;
  /** Sends the batches (signing, retries). */
  transport: SignalsTransport;
  /** Where the batches go, recorded in the checkpoint (the transport's base URL). */
  url: string;
  /** Builds the hasher on the first raw row, so a file of hashed values needs no key. */
  hasher: () => IdentifierHasher;
  /** Every value in the file is already a 64-hex hash (otherwise a `hashed` column may say so per row). */
  allHashed?: boolean;
  /** The consortium key id to stamp on every signal, during a key rotation. */
  keyId?: string;
  /**
   * During a hashing-key rotation: the key being retired. Each raw row is then sent in both forms,
   * under the current key (stamped `keyId`) and under this one (stamped its own id), so that
   * accounts on platforms still using the old key keep linking until it is retired.
   */
  previousKey?: { hasher: () => IdentifierHasher; keyId: string };
  /** At most this many signals per request; never above the contract's 500. */
  maxSignalsPerBatch?: number;
  /** At most this many bytes per request body; never above the contract's 1 MiB. */
  maxBodyBytes?: number;
  /** Batches in flight at once. */
  concurrency?: number;
  /** Defaults to `<input>.crosslink-checkpoint.json`. */
  checkpointPath?: string;
  /** Defaults to `<input>.rejected.jsonl`. */
  rejectedPath?: string;
  /** Ignore an existing checkpoint and send from the first row. */
  restart?: boolean;
  /** Aborting stops the run; what was acknowledged stays in the checkpoint. */
  signal?: AbortSignal;
  /** Called as batches are acknowledged. */
  onProgress?: (progress: SubmitProgress) => void;
}

/** Where a run stands. */
export interface SubmitProgress {
  /** Data rows acknowledged, counted from the start of the file (earlier runs included). */
  rowsAcknowledged: number;
  /** Data rows in the file (an estimate when CSV cells hold newlines). */
  rowsTotal: number;
  /** Where this run started, in data rows. */
  rowsAtStart: number;
  accepted: number;
  rejected: number;
  retries: number;
  elapsedMs: number;
}

/** One row of the rejected-rows file. */
export interface RejectedRow {
  row: number;
  line: number;
  /** `client` when the row never left this machine, `server` when Crosslink refused it. */
  stage: 'client' | 'server';
  field: string;
  error: string;
  /** The row as read from the input, so it can be fixed and sent again. */
  input: Record<string, unknown>;
}

/** The end of a run. */
export interface SubmitSummary {
  inputPath: string;
  rejectedPath: string;
  checkpointPath: string;
  /** The checkpoint said the whole file was already acknowledged: nothing was sent. */
  alreadyComplete: boolean;
  /** Data rows skipped because an earlier run had them acknowledged. */
  rowsResumedFrom: number;
  /** Data rows this run read and settled. */
  rowsProcessed: number;
  signalsSent: number;
  accepted: number;
  rejected: number;
  /** Accepted and rejected over the whole file, earlier runs included. */
  fileTotals: { accepted: number; rejected: number };
  /** Rejections grouped by field and reason, most frequent first. */
  rejectedByReason: { field: string; error: string; count: number }[];
  requests: number;
  retries: number;
  durationMs: number;
}

interface PendingBatch {
  /** Data rows up to and including this batch. */
  endRow: number;
  /** Data rows whose signals are in this batch. */
  rowCount: number;
  signals: Signal[];
  /** The input row of each signal, index for index (a row sent in two key forms appears twice). */
  rows: InputRow[];
  localRejects: RejectedRow[];
  done: boolean;
  result?: BatchResult;
  sending?: Promise<void>;
}

const BATCH_ENVELOPE_BYTES = Buffer.byteLength('{"signals":[]}');

/**
 * Submits a file. Resumes from its checkpoint unless `restart` is set.
 *
 * @throws ClientConfigError when the input or checkpoint cannot be used.
 * @throws SubmitError when Crosslink refuses a batch for good; earlier batches stay acknowledged.
 * @throws SubmitInterruptedError when `signal` aborts; rerun to send the rest.
 * @example
 * const summary = await submitFile({ inputPath: 'signals.csv', transport, url, hasher: () => hasherFromEnv(process.env) });
 * console.log(formatSummary(summary));
 */
export async function submitFile(options: SubmitOptions): Promise<SubmitSummary> {
  const startedAt = Date.now();
  const format = options.format ?? formatFromPath(options.inputPath);
  const maxSignals = Math.min(options.maxSignalsPerBatch ?? MAX_SIGNALS_PER_REQUEST, MAX_SIGNALS_PER_REQUEST);
  const maxBodyBytes = Math.min(options.maxBodyBytes ?? MAX_BODY_BYTES, MAX_BODY_BYTES);
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const checkpointPath = options.checkpointPath ?? checkpointPathFor(options.inputPath);
  const rejectedPath = options.rejectedPath ?? `${options.inputPath}.rejected.jsonl`;
  const target = { url: options.url, platform: options.transport.platform };
  if (options.previousKey && (!options.keyId || options.keyId === options.previousKey.keyId)) {
    throw new ClientConfigError('during a key rotation both forms need their own key id: pass --key-id for the new key and --previous-key-id for the old one');
  }

  let fingerprint: Checkpoint['input'];
  try {
    fingerprint = await fingerprintInput(options.inputPath);
  } catch (error) {
    throw new ClientConfigError(`cannot read the input file ${options.inputPath}: ${(error as Error).message}`, { cause: error });
  }
  const previous = options.restart ? undefined : await readCheckpoint(checkpointPath);
  if (previous) assertResumable(previous, fingerprint, target, checkpointPath);

  const summary: SubmitSummary = {
    inputPath: options.inputPath,
    rejectedPath,
    checkpointPath,
    alreadyComplete: previous?.complete ?? false,
    rowsResumedFrom: previous?.rowsAcknowledged ?? 0,
    rowsProcessed: 0,
    signalsSent: 0,
    accepted: 0,
    rejected: 0,
    fileTotals: previous?.totals ?? { accepted: 0, rejected: 0 },
    rejectedByReason: [],
    requests: 0,
    retries: 0,
    durationMs: 0,
  };
  if (previous?.complete) return { ...summary, durationMs: Date.now() - startedAt };

  const rowsTotal = await countRows(options.inputPath, format);
  const checkpoint: Checkpoint = previous ?? {
    version: 1,
    input: fingerprint,
    target,
    rowsAcknowledged: 0,
    complete: false,
    totals: { accepted: 0, rejected: 0 },
    updatedAt: new Date().toISOString(),
  };
  // Both files are opened (and the checkpoint written) before anything is sent, so that a bad
  // path fails the run at once rather than after the first batch was accepted.
  await writeCheckpoint(checkpointPath, checkpoint).catch((error: unknown) => {
    throw new ClientConfigError(`cannot write the checkpoint ${checkpointPath}: ${(error as Error).message}`, { cause: error });
  });
  let rejectedFile: FileHandle;
  try {
    rejectedFile = await open(rejectedPath, previous ? 'a' : 'w');
  } catch (error) {
    throw new ClientConfigError(`cannot write the rejected-rows file ${rejectedPath}: ${(error as Error).message}`, { cause: error });
  }
  const reasons = new Map<string, { field: string; error: string; count: number }>();
  const internalAbort = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, internalAbort.signal]) : internalAbort.signal;
  let failure: unknown;

  const reportProgress = () =>
    options.onProgress?.({
      rowsAcknowledged: checkpoint.rowsAcknowledged,
      rowsTotal,
      rowsAtStart: summary.rowsResumedFrom,
      accepted: summary.accepted,
      rejected: summary.rejected,
      retries: summary.retries,
      elapsedMs: Date.now() - startedAt,
    });

  const writeRejected = async (rejected: RejectedRow) => {
    summary.rejected += 1;
    const key = `${rejected.field}\u0000${rejected.error}`;
    const entry = reasons.get(key) ?? { field: rejected.field, error: rejected.error, count: 0 };
    entry.count += 1;
    reasons.set(key, entry);
    await rejectedFile.write(`${JSON.stringify(rejected)}\n`);
  };

  // Settles acknowledged batches in file order: rejected rows out, then the checkpoint moves on.
  const window: PendingBatch[] = [];
  const commitAcknowledged = async () => {
    while (window.length > 0 && window[0].done) {
      const batch = window.shift()!;
      for (const rejected of batch.localRejects) await writeRejected(rejected);
      for (const item of batch.result?.rejected ?? []) {
        if (item.list !== 'signals') continue;
        const row = batch.rows[item.index];
        await writeRejected({ row: row?.row ?? -1, line: row?.line ?? -1, stage: 'server', field: item.field, error: item.error, input: row?.fields ?? {} });
      }
      summary.accepted += batch.result?.accepted ?? 0;
      summary.rowsProcessed += batch.rowCount + batch.localRejects.length;
      checkpoint.rowsAcknowledged = batch.endRow;
      checkpoint.totals = { accepted: checkpoint.totals.accepted + (batch.result?.accepted ?? 0), rejected: checkpoint.totals.rejected + batch.localRejects.length + (batch.result?.rejected.length ?? 0) };
      checkpoint.updatedAt = new Date().toISOString();
      await writeCheckpoint(checkpointPath, checkpoint);
      reportProgress();
    }
  };

  const launch = (batch: PendingBatch) => {
    window.push(batch);
    if (batch.signals.length === 0) {
      batch.done = true;
      return;
    }
    summary.requests += 1;
    summary.signalsSent += batch.signals.length;
    batch.sending = options.transport.send(JSON.stringify({ signals: batch.signals }), signal).then(
      (result) => {
        batch.result = result;
        batch.done = true;
        summary.retries += result.attempts - 1;
      },
      (error: unknown) => {
        failure ??= error;
        internalAbort.abort(error);
      },
    );
  };

  const makeRoom = async () => {
    await commitAcknowledged();
    while (window.length >= concurrency && failure === undefined) {
      await Promise.race(window.filter((batch) => !batch.done).map((batch) => batch.sending));
      await commitAcknowledged();
    }
  };

  const signalContext: SignalContext = {
    hasher: lazy(options.hasher),
    allHashed: options.allHashed ?? false,
    keyId: options.keyId,
    previousKey: options.previousKey && { hasher: lazy(options.previousKey.hasher), keyId: options.previousKey.keyId },
  };
  let current = newBatch();
  let currentBytes = BATCH_ENVELOPE_BYTES;
  try {
    for await (const row of readRows(options.inputPath, format)) {
      if (row.row <= checkpoint.rowsAcknowledged) continue;
      if (failure !== undefined || signal.aborted) break;
      const built = row.parseError ? { field: 'item', error: row.parseError } : signalFromRow(row.fields, signalContext);
      if ('error' in built) {
        current.localRejects.push({ row: row.row, line: row.line, stage: 'client', field: built.field, error: built.error, input: row.fields });
        current.endRow = row.row;
        continue;
      }
      // A row's signals travel in one batch: the checkpoint counts rows, so a row split across two
      // batches could be skipped on resume with half of it unsent.
      const rowBytes = built.signals.reduce((sum, signal) => sum + Buffer.byteLength(JSON.stringify(signal)) + 1, -1);
      if (current.signals.length > 0 && (current.signals.length + built.signals.length > maxSignals || currentBytes + 1 + rowBytes > maxBodyBytes)) {
        await makeRoom();
        if (failure !== undefined) break;
        launch(current);
        current = newBatch();
        currentBytes = BATCH_ENVELOPE_BYTES;
      }
      // Items after the first are preceded by a comma.
      currentBytes += rowBytes + (current.signals.length > 0 ? 1 : 0);
      for (const signal of built.signals) {
        current.signals.push(signal);
        current.rows.push(row);
      }
      current.rowCount += 1;
      current.endRow = row.row;
    }
    if (failure === undefined && !signal.aborted && (current.signals.length > 0 || current.localRejects.length > 0)) {
      await makeRoom();
      if (failure === undefined) launch(current);
    }
    await Promise.all(window.map((batch) => batch.sending));
    await commitAcknowledged();
  } catch (error) {
    failure ??= error;
    internalAbort.abort(error);
    await Promise.allSettled(window.map((batch) => batch.sending));
    // Record what was acknowledged before the failure; if that fails too, the first failure is the one to report.
    await commitAcknowledged().catch((commitError: unknown) => {
      failure = new AggregateError([failure, commitError], (failure as Error).message);
    });
  } finally {
    await rejectedFile.close();
  }

  summary.fileTotals = checkpoint.totals;
  summary.rejectedByReason = [...reasons.values()].sort((a, b) => b.count - a.count);
  summary.durationMs = Date.now() - startedAt;
  // Aborting surfaces as the abort reason or an AbortError, never as one of the client's own errors.
  if (options.signal?.aborted && !(failure instanceof CrosslinkError)) {
    throw new SubmitInterruptedError(
      `interrupted after ${checkpoint.rowsAcknowledged} of ${rowsTotal} rows were acknowledged; run the same command again to send the rest`,
      checkpoint.rowsAcknowledged,
    );
  }
  if (failure !== undefined) throw failure;
  checkpoint.complete = true;
  checkpoint.updatedAt = new Date().toISOString();
  await writeCheckpoint(checkpointPath, checkpoint);
  return summary;
}

function newBatch(): PendingBatch {
  return { endRow: 0, rowCount: 0, signals: [], rows: [], localRejects: [], done: false };
}

function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

function assertResumable(previous: Checkpoint, fingerprint: Checkpoint['input'], target: Checkpoint['target'], path: string): void {
  const restartHint = 'pass --restart to send the file from the start (safe: Crosslink stores each signal once)';
  if (previous.input.sizeBytes !== fingerprint.sizeBytes || previous.input.mtimeMs !== fingerprint.mtimeMs) {
    throw new ClientConfigError(`the input changed since the checkpoint ${path} was written, so its row count cannot be trusted: ${restartHint}`);
  }
  if (previous.target.url !== target.url || previous.target.platform !== target.platform) {
    throw new ClientConfigError(
      `the checkpoint ${path} is for ${previous.target.platform} at ${previous.target.url}, not ${target.platform} at ${target.url}: ${restartHint}`,
    );
  }
}

/** How rows become signals: the keys, and whether values come hashed. */
export interface SignalContext {
  hasher: () => IdentifierHasher;
  allHashed: boolean;
  keyId?: string;
  previousKey?: { hasher: () => IdentifierHasher; keyId: string };
}

/**
 * One input row as wire signals (two during a key rotation), or the field at fault and why.
 *
 * @throws ClientConfigError when a raw row needs hashing and no key is configured.
 */
export function signalFromRow(fields: Record<string, unknown>, context: SignalContext): { signals: Signal[] } | { field: string; error: string } {
  const type = String(fields.type ?? '').trim().toLowerCase();
  if (!(SIGNAL_TYPES as readonly string[]).includes(type)) {
    return { field: 'type', error: `must be one of ${SIGNAL_TYPES.join(', ')}, got "${type}"` };
  }
  const rawValue = fields.value;
  if (typeof rawValue !== 'string' && typeof rawValue !== 'number') return { field: 'value', error: 'is missing: give the identifier' };
  // JSON.parse has already rounded a number beyond 2^53 (a 19-digit card becomes another card): only
  // the digits as a string are exact.
  if (typeof rawValue === 'number' && !Number.isSafeInteger(rawValue)) {
    return { field: 'value', error: `is the JSON number ${rawValue}, which JSON cannot carry exactly: write the identifier as a string ("value": "...")` };
  }
  const hashed = context.allHashed || isTrue(fields.hashed);
  let value: string;
  let previousValue: string | undefined;
  try {
    // A PDQ hash is sent as it is, so it needs no key.
    if (type === 'photo_pdq') value = normalisePdqHash(String(rawValue));
    else if (hashed) value = checkHashedValue(type as SignalType, String(rawValue));
    else {
      value = context.hasher().hash(type as SignalType, String(rawValue)).value;
      previousValue = context.previousKey?.hasher().hash(type as SignalType, String(rawValue)).value;
    }
  } catch (error) {
    if (error instanceof NormalisationError) return { field: 'value', error: error.message };
    throw error;
  }
  const keyId = typeof fields.keyId === 'string' && fields.keyId ? fields.keyId : context.keyId;
  const candidate = {
    account: typeof fields.account === 'number' ? String(fields.account) : fields.account,
    type,
    value,
    observedAt: isoInstant(fields.observedAt),
    ...(keyId ? { keyId } : {}),
  };
  const parsed = signalSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { field: String(issue.path[0] ?? 'item'), error: issue.message };
  }
  if (previousValue === undefined || !context.previousKey) return { signals: [parsed.data] };
  return { signals: [parsed.data, { ...parsed.data, value: previousValue, keyId: context.previousKey.keyId }] };
}

function isTrue(flag: unknown): boolean {
  return flag === true || (typeof flag === 'string' && ['true', '1', 'yes', 'y'].includes(flag.trim().toLowerCase()));
}

/** Epoch seconds or milliseconds become ISO-8601; anything else goes to the schema as it is. */
export function isoInstant(value: unknown): unknown {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : value;
  if (typeof text === 'string' && /^\d{9,10}$/.test(text)) return new Date(Number(text) * 1000).toISOString();
  if (typeof text === 'string' && /^\d{12,13}$/.test(text)) return new Date(Number(text)).toISOString();
  return text;
}

/**
 * The summary as a few lines for a person.
 *
 * @example
 * formatSummary(summary)
 * // submitted signals.csv: 1000 rows, 998 signals accepted, 2 rejected, in 2 requests (0 retries) in 0.4 s
 * //   1 × value: not an email address: ...
 */
export function formatSummary(summary: SubmitSummary): string {
  if (summary.alreadyComplete) {
    return `${summary.inputPath} was already submitted in full (checkpoint ${summary.checkpointPath}); pass --restart to send it again`;
  }
  const lines = [
    `submitted ${summary.inputPath}: ${summary.rowsProcessed} rows, ${summary.accepted} signals accepted, ${summary.rejected} rejected, in ${summary.requests} requests (${summary.retries} retries) in ${(summary.durationMs / 1000).toFixed(1)} s`,
  ];
  if (summary.rowsResumedFrom > 0) {
    lines.push(`  resumed after row ${summary.rowsResumedFrom}, acknowledged in an earlier run; whole file: ${summary.fileTotals.accepted} accepted, ${summary.fileTotals.rejected} rejected`);
  }
  if (summary.rejected > 0) {
    lines.push(`  rejected rows, with reasons, are in ${summary.rejectedPath}:`);
    for (const reason of summary.rejectedByReason.slice(0, 10)) lines.push(`  ${String(reason.count).padStart(7)} × ${reason.field}: ${reason.error}`);
    if (summary.rejectedByReason.length > 10) lines.push(`  ... and ${summary.rejectedByReason.length - 10} other reasons`);
  }
  return lines.join('\n');
}
