/**
 * The signal queue's dead-letter queue, for operators: what is in it (with each message's receive count
 * and, where the consumer's own check can tell, why it failed) and putting messages back on the signal
 * queue once the cause is fixed. Redriving is safe because the consumer is idempotent: a message
 * stored before it failed is stored once, however often it comes back.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { CrosslinkError } from '../errors.js';
import { ingestMessageSchema } from '../contract/signals.js';

/** Where the dead letters are and where they go back to. */
export interface DeadLetterQueues {
  /** The signal queue (the redrive destination). */
  queueUrl: string;
  /** Its dead-letter queue. */
  deadLetterQueueUrl: string;
}

/** One message in the dead-letter queue. */
export interface DeadLetter {
  messageId: string;
  /** `ApproximateReceiveCount` as the dead-letter queue reports it, this listing's receive included (local-aws-sqs restarts the count when it dead-letters a message). */
  receiveCount: number;
  /** When the message was sent to the queue it is in (ISO-8601), if SQS says. */
  sentAt?: string;
  /** Why it cannot be stored, when the body itself says (`poison`), or that the body is storable and failed for another reason (`storable`). */
  verdict: 'poison' | 'storable';
  /** A short reason, safe to print (never the body: it carries hashed identifiers). */
  reason: string;
  /** The ingest request the message came from, when the body names it. */
  requestId?: string;
  /** Signals it carries, when the body is a valid ingest message. */
  signals?: number;
}

/** What a redrive did. */
export interface RedriveResult {
  /** `move-task`: SQS StartMessageMoveTask (all messages); `resend`: receive, send to the signal queue, delete (selected messages). */
  method: 'move-task' | 'resend';
  moved: number;
  /** `resend` only: ids asked for that are not in the dead-letter queue (already redriven, or mistyped). */
  notFound?: string[];
}

/**
 * Thrown when a redrive does not finish in time or SQS reports it failed; messages not yet moved stay in
 * the dead-letter queue, so running the redrive again is safe.
 *
 * @example
 * await deadLetters.redrive({ timeoutMs: 1000 });
 * // -> RedriveError: the move task had moved 3 of 10 messages after 1000 ms: run the redrive again
 */
export class RedriveError extends CrosslinkError {}

const RECEIVE_LIMIT = 10;
/** How long a listing hides the messages it has seen, so that one pass sees each message once (s). */
const LISTING_VISIBILITY_SECONDS = 30;
const POLL_MS = 100;
// Both names: AWS reads MessageSystemAttributeNames, local-aws-sqs still reads the older AttributeNames.
const ALL_ATTRIBUTES = { AttributeNames: ['All'] as QueueAttributeName[], MessageSystemAttributeNames: ['All' as const] };

/**
 * Says whether a dead-lettered body could ever be stored, by the consumer's rule: JSON that the
 * ingest message schema accepts (the one schema the consumer checks with).
 *
 * @example
 * diagnoseDeadLetter('not json');
 * // -> { verdict: 'poison', reason: 'the body is not JSON' }
 */
export function diagnoseDeadLetter(body: string): Pick<DeadLetter, 'verdict' | 'reason' | 'requestId' | 'signals'> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { verdict: 'poison', reason: 'the body is not JSON' };
  }
  const requestId = json && typeof json === 'object' && typeof (json as { requestId?: unknown }).requestId === 'string' ? (json as { requestId: string }).requestId : undefined;
  const parsed = ingestMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { verdict: 'poison', reason: `not an ingest message: ${issue.path.join('.') || 'body'} ${issue.message}`, requestId };
  }
  return {
    verdict: 'storable',
    reason: 'a valid ingest message: it failed for another cause (store down or throttled); redrive it once that is fixed',
    requestId,
    signals: parsed.data.signals.length,
  };
}

/**
 * Lists and redrives the signal dead-letter queue.
 *
 * @example
 * const deadLetters = new DeadLetters(sqs, { queueUrl, deadLetterQueueUrl });
 * await deadLetters.list();
 * // -> [{ messageId: '5f0c…', receiveCount: 1, verdict: 'poison', reason: 'the body is not JSON' }]
 * await deadLetters.redrive();
 * // -> { method: 'move-task', moved: 1 }
 */
