/**
 * The consumer's work for one queue message: check it, then store its signals and account records.
 * Idempotent, so a message delivered twice stores each signal once.
 */
import { ingestMessageSchema } from '../contract/signals.js';
import { ValidationError } from '../errors.js';
import type { ChangeLog } from '../graph/change-log.js';
import { expiresAtOf, LATE_AFTER_MS, type SignalRepository } from '../graph/signal-repository.js';
import { retiredKeyRefusals } from './retired-keys.js';

/** Thrown for a message that can never be stored: it goes to the dead-letter queue after its retries. */
export class PoisonMessageError extends ValidationError {}

/** Where the consumer says why a message was not stored (Powertools' Logger fits this shape). */
export interface StoreFailureLogger {
  error(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
}

/**
 * Logs why a queue message was not stored, by its id and receive count, never its body (it holds hashed
 * identifiers): a poison message as an error, any other failure (it will come back) as a warning. SQS
 * moves a message to the dead-letter queue without a reason, so this line is where an operator finds one.
 *
 * @example
 * logStoreFailure(logger, { messageId: 'm-1', receiveCount: 5 }, new PoisonMessageError('queue message body is not JSON'));
 * // logger.error('queue message not stored: it can never be (poison), …', { messageId: 'm-1', receiveCount: 5, error: 'PoisonMessageError', reason: 'queue message body is not JSON' })
 */
export function logStoreFailure(logger: StoreFailureLogger, message: { messageId: string; receiveCount: number }, error: unknown): void {
  const details = { ...message, error: error instanceof Error ? error.name : typeof error, reason: error instanceof Error ? error.message : String(error) };
  if (error instanceof PoisonMessageError) logger.error('queue message not stored: it can never be (poison), and goes to the dead-letter queue after its receives', details);
  else logger.warn('queue message not stored: it comes back after the visibility timeout', details);
}

export class MessageStore {
  constructor(
    private readonly signals: Pick<SignalRepository, 'putSignals' | 'putAccountMeta' | 'retiredKeyIds'>,
    private readonly changes: Pick<ChangeLog, 'record'>,
    private readonly retentionDays: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async store(body: string): Promise<{ signals: number; accounts: number }> {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new PoisonMessageError('queue message body is not JSON');
    }
    const parsed = ingestMessageSchema.safeParse(json);
    if (!parsed.success) throw new PoisonMessageError(`queue message is not an ingest message: ${parsed.error.issues[0]?.message}`);
    // Signals accepted before their hashing key id was retired, and queued since, are left out as the
    // retirement would have deleted them.
    const refusals = await retiredKeyRefusals(parsed.data.signals, this.signals);
    const message = { ...parsed.data, signals: parsed.data.signals.filter((_, index) => !refusals.has(index)) };
    if (message.signals.length === 0 && message.accounts.length === 0) return { signals: 0, accounts: 0 };
    const expiresAtSeconds = expiresAtOf(message.receivedAt, this.retentionDays);
    // A message stored late may be older than one stored since for the same signals: that one's copies stay.
    const storing = this.clock();
    const keepLater = storing.getTime() - Date.parse(message.receivedAt) > LATE_AFTER_MS;
    await this.signals.putSignals(message.platform, message.signals, { receivedAt: message.receivedAt, storedAt: storing.toISOString(), expiresAtSeconds, keepLater });
    if (message.accounts.length > 0) await this.signals.putAccountMeta(message.platform, message.accounts, message.receivedAt);
    // Recorded after the writes: a change is never announced before it can be read.
    await this.changes.record({
      messageId: message.requestId,
      storedAt: this.clock().toISOString(),
      expiresAtSeconds,
      accounts: [...message.signals, ...message.accounts].map((item) => `${message.platform}#${item.account}`),
      identifiers: message.signals.map((signal) => ({ type: signal.type, value: signal.value })),
      // Signals never change an account's facts; only its account records do.
      factsOf: message.accounts.map((item) => `${message.platform}#${item.account}`),
      stored: {
        platform: message.platform,
        receivedAt: message.receivedAt,
        expiresAtS: expiresAtSeconds,
        ...(keepLater ? { keepLater: true } : {}),
        signals: message.signals.map(({ account, type, value, observedAt }) => ({ account, type, value, observedAt })),
      },
    });
    return { signals: message.signals.length, accounts: message.accounts.length };
  }
}
