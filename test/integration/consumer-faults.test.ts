/**
 * The queue consumer under bad messages, against the local stack (real local-aws-sqs with its redrive
 * policy, real dynalite): a poison message never fails or blocks the good ones of its batch, lands in
 * the dead-letter queue after MAX_RECEIVE_COUNT receives, and `npm run dlq` lists and redrives.
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createConsumeHandler } from '../../functions/consume-signals.js';
import type { IngestMessage } from '../../lib/contract/signals.js';
import { runDlqCommand } from '../../lib/ingest/dead-letters-cli.js';
import type { DeadLetter } from '../../lib/ingest/dead-letters.js';
import { MAX_RECEIVE_COUNT } from '../../lib/runtime/local/local-servers.js';
import { aSignal, eventually, hashed } from '../support/factories.js';
import { compareStored, scanStoredSignals, signalKey } from '../support/ingest-load.js';
import { useTestStack } from '../support/local-stack.js';

// A one-second visibility timeout: a failing message is back (and dead-lettered) within seconds.
const local = useTestStack({ visibilityTimeoutSeconds: 1 });

function aMessage(label: string, signals = 3): IngestMessage {
  return {
    v: 1,
    platform: local.platformId,
    requestId: `${label}:0`,
    receivedAt: new Date().toISOString(),
    signals: Array.from({ length: signals }, (_, i) => aSignal({ account: `${label}-${i}`, value: hashed(`${label}-${i}`) })),
    accounts: [],
  };
}

const keysOf = (message: IngestMessage) => new Set(message.signals.map((signal) => signalKey(message.platform, signal.account, signal.type, signal.value)));

async function storedComparison(expected: Set<string>, label: string) {
  const stored = await scanStoredSignals(local.stack.servers.dynamodbEndpoint, local.stack.core.config.tableName);
  return compareStored(expected, stored, (key) => key.includes(`|${label}-`));
}

async function dlq(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runDlqCommand([...argv, '--home', local.stack.home], {
    env: {},
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

async function listed(): Promise<DeadLetter[]> {
  const { code, stdout, stderr } = await dlq('list', '--json');
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return stdout.trim() === '' ? [] : stdout.trim().split('\n').map((line) => JSON.parse(line) as DeadLetter);
}

const sendRaw = (body: string) => local.stack.sqs.send(new SendMessageCommand({ QueueUrl: local.stack.core.config.signalQueueUrl, MessageBody: body }));

describe('Consumer: partial batch failures', () => {
  it('reports only the poison record of a batch as failed and stores the others', async () => {
    const handler = createConsumeHandler(local.stack.core.messageStore);
    const good = [aMessage('batch-a'), aMessage('batch-b')];
    const record = (messageId: string, body: string) => ({ messageId, body, receiptHandle: messageId, attributes: {}, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:crosslink-signals', awsRegion: 'us-east-1' });

    const response = await handler({
      Records: [record('good-1', JSON.stringify(good[0])), record('poison-1', '{"v":1,"platform":'), record('good-2', JSON.stringify(good[1])), record('poison-2', JSON.stringify({ v: 1, signals: 'none' }))],
    } as never);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'poison-1' }, { itemIdentifier: 'poison-2' }]);
    expect(await storedComparison(new Set([...keysOf(good[0]!), ...keysOf(good[1]!)]), 'batch')).toEqual({ accepted: 6, stored: 6, storedTwice: 0, missing: 0, notAccepted: 0 });
  });

  it('stores and deletes the good messages of a queue batch while the poison one goes to the dead-letter queue after its receives', async () => {
    await local.stack.worker.stop();
    const good = Array.from({ length: 6 }, (_, i) => aMessage(`queued-${i}`));
    for (const message of good.slice(0, 3)) await sendRaw(JSON.stringify(message));
    await sendRaw('this is not JSON');
    for (const message of good.slice(3)) await sendRaw(JSON.stringify(message));
    local.stack.worker.start();

    const expected = new Set(good.flatMap((message) => [...keysOf(message)]));
    await eventually('the good messages to be stored', async () => ((await storedComparison(expected, 'queued')).missing === 0 ? true : undefined));
    const depth = await eventually(
      'the poison message to reach the dead-letter queue',
      async () => {
        const current = await local.stack.core.queue.depth();
        return current.deadLetter === 1 && current.waiting === 0 && current.inFlight === 0 ? current : undefined;
      },
      30_000,
    );

    expect(depth).toEqual({ waiting: 0, inFlight: 0, deadLetter: 1 });
    expect(await storedComparison(expected, 'queued')).toEqual({ accepted: 18, stored: 18, storedTwice: 0, missing: 0, notAccepted: 0 });
  });

  it('lists the dead letter with its receive count and why it cannot be stored', async () => {
    const letters = await listed();

    expect(letters).toEqual([expect.objectContaining({ verdict: 'poison', reason: 'the body is not JSON', receiveCount: expect.any(Number) })]);
    expect(letters[0]!.receiveCount).toBeGreaterThanOrEqual(1);
    // Listing hides nothing for long: the message is visible again for the next reader.
    expect((await listed()).map((letter) => letter.messageId)).toEqual([letters[0]!.messageId]);
  });
});

describe('npm run dlq redrive', () => {
  it('redrives a chosen storable dead letter, which is then stored once, and leaves the poison one', async () => {
    // A good message that kept failing (as when the store was down past every retry): received
    // MAX_RECEIVE_COUNT times by a consumer that never deleted it.
    await local.stack.worker.stop();
    const good = aMessage(`redriven-${randomUUID().slice(0, 8)}`, 4);
    await sendRaw(JSON.stringify(good));
    for (let receive = 0; receive < MAX_RECEIVE_COUNT; receive++) {
      await eventually('the message to be receivable', async () => {
        const received = await local.stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: local.stack.core.config.signalQueueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 1 }));
        return received.Messages?.length ? true : undefined;
      });
    }
    const storable = await eventually('the good message to be dead-lettered', async () => (await listed()).find((letter) => letter.verdict === 'storable'));
    expect(storable).toMatchObject({ verdict: 'storable', signals: 4, requestId: good.requestId });
    local.stack.worker.start();

    const redrive = await dlq('redrive', '--id', storable.messageId);

    expect(redrive).toMatchObject({ code: 0, stdout: expect.stringMatching(/^redrove 1 messages .* \(resend\)/), stderr: '' });
    await eventually('the redriven message to be stored', async () => ((await storedComparison(keysOf(good), 'redriven')).missing === 0 ? true : undefined));
    await local.stack.waitForDrain();
    expect(await storedComparison(keysOf(good), 'redriven')).toEqual({ accepted: 4, stored: 4, storedTwice: 0, missing: 0, notAccepted: 0 });
    expect((await listed()).map((letter) => letter.verdict)).toEqual(['poison']);
    // Asked again, the message is no longer there: said, and nothing else moves.
    expect(await dlq('redrive', '--id', storable.messageId)).toMatchObject({ code: 1, stdout: expect.stringMatching(/^redrove 0 messages/), stderr: expect.stringMatching(/not in the dead-letter queue .*: /) });
  });

  it('redrives everything with a move task, also a message written to the dead-letter queue by hand; a poison message then comes back', async () => {
    const good = aMessage(`by-hand-${randomUUID().slice(0, 8)}`, 2);
    await local.stack.sqs.send(new SendMessageCommand({ QueueUrl: local.stack.core.config.signalDeadLetterQueueUrl, MessageBody: JSON.stringify(good) }));

    const redrive = await dlq('redrive', '--json');

    expect(redrive.code).toBe(0);
    expect(JSON.parse(redrive.stdout)).toEqual({ method: 'move-task', moved: 2 });
    const letters = await eventually(
      'the poison message to be dead-lettered again',
      async () => {
        const listing = await listed();
        const depth = await local.stack.core.queue.depth();
        return listing.length === 1 && depth.waiting === 0 && depth.inFlight === 0 ? listing : undefined;
      },
      30_000,
    );
    expect(letters.map((letter) => letter.verdict)).toEqual(['poison']);
    expect(await storedComparison(keysOf(good), 'by-hand')).toEqual({ accepted: 2, stored: 2, storedTwice: 0, missing: 0, notAccepted: 0 });
  });

  it('says where it looked when no local stack is running there', async () => {
    let stderr = '';
    const code = await runDlqCommand(['list', '--home', '/nonexistent-crosslink-home'], { env: {}, stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) } });

    expect(code).toBe(1);
    expect(stderr).toMatch(/no running local stack found \(\/nonexistent-crosslink-home\/endpoints\.json: ENOENT\)/);
  });
});
