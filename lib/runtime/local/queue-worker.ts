/**
 * The local stand-in for Lambda's SQS event source mapping: long-polls the queue, hands each batch to
 * the consumer handler in the SQS event shape, and deletes only the messages the handler did not
 * report as failed (partial batch response). Failed messages come back after the visibility timeout
 * and reach the dead-letter queue after the queue's maxReceiveCount, as on AWS.
 */
import { createHash } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';

/** The subset of the Lambda SQS event that the local worker fills (structurally an `SQSEvent`). */
export interface LocalSqsEvent {
  Records: Array<{
    messageId: string;
    receiptHandle: string;
    body: string;
    attributes: Record<string, string>;
    messageAttributes: Record<string, never>;
    md5OfBody: string;
    eventSource: 'aws:sqs';
    eventSourceARN: string;
    awsRegion: string;
  }>;
}

export type LocalSqsHandler = (event: LocalSqsEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;

export interface QueueWorkerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: LocalSqsHandler;
  /** Messages per batch, as the event source mapping's BatchSize (SQS allows 10 per receive). */
  batchSize?: number;
  /** Receive loops running at once, as Lambda scales out consumers of one queue (default 1). */
  concurrency?: number;
  /** Called after every batch with how many messages were stored. */
  onProcessed?: (stored: number) => void;
  /** Called when a poll comes back empty. */
  onIdle?: () => void;
  log?: (message: string) => void;
}

const MAX_BACKOFF_MS = 5_000;

function toRecord(message: Message, queueArn: string): LocalSqsEvent['Records'][number] {
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: (message.Attributes ?? {}) as Record<string, string>,
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? createHash('md5').update(message.Body ?? '').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

export class QueueWorker {
  private running = false;
  private loop: Promise<void> | undefined;
  private backoffMs = 0;

  constructor(private readonly options: QueueWorkerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = Promise.all(Array.from({ length: this.options.concurrency ?? 1 }, () => this.run())).then(() => undefined);
  }

  /** Stops after the batch in hand; messages not yet deleted return to the queue. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  get isRunning(): boolean {
    return this.running;
  }

  private async run(): Promise<void> {
    const { sqs, queueUrl, queueArn, handler } = this.options;
    while (this.running) {
      let messages: Message[] = [];
      try {
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: this.options.batchSize ?? 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'], AttributeNames: ['All'] }),
        );
        messages = received.Messages ?? [];
      } catch (error) {
        this.options.log?.(`queue worker: receive failed (${(error as Error).message}); retrying`);
        await this.pause();
        continue;
      }
      if (messages.length === 0) {
        this.options.onIdle?.();
        continue;
      }
      let failed = new Set<string>();
      try {
        const response = await handler({ Records: messages.map((message) => toRecord(message, queueArn)) });
        failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        this.backoffMs = 0;
      } catch (error) {
        // The whole batch failed (e.g. the store is down): leave it to come back after the visibility timeout.
        this.options.log?.(`queue worker: batch of ${messages.length} failed (${(error as Error).message})`);
        await this.pause();
        continue;
      }
      const done = messages.filter((message) => !failed.has(message.MessageId!));
      if (done.length > 0) {
        try {
          await sqs.send(
            new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })) }),
          );
        } catch (error) {
          // Undeleted messages are delivered again; the consumer is idempotent, so nothing is duplicated.
          this.options.log?.(`queue worker: delete failed (${(error as Error).message})`);
        }
      }
      if (failed.size > 0) await this.pause();
      this.options.onProcessed?.(done.length);
    }
  }

  private async pause(): Promise<void> {
    this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, this.backoffMs * 2));
    await new Promise((resolve) => setTimeout(resolve, this.backoffMs));
  }
}
