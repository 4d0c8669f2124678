/**
 * Takes a platform's validated batch onto the queue. Accepted means durably enqueued: the answer is
 * given only after the queue has every message.
 */
import { randomUUID } from 'node:crypto';
import type { IngestMessage, SubmitSignalsResponse } from '../contract/signals.js';
import { retiredKeyRefusals, type RetiredKeyIds } from './retired-keys.js';
import type { SignalQueue } from './signal-queue.js';
import { validateBatch, type ValidatedBatch } from './validate-batch.js';

/**
 * Signals, and account records, per queue message: 50 of each keeps a message under 64 KiB even with
 * 128-character account ids of 3-byte characters (the queue adapter then packs messages into
 * SendMessageBatch calls of at most 256 KiB: lib/runtime/aws/sqs-signal-queue.ts).
 */
export const SIGNALS_PER_MESSAGE = 50;

export interface AcceptedCounter {
  addAccepted(count: number): Promise<void>;
}

export class IngestService {
  constructor(
    private readonly queue: SignalQueue,
    /** Counts what is accepted, and says which hashing key ids are retired (the signal repository). */
    private readonly signals: AcceptedCounter & RetiredKeyIds,
    private readonly clock: () => Date = () => new Date(),
    private readonly onCounterError?: (error: unknown) => void,
  ) {}

  /**
   * Validates a raw body from `platform` (its bytes as received, or its text) and enqueues what is valid.
   *
   * @throws {ValidationError} when the body cannot be read at all (not UTF-8, not JSON, wrong shape).
   */
  async submit(platform: string, rawBody: string | Uint8Array): Promise<SubmitSignalsResponse> {
    const batch = await this.withoutRetiredKeys(validateBatch(rawBody));
    const requestId = randomUUID();
    const receivedAt = this.clock().toISOString();
    // The request's messages carry one receipt time and may be stored in any order, so an item the
    // request repeats would be stored as whichever copy came last: only the request's last copy is sent.
    const signals = lastOfEach(batch.signals, (signal) => `${signal.account}\u0000${signal.type}\u0000${signal.value}`);
    const accounts = lastOfEach(batch.accounts, (record) => record.account);
    const messages: IngestMessage[] = [];
    const chunks = Math.ceil(Math.max(signals.length, accounts.length) / SIGNALS_PER_MESSAGE);
    for (let chunk = 0; chunk < chunks; chunk++) {
      messages.push({
        v: 1,
        platform,
        requestId: `${requestId}:${chunk}`,
        receivedAt,
        signals: signals.slice(chunk * SIGNALS_PER_MESSAGE, (chunk + 1) * SIGNALS_PER_MESSAGE),
        accounts: accounts.slice(chunk * SIGNALS_PER_MESSAGE, (chunk + 1) * SIGNALS_PER_MESSAGE),
      });
    }
    if (messages.length > 0) await this.queue.enqueue(messages);
    // The signals are durably enqueued: a failing counter must not turn that into an error the caller
    // would retry. The status count then runs short, which the stored count shows.
    await this.signals.addAccepted(batch.signals.length).catch((error: unknown) => this.onCounterError?.(error));
    return { accepted: batch.signals.length, accountsAccepted: batch.accounts.length, rejected: batch.rejected };
  }

  /** The batch less the signals stamped with a retired hashing key id, each refused where it was in the request. */
  private async withoutRetiredKeys(batch: ValidatedBatch): Promise<ValidatedBatch> {
    const refusals = await retiredKeyRefusals(batch.signals, this.signals);
    if (refusals.size === 0) return batch;
    const kept = batch.signals.map((_, index) => index).filter((index) => !refusals.has(index));
    const refused = [...refusals].map(([index, error]) => ({ list: 'signals' as const, index: batch.signalIndexes[index], field: 'keyId', error }));
    return {
      ...batch,
      signals: kept.map((index) => batch.signals[index]),
      signalIndexes: kept.map((index) => batch.signalIndexes[index]),
      rejected: [...batch.rejected, ...refused],
    };
  }
}

/** The last item of each key, in the order of those last items. */
function lastOfEach<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const last = new Map<string, number>();
  items.forEach((item, index) => last.set(keyOf(item), index));
  const kept = new Set(last.values());
  return items.filter((_, index) => kept.has(index));
}
