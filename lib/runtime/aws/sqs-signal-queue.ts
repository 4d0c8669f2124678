/** The SQS adapter of the signal queue port. */
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { IngestMessage } from '../../contract/signals.js';
import { UnavailableError } from '../../errors.js';
import { packBySize } from '../../chunk.js';
import type { QueueDepth, SignalQueue } from '../../ingest/signal-queue.js';

const SQS_BATCH_LIMIT = 10;
/** Bytes of message bodies one SendMessageBatch carries at most: SQS's limit on a batch's total payload. */
export const SQS_BATCH_BYTES = 262_144;
const MAX_ROUNDS = 5;

/**
 * A message as JSON that SQS takes: SQS refuses a body holding U+FFFE or U+FFFF (it allows #x9, #xA,
 * #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF), which an account id may contain and which
 * JSON.stringify leaves as they are (it escapes control characters and lone surrogates, the rest of
 * what SQS refuses). Written as JSON escapes, they read back the same.
 */
export function sqsBodyOf(message: unknown): string {
  return JSON.stringify(message).replace(/[\uFFFE\uFFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

/** Message bodies packed in order into batches of at most {@link SQS_BATCH_LIMIT} entries and {@link SQS_BATCH_BYTES} bytes. */
export function sqsBatchesOf(bodies: readonly string[]): string[][] {
  return packBySize(bodies, (body) => Buffer.byteLength(body), SQS_BATCH_LIMIT, SQS_BATCH_BYTES);
}

export class SqsSignalQueue implements SignalQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string,
  ) {}

  async enqueue(messages: IngestMessage[]): Promise<void> {
    for (const batch of sqsBatchesOf(messages.map(sqsBodyOf))) {
      let pending = batch.map((body, index) => ({ Id: String(index), MessageBody: body }));
      for (let round = 0; pending.length > 0; round++) {
        if (round >= MAX_ROUNDS) throw new UnavailableError(`the signal queue refused ${pending.length} messages: retry the request`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const result = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
        const failed = new Set((result.Failed ?? []).map((failure) => failure.Id));
        pending = pending.filter((entry) => failed.has(entry.Id));
      }
    }
  }

  async depth(): Promise<QueueDepth> {
    const [main, dead] = await Promise.all(
      [this.queueUrl, this.deadLetterQueueUrl].map((QueueUrl) =>
        this.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
        ),
      ),
    );
    return {
      waiting: Number(main.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(main.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      deadLetter: Number(dead.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(dead.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }
}
