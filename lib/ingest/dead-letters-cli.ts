/**
 * The `dlq` operator command: `list` and `redrive` the signal dead-letter queue of the local stack or
 * of a deployment. Flags are read here into typed options; the work is in dead-letters.ts. Mountable
 * as a subcommand (`runDlqCommand(argv, io)`); `bin/dlq.ts` wires it to the process.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ListDeadLetterSourceQueuesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsClient } from '../runtime/aws/clients.js';
import { readLocalEndpoints } from '../runtime/local/local-stack.js';
import { DeadLetters, type DeadLetter, type DeadLetterQueues } from './dead-letters.js';

/** The process around the command, injected so that tests run it in-process. */
export interface DlqIo {
  env: Record<string, string | undefined>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Exit codes: 0 done, 1 failed (nothing or part redriven: running it again is safe), 2 usage. */
export const DLQ_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const USAGE = `npm run dlq -- list|redrive [options]: the signal dead-letter queue

  list                     every dead letter: message id, receive count, sent at, and why it failed when the body says
  redrive                  put every dead letter back on the signal queue (SQS StartMessageMoveTask)
  redrive --id ID [--id ID...]
                           put back only these messages (receive, send, delete)

where the queues are:
  --home DIR               a running local stack's state folder (env CROSSLINK_HOME, default .crosslink): reads DIR/endpoints.json
  --url DLQ_URL            a dead-letter queue URL (env SIGNAL_DLQ_URL); a deployment uses the AWS credentials and region of the
                           environment; a local-aws-sqs URL (http://127.0.0.1:PORT/...) is reached at its own origin
  --queue-url URL          the signal queue to resend to (default: the DLQ's source queue, from ListDeadLetterSourceQueues)

options:
  --max N                  list at most N messages (default 1000)
  --timeout SECONDS        how long a redrive waits for the move task (default 60)
  --json                   print JSON (list: one dead letter per line; redrive: the result)
`;

interface Located {
  sqs: SQSClient;
  queues: DeadLetterQueues;
}

function isLocalUrl(url: string): boolean {
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '::1';
}

async function locate(values: { home?: string; url?: string; 'queue-url'?: string }, env: DlqIo['env']): Promise<Located> {
  const deadLetterQueueUrl = values.url ?? (values.home ? undefined : env.SIGNAL_DLQ_URL);
  if (!deadLetterQueueUrl) {
    const endpoints = readLocalEndpoints(resolve(values.home ?? env.CROSSLINK_HOME ?? '.crosslink'));
    return {
      sqs: sqsClient({ sqs: endpoints.sqsEndpoint }),
      queues: { queueUrl: values['queue-url'] ?? endpoints.queueUrl, deadLetterQueueUrl: endpoints.deadLetterQueueUrl },
    };
  }
  const sqs = isLocalUrl(deadLetterQueueUrl) ? sqsClient({ sqs: new URL(deadLetterQueueUrl).origin }) : sqsClient();
  let queueUrl = values['queue-url'] ?? env.SIGNAL_QUEUE_URL;
  if (!queueUrl) {
    const sources = (await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: deadLetterQueueUrl }))).queueUrls ?? [];
    if (sources.length !== 1) throw new Error(`${deadLetterQueueUrl} is the dead-letter queue of ${sources.length} queues: pass --queue-url`);
    queueUrl = sources[0]!;
  }
  return { sqs, queues: { queueUrl, deadLetterQueueUrl } };
}

function formatList(letters: DeadLetter[]): string {
  if (letters.length === 0) return 'the dead-letter queue is empty\n';
  const poison = letters.filter((letter) => letter.verdict === 'poison').length;
  const rows = letters.map(
    (letter) =>
      `${letter.messageId}  receives ${letter.receiveCount}  sent ${letter.sentAt ?? '?'}  ${letter.verdict}${letter.signals === undefined ? '' : ` (${letter.signals} signals)`}: ${letter.reason}`,
  );
  const advice = poison < letters.length ? 'redrive the storable ones once the cause is fixed: npm run dlq -- redrive' : 'poison messages cannot be stored: fix the sender';
  return `${rows.join('\n')}\n${letters.length} dead letters: ${poison} poison, ${letters.length - poison} storable; ${advice}\n`;
}

/**
 * Runs one `dlq` invocation and returns its exit code.
 *
 * @example
 * const code = await runDlqCommand(['list', '--home', '.crosslink'], { env: process.env, stdout: process.stdout, stderr: process.stderr });
 * // stdout: 5f0c…  receives 1  sent 2026-11-29T02:40:00.000Z  poison: the body is not JSON
 */
export async function runDlqCommand(argv: string[], io: DlqIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        home: { type: 'string' },
        url: { type: 'string' },
        'queue-url': { type: 'string' },
        id: { type: 'string', multiple: true },
        max: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return DLQ_EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command] = positionals;
  if (values.help) {
    io.stdout.write(USAGE);
    return DLQ_EXIT.ok;
  }
  const max = values.max === undefined ? undefined : Number(values.max);
  const timeoutSeconds = values.timeout === undefined ? 60 : Number(values.timeout);
  if ((command !== 'list' && command !== 'redrive') || positionals.length > 1 || (max !== undefined && !(Number.isInteger(max) && max > 0)) || !(timeoutSeconds > 0)) {
    io.stderr.write(`expected list or redrive${max !== undefined || values.timeout ? ', --max a positive whole number, --timeout a positive number of seconds' : ''}\n\n${USAGE}`);
    return DLQ_EXIT.usage;
  }
  let located: Located | undefined;
  try {
    located = await locate(values, io.env);
    const deadLetters = new DeadLetters(located.sqs, located.queues);
    if (command === 'list') {
      const letters = await deadLetters.list({ max });
      io.stdout.write(values.json ? letters.map((letter) => `${JSON.stringify(letter)}\n`).join('') : formatList(letters));
    } else {
      const result = await deadLetters.redrive({ messageIds: values.id, timeoutMs: timeoutSeconds * 1000 });
      io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `redrove ${result.moved} messages to ${located.queues.queueUrl} (${result.method})\n`);
      if (result.notFound?.length) {
        io.stderr.write(`dlq redrive: not in the dead-letter queue (already redriven, or mistyped): ${result.notFound.join(', ')}\n`);
        return DLQ_EXIT.failed;
      }
    }
    return DLQ_EXIT.ok;
  } catch (error) {
    io.stderr.write(`dlq ${command}: ${(error as Error).message}\n`);
    return DLQ_EXIT.failed;
  } finally {
    located?.sqs.destroy();
  }
}
