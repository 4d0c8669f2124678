/**
 * Fault: the DynamoDB server goes away in the middle of an ingest and comes back (same port, same data).
 * Platforms retry what got a 5xx, as the contract asks; afterwards every accepted signal is stored
 * exactly once, counted item by item.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareStored, runSignedLoad, scanStoredSignals } from '../support/ingest-load.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  // Five-second visibility: an outage of a few seconds costs each message far fewer than the five
  // receives that would dead-letter it (docs/faults.md says what a longer outage does).
  stack = await startTestStack({ visibilityTimeoutSeconds: 5, requestsPerMinute: 1_000_000, workerConcurrency: 2 });
});
afterAll(async () => stack?.cleanup());

describe('Fault: DynamoDB stops during ingest', () => {
  it('stores every accepted signal exactly once after the server is back', async () => {
    let outage: Promise<void> | undefined;
    let recovery: Promise<void> | undefined;
    let failedDuringOutage = 0;
    const outageAnswers = new Map<number | 'network', number>();

    const load = await runSignedLoad({
      baseUrl: stack.baseUrl,
      platform: stack.credentials.platforms[0]!,
      clients: 8,
      signalsPerPost: 20,
      postsPerClient: 25,
      label: 'dynamo-down',
      onPostSettled: (settled) => {
        if (settled === 40) outage = stack.servers.stopDynamo();
      },
      // The server comes back once the outage has been felt: forty requests refused while it was down (a few seconds).
      onAnswer: (status) => {
        if (outage === undefined || recovery !== undefined || (status !== 'network' && status < 500)) return;
        outageAnswers.set(status, (outageAnswers.get(status) ?? 0) + 1);
        if (++failedDuringOutage === 40) recovery = outage.then(() => stack.servers.restartDynamo());
      },
    });
    await recovery;
    await stack.waitForDrain(45_000);

    expect(recovery).toBeDefined();
    // The outage is answered 503 (retry: the service is unreachable), never a bare 500.
    expect([...outageAnswers.keys()]).toEqual([503]);
    expect(load.abandonedPosts).toBe(0);
    expect(load.accepted.size).toBe(8 * 25 * 20);
    const stored = await scanStoredSignals(stack.servers.dynamodbEndpoint, stack.core.config.tableName);
    expect(compareStored(load.accepted, stored)).toEqual({ accepted: 4000, stored: 4000, storedTwice: 0, missing: 0, notAccepted: 0 });
    expect((await stack.core.queue.depth()).deadLetter).toBe(0);
  });
});
