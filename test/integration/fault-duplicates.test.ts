/**
 * Fault: SQS delivers the same messages twice (it is at-least-once), to consumers running side by side.
 * Afterwards every accepted signal is stored exactly once, counted item by item.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareStored, runSignedLoad, scanStoredSignals } from '../support/ingest-load.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  stack = await startTestStack({ visibilityTimeoutSeconds: 30, requestsPerMinute: 1_000_000, workerConcurrency: 4 });
});
afterAll(async () => stack?.cleanup());

/** Takes every message off the queue (hidden for the visibility timeout; the caller deletes them). */
async function receiveEverything(queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const received = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    if (!received.Messages?.length) return messages;
    messages.push(...received.Messages);
  }
}

describe('Fault: every message delivered twice', () => {
  it('stores every accepted signal exactly once', async () => {
    const queueUrl = stack.core.config.signalQueueUrl;
    await stack.worker.stop();
    const load = await runSignedLoad({
      baseUrl: stack.baseUrl,
      platform: stack.credentials.platforms[0]!,
      clients: 4,
      signalsPerPost: 120,
      postsPerClient: 10,
      label: 'twice',
    });
    const originals = await receiveEverything(queueUrl);
    expect(originals).toHaveLength(4 * 10 * 3);

    // Each body twice, the copies interleaved, so that both copies of a message are often in one batch
    // or in batches of two worker loops at the same time.
    for (let start = 0; start < originals.length; start += 5) {
      const chunk = originals.slice(start, start + 5);
      const copies = [...chunk, ...chunk].map((message, index) => ({ Id: String(index), MessageBody: message.Body! }));
      const sent = await stack.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: copies }));
      expect(sent.Failed ?? []).toEqual([]);
      await stack.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })) }));
    }
    expect(await stack.core.queue.depth()).toEqual({ waiting: 240, inFlight: 0, deadLetter: 0 });
    stack.worker.start();
    await stack.waitForDrain(45_000);

    const stored = await scanStoredSignals(stack.servers.dynamodbEndpoint, stack.core.config.tableName);
    expect(compareStored(load.accepted, stored)).toEqual({ accepted: 4800, stored: 4800, storedTwice: 0, missing: 0, notAccepted: 0 });
    expect(await stack.core.queue.depth()).toEqual({ waiting: 0, inFlight: 0, deadLetter: 0 });
  });
});
