import { describe, expect, it } from 'vitest';
import { createConsumeHandler } from '../../../functions/consume-signals.js';
import { PoisonMessageError } from '../../../lib/ingest/store-message.js';

const record = (messageId: string, body: string, receiveCount = '1') => ({
  messageId,
  body,
  receiptHandle: messageId,
  attributes: { ApproximateReceiveCount: receiveCount },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:crosslink-signals',
  awsRegion: 'us-east-1',
});

function recordingLogger() {
  const lines: Array<{ level: string; message: string; extra: unknown[] }> = [];
  const at = (level: string) => (message: string, ...extra: unknown[]) => void lines.push({ level, message, extra });
  return { lines, logger: { error: at('error'), warn: at('warn'), info: at('info') } };
}

/** A store that refuses the bodies named in `refusals` with the error given. */
const storeRefusing = (refusals: Record<string, Error>) => ({
  async store(body: string) {
    if (refusals[body]) throw refusals[body];
    return { signals: 1, accounts: 0 };
  },
});

describe('Function: consume-signals', () => {
  it('logs why each message it reports failed, naming the message and its receive count but not its body', async () => {
    const { lines, logger } = recordingLogger();
    const handler = createConsumeHandler(
      storeRefusing({ 'poison-body': new PoisonMessageError('queue message body is not JSON'), 'refused-body': new Error('Item size has exceeded the maximum allowed size') }),
      logger,
    );

    const response = await handler({ Records: [record('good', 'good-body'), record('poison', 'poison-body', '3'), record('refused', 'refused-body', '5')] } as never);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }, { itemIdentifier: 'refused' }]);
    expect(lines).toEqual([
      { level: 'error', message: 'queue message not stored: it can never be (poison), and goes to the dead-letter queue after its receives', extra: [{ messageId: 'poison', receiveCount: 3, error: 'PoisonMessageError', reason: 'queue message body is not JSON' }] },
      { level: 'warn', message: 'queue message not stored: it comes back after the visibility timeout', extra: [{ messageId: 'refused', receiveCount: 5, error: 'Error', reason: 'Item size has exceeded the maximum allowed size' }] },
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/-body/);
  });
});
