import { describe, expect, it } from 'vitest';
import { DeadLetters, RedriveError } from '../../../lib/ingest/dead-letters.js';

/** A two-queue SQS in memory; SendMessageBatch refuses bodies listed in `refuse`. */
function fakeSqs(bodies: string[], refuse: Set<string>) {
  let handles = 0;
  const dlq = new Map(bodies.map((body, i) => [`m${i}`, { id: `m${i}`, body, visible: true, handle: '' }]));
  const signalQueue: string[] = [];
  const sqs = {
    async send(command: { constructor: { name: string }; input: any }) {
      const { input } = command;
      switch (command.constructor.name) {
        case 'ReceiveMessageCommand': {
          const ready = [...dlq.values()].filter((m) => m.visible).slice(0, input.MaxNumberOfMessages);
          for (const m of ready) {
            m.visible = false;
            m.handle = `h${handles++}`;
          }
          return { Messages: ready.map((m) => ({ MessageId: m.id, Body: m.body, ReceiptHandle: m.handle, Attributes: { ApproximateReceiveCount: '1' } })) };
        }
        case 'SendMessageBatchCommand': {
          const Failed = input.Entries.filter((e: any) => refuse.has(e.MessageBody)).map((e: any) => ({ Id: e.Id, Code: 'Throttled', SenderFault: false }));
          const Successful = input.Entries.filter((e: any) => !refuse.has(e.MessageBody)).map((e: any) => ({ Id: e.Id }));
          for (const e of input.Entries) if (!refuse.has(e.MessageBody)) signalQueue.push(e.MessageBody);
          return { Failed, Successful };
        }
        case 'DeleteMessageBatchCommand': {
          for (const e of input.Entries) for (const [id, m] of dlq) if (m.handle === e.ReceiptHandle) dlq.delete(id);
          return { Successful: input.Entries.map((e: any) => ({ Id: e.Id })) };
        }
        case 'ChangeMessageVisibilityBatchCommand': {
          for (const e of input.Entries) for (const m of dlq.values()) if (m.handle === e.ReceiptHandle) m.visible = true;
          return {};
        }
        default:
          throw new Error(`unexpected ${command.constructor.name}`);
      }
    },
  };
  /** Ends the listing's visibility timeout, as 30 s passing would. */
  const timePasses = () => dlq.forEach((m) => (m.visible = true));
  return { sqs, dlq, signalQueue, timePasses };
}

describe('DeadLetters.redrive({ messageIds }) when the signal queue refuses part of a batch', () => {
  it('redrives each message once: the sent ones leave the dead-letter queue, and running it again sends only the refused one', async () => {
    const fake = fakeSqs(['body-a', 'body-b'], new Set(['body-b']));
    const deadLetters = new DeadLetters(fake.sqs as never, { queueUrl: 'q', deadLetterQueueUrl: 'dlq' });

    await expect(deadLetters.redrive({ messageIds: ['m0', 'm1'] })).rejects.toBeInstanceOf(RedriveError);
    fake.timePasses();
    // The operator runs it again, as the error says, once the queue accepts messages.
    const again = fakeSqsRetry(fake);
    await again.redrive({ messageIds: ['m0', 'm1'] });

    expect(fake.signalQueue.filter((body) => body === 'body-a')).toHaveLength(1);
    expect(fake.signalQueue.filter((body) => body === 'body-b')).toHaveLength(1);
    expect(fake.dlq.size).toBe(0);
  });
});

function fakeSqsRetry(fake: ReturnType<typeof fakeSqs>) {
  const send = fake.sqs.send;
  const accepting = {
    async send(command: { constructor: { name: string }; input: any }) {
      if (command.constructor.name === 'SendMessageBatchCommand') {
        for (const e of command.input.Entries) fake.signalQueue.push(e.MessageBody);
        return { Successful: command.input.Entries.map((e: any) => ({ Id: e.Id })), Failed: [] };
      }
      return send(command);
    },
  };
  return new DeadLetters(accepting as never, { queueUrl: 'q', deadLetterQueueUrl: 'dlq' });
}
