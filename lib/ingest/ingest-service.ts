/**
 * Takes a platform's validated batch onto the queue. Accepted means durably enqueued: the answer is
 * given only after the queue has every message.
 */
import { randomUUID } from 'node:crypto';
import type { IngestMessage, SubmitSignalsResponse } from '../contract/signals.js';
import type { SignalQueue } from './signal-queue.js';
import { validateBatch } from './validate-batch.js';

/** Signals per queue message: 50 keeps ten messages (one SendMessageBatch) well under SQS's 256 KiB. */
export const SIGNALS_PER_MESSAGE = 50;

export interface AcceptedCounter {
  addAccepted(count: number): Promise<void>;
}

export class IngestService {
  constructor(
    private readonly queue: SignalQueue,
    private readonly counter: AcceptedCounter,
    private readonly clock: () => Date = () => new Date(),
    private readonly onCounterError?: (error: unknown) => void,
  ) {}

  /**
   * Validates a raw body from `platform` and enqueues what is valid.
   *
   * @throws {ValidationError} when the body cannot be read at all.
   */
  async submit(platform: string, rawBody: string): Promise<SubmitSignalsResponse> {
    const batch = validateBatch(rawBody);
    const requestId = randomUUID();
    const receivedAt = this.clock().toISOString();
    const messages: IngestMessage[] = [];
    const chunks = Math.max(Math.ceil(batch.signals.length / SIGNALS_PER_MESSAGE), batch.accounts.length > 0 ? 1 : 0);
    for (let chunk = 0; chunk < chunks; chunk++) {
      messages.push({
        v: 1,
        platform,
        requestId: `${requestId}:${chunk}`,
        receivedAt,
        signals: batch.signals.slice(chunk * SIGNALS_PER_MESSAGE, (chunk + 1) * SIGNALS_PER_MESSAGE),
        // Account records ride in the first message: they are few and small.
        accounts: chunk === 0 ? batch.accounts : [],
      });
    }
    if (messages.length > 0) await this.queue.enqueue(messages);
    // The signals are durably enqueued: a failing counter must not turn that into an error the caller
    // would retry. The status count then runs short, which the stored count shows.
    await this.counter.addAccepted(batch.signals.length).catch((error: unknown) => this.onCounterError?.(error));
    return { accepted: batch.signals.length, accountsAccepted: batch.accounts.length, rejected: batch.rejected };
  }
}