export class DeadLetters {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: DeadLetterQueues,
  ) {}

  /**
   * Every message in the dead-letter queue (up to `max`), each seen once. Listing receives the messages
   * (which adds one to their receive count) and makes them visible again at the end.
   */
  async list(options: { max?: number } = {}): Promise<DeadLetter[]> {
    const max = options.max ?? 1_000;
    const seen = await this.receiveAll(max);
    await this.release(seen);
    return seen.map((message) => ({
      messageId: message.MessageId!,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
      sentAt: message.Attributes?.SentTimestamp ? new Date(Number(message.Attributes.SentTimestamp)).toISOString() : undefined,
      ...diagnoseDeadLetter(message.Body ?? ''),
    }));
  }

  /**
   * Puts dead letters back on the signal queue. Without `messageIds`, all of them, with SQS's
   * StartMessageMoveTask (waiting until the task completes); with `messageIds`, only those, by
   * receive + send + delete (a message is deleted from the dead-letter queue only once it is sent).
   *
   * @throws {RedriveError} when the move task fails or has not finished within `timeoutMs`.
   */
  async redrive(options: { messageIds?: string[]; timeoutMs?: number } = {}): Promise<RedriveResult> {
    if (options.messageIds) return { method: 'resend', ...(await this.resend(new Set(options.messageIds))) };
    return { method: 'move-task', moved: await this.moveAll(options.timeoutMs ?? 60_000) };
  }

  private async moveAll(timeoutMs: number): Promise<number> {
    const queueArn = async (QueueUrl: string) => (await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const sourceArn = await queueArn(this.queues.deadLetterQueueUrl);
    // The destination named, not left to SQS: a message sent to the dead-letter queue by hand has no source queue to go back to.
    const { TaskHandle: taskHandle } = await this.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: await queueArn(this.queues.queueUrl) }));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const tasks = (await this.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }))).Results ?? [];
      // Only one task may run per source queue, so the newest is ours (a finished task may no longer carry its handle).
      const task = tasks.find((candidate) => candidate.TaskHandle === taskHandle) ?? tasks[0];
      if (task?.Status === 'COMPLETED') return task.ApproximateNumberOfMessagesMoved ?? 0;
      if (task?.Status === 'FAILED' || task?.Status === 'CANCELLED') {
        throw new RedriveError(`the move task ${task.Status.toLowerCase()} (${task.FailureReason ?? 'no reason given'}): run the redrive again`);
      }
      if (Date.now() > deadline) {
        throw new RedriveError(
          `the move task had moved ${task?.ApproximateNumberOfMessagesMoved ?? 0} of ${task?.ApproximateNumberOfMessagesToMove ?? '?'} messages after ${timeoutMs} ms: it keeps running; list again later`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private async resend(messageIds: Set<string>): Promise<{ moved: number; notFound: string[] }> {
    const seen = await this.receiveAll(Number.POSITIVE_INFINITY);
    const chosen = seen.filter((message) => messageIds.has(message.MessageId!));
    try {
      for (let start = 0; start < chosen.length; start += RECEIVE_LIMIT) {
        const chunk = chosen.slice(start, start + RECEIVE_LIMIT);
        const sent = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.queues.queueUrl, Entries: chunk.map((message, index) => ({ Id: String(index), MessageBody: message.Body ?? '' })) }),
        );
        // A batch can half succeed: the messages it did send leave the dead-letter queue now, or the next run would send them again.
        const refused = new Set((sent.Failed ?? []).map((entry) => entry.Id));
        const delivered = chunk.filter((_, index) => !refused.has(String(index)));
        if (delivered.length > 0) {
          await this.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.queues.deadLetterQueueUrl,
              Entries: delivered.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
            }),
          );
        }
        if (refused.size > 0) throw new RedriveError(`the signal queue refused ${refused.size} messages: run the redrive again`);
      }
    } finally {
      await this.release(seen.filter((message) => !messageIds.has(message.MessageId!)));
    }
    const found = new Set(chosen.map((message) => message.MessageId!));
    return { moved: chosen.length, notFound: [...messageIds].filter((id) => !found.has(id)) };
  }

  /** Receives until the queue has nothing more to show (or `max` messages), hiding each one seen. */
  private async receiveAll(max: number): Promise<Message[]> {
    const seen = new Map<string, Message>();
    while (seen.size < max) {
      const received = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queues.deadLetterQueueUrl,
          MaxNumberOfMessages: Math.min(RECEIVE_LIMIT, max - seen.size),
          VisibilityTimeout: LISTING_VISIBILITY_SECONDS,
          // A long poll, however short: a short poll on AWS samples only some servers and can come back empty.
          WaitTimeSeconds: 1,
          ...ALL_ATTRIBUTES,
        }),
      );
      const fresh = (received.Messages ?? []).filter((message) => !seen.has(message.MessageId!));
      if (fresh.length === 0) break;
      for (const message of fresh) seen.set(message.MessageId!, message);
    }
    return [...seen.values()];
  }

  /** Makes listed messages visible again at once. */
  private async release(messages: Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += RECEIVE_LIMIT) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queues.deadLetterQueueUrl,
          Entries: messages.slice(start, start + RECEIVE_LIMIT).map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      );
    }
  }
}
