/**
 * What a platform may send in one request (500 signals and 500 account records, account ids of up to
 * 128 characters in any script) must reach the queue within SQS's limits: a SendMessageBatch carries at
 * most 10 messages and 256 KiB of bodies, and one message at most 256 KiB. Over either, SQS refuses the
 * call, and a valid request would be answered 500 on every retry.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { IngestMessage } from '../../../lib/contract/signals.js';
import { IngestService } from '../../../lib/ingest/ingest-service.js';
import { SqsSignalQueue } from '../../../lib/runtime/aws/sqs-signal-queue.js';
import { aSignal, hashed } from '../../support/factories.js';

/** SQS's limit on one SendMessageBatch's bodies (and on one message): 256 KiB. */
const SQS_LIMIT_BYTES = 262_144;

/** An SQS client that accepts every entry and keeps what each SendMessageBatch carried. */
function recordingSqs() {
  const batches: string[][] = [];
  const sqs = {
    send: async (command: { input: { Entries: Array<{ MessageBody: string }> } }) => {
      batches.push(command.input.Entries.map((entry) => entry.MessageBody));
      return { Failed: [] };
    },
  } as unknown as SQSClient;
  return { sqs, batches };
}

describe('IngestService over SqsSignalQueue: message and batch sizes', () => {
  it('keeps every SendMessageBatch within 10 messages and 256 KiB for the largest request a platform may send, and sends everything once', async () => {
    // 128 three-byte characters: 384 bytes of account id in UTF-8.
    const account = (n: number) => `${'€'.repeat(120)}${String(n).padStart(8, '0')}`;
    const body = JSON.stringify({
      signals: Array.from({ length: 500 }, (_, n) => aSignal({ account: account(n), value: hashed(`v${n}`) })),
      accounts: Array.from({ length: 500 }, (_, n) => ({ account: account(n), createdAt: '2026-01-31T12:00:00Z', minorContacts7d: 3, reports30d: 1 })),
    });
    const { sqs, batches } = recordingSqs();
    const answer = await new IngestService(new SqsSignalQueue(sqs, 'queue-url', 'dlq-url'), { addAccepted: async () => {}, retiredKeyIds: async () => new Map() }).submit('chatapp', body);
    expect(answer).toMatchObject({ accepted: 500, accountsAccepted: 500, rejected: [] });

    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(10);
      expect(batch.reduce((sum, message) => sum + Buffer.byteLength(message), 0)).toBeLessThanOrEqual(SQS_LIMIT_BYTES);
    }
    const messages = batches.flat().map((message) => JSON.parse(message) as IngestMessage);
    expect(messages.flatMap((message) => message.signals.map((signal) => signal.account)).sort()).toEqual(Array.from({ length: 500 }, (_, n) => account(n)).sort());
    expect(messages.flatMap((message) => message.accounts.map((record) => record.account)).sort()).toEqual(Array.from({ length: 500 }, (_, n) => account(n)).sort());
  });
  it('sends account ids holding characters SQS refuses in a body (U+FFFE, U+FFFF) as JSON escapes, read back the same', async () => {
    const ids = ['ends-with-\uffff', '\ufffe-starts', 'plain'];
    const body = JSON.stringify({ signals: ids.map((account, n) => aSignal({ account, value: hashed(`w${n}`) })), accounts: ids.map((account) => ({ account, reports30d: 1 })) });
    const { sqs, batches } = recordingSqs();
    await new IngestService(new SqsSignalQueue(sqs, 'queue-url', 'dlq-url'), { addAccepted: async () => {}, retiredKeyIds: async () => new Map() }).submit('chatapp', body);
    // SQS takes #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF only.
    const refused = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
    expect(batches.flat().filter((message) => refused.test(message))).toEqual([]);
    const messages = batches.flat().map((message) => JSON.parse(message) as IngestMessage);
    expect(messages.flatMap((message) => message.signals.map((signal) => signal.account))).toEqual(ids);
    expect(messages.flatMap((message) => message.accounts.map((record) => record.account))).toEqual(ids);
  });
});
