/**
 * Fault: the queue worker (the consumer, as Lambda would run it) stops and starts again during an
 * ingest, and a consumer dies holding a batch it never deleted. Afterwards every accepted signal is
 * stored exactly once, counted item by item.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/factories.js';
import { compareStored, runSignedLoad, scanStoredSignals } from '../support/ingest-load.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  stack = await startTestStack({ visibilityTimeoutSeconds: 2, requestsPerMinute: 1_000_000, workerConcurrency: 2 });
});
afterAll(async () => stack?.cleanup());

describe('Fault: the worker stops during ingest', () => {
  it('stores every accepted signal exactly once after it starts again, including a batch a dead consumer held', async () => {
    let stopped: Promise<void> | undefined;
    let heldByDeadConsumer = 0;
    let restarted = false;

    const load = await runSignedLoad({
      baseUrl: stack.baseUrl,
      platform: stack.credentials.platforms[0]!,
      clients: 8,
      signalsPerPost: 20,
      postsPerClient: 20,
      label: 'worker-down',
      onPostSettled: (settled) => {
        if (settled === 40) {
          stopped = stack.worker.stop().then(async () => {
            // A consumer that received a batch and died before deleting it: the messages stay invisible
            // until the visibility timeout, then come back.
            const held = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.core.config.signalQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
            heldByDeadConsumer = held.Messages?.length ?? 0;
          });
        }
        if (settled === 120) {
          restarted = true;
          void stopped!.then(() => stack.worker.start());
        }
      },
    });
    await stopped;
    await eventually('the worker to be running again', async () => (stack.worker.isRunning ? true : undefined));
    await stack.waitForDrain(45_000);

    expect(restarted).toBe(true);
    expect(heldByDeadConsumer).toBeGreaterThan(0);
    expect(load.abandonedPosts).toBe(0);
    expect(load.answers).toEqual({ 202: 160 });
    const stored = await scanStoredSignals(stack.servers.dynamodbEndpoint, stack.core.config.tableName);
    expect(compareStored(load.accepted, stored)).toEqual({ accepted: 3200, stored: 3200, storedTwice: 0, missing: 0, notAccepted: 0 });
    expect((await stack.core.queue.depth()).deadLetter).toBe(0);
  });
});
