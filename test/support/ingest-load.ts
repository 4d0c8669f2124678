/**
 * Concurrent signed platform clients for fault tests and the ingest bench: each posts batches of unique
 * signals, retries a 5xx, 429 or network error the way a platform would (signed afresh), and records
 * exactly which signals were accepted with a 202. Plus the scan that says what the table holds.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { pages } from '../../lib/graph/paginate.js';
import { hashed, OBSERVED_AT, postSigned } from './factories.js';

/** A stored or accepted signal as one string: `platform|account|type|value`. */
export type SignalKey = string;

export const signalKey = (platform: string, account: string, type: string, value: string): SignalKey => `${platform}|${account}|${type}|${value}`;

export interface LoadOptions {
  baseUrl: string;
  platform: { id: string; secret: string };
  /** Clients posting at once. */
  clients: number;
  signalsPerPost: number;
  /** Prefix of every account id, so that runs never share signals. */
  label: string;
  /** Posts per client (a fixed amount of work) ... */
  postsPerClient?: number;
  /** ... or post until this many ms have passed. */
  durationMs?: number;
  /** Give up retrying one post after this long (ms); the post then counts as not accepted. */
  retryForMs?: number;
  /** Called after each post is settled (tests start a fault part-way through). */
  onPostSettled?: (settled: number) => void;
  /** Called with every answer's status, or `network` (tests end a fault once it has been felt). */
  onAnswer?: (status: number | 'network') => void;
}

export interface LoadResult {
  /** Every signal a 202 accepted. */
  accepted: Set<SignalKey>;
  /** Latency of every HTTP request that got an answer (ms). */
  latenciesMs: number[];
  /** Answers by status, plus `network` for requests that got none. */
  answers: Record<string, number>;
  /** Posts never accepted within `retryForMs`. */
  abandonedPosts: number;
  elapsedMs: number;
}

/** Runs the clients to completion. */
export async function runSignedLoad(options: LoadOptions): Promise<LoadResult> {
  const accepted = new Set<SignalKey>();
  const latenciesMs: number[] = [];
  const answers: Record<string, number> = {};
  let abandonedPosts = 0;
  let settled = 0;
  const started = Date.now();
  const retryForMs = options.retryForMs ?? 60_000;
  const moreToPost = (posted: number) =>
    options.postsPerClient !== undefined ? posted < options.postsPerClient : Date.now() - started < (options.durationMs ?? 10_000);

  const postUntilAccepted = async (body: string, signalKeys: SignalKey[]) => {
    const giveUpAt = Date.now() + retryForMs;
    for (let attempt = 0; ; attempt++) {
      // A later timestamp on every attempt: a retry is a new signature, never a replay of the last one.
      const nowSeconds = Math.floor(Date.now() / 1000) + attempt;
      const sentAt = performance.now();
      let status: number | 'network';
      try {
        const response = await postSigned(options.baseUrl, options.platform, body, {}, { nowSeconds });
        status = response.status;
        const answer = (await response.json()) as { accepted?: number };
        latenciesMs.push(performance.now() - sentAt);
        if (status === 202 && answer.accepted !== signalKeys.length) throw new Error(`accepted ${answer.accepted} of ${signalKeys.length} valid signals`);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('accepted ')) throw error;
        status = 'network';
      }
      answers[status] = (answers[status] ?? 0) + 1;
      options.onAnswer?.(status);
      if (status === 202) {
        for (const key of signalKeys) accepted.add(key);
        return;
      }
      if (status !== 'network' && status !== 429 && status < 500) throw new Error(`a valid post got ${status}`);
      if (Date.now() > giveUpAt) {
        abandonedPosts++;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
    }
  };

  const client = async (clientIndex: number) => {
    for (let post = 0; moreToPost(post); post++) {
      const signals = Array.from({ length: options.signalsPerPost }, (_, i) => {
        const account = `${options.label}-c${clientIndex}-p${post}-${i}`;
        return { account, type: 'email' as const, value: hashed(account), observedAt: OBSERVED_AT };
      });
      await postUntilAccepted(
        JSON.stringify({ signals }),
        signals.map((signal) => signalKey(options.platform.id, signal.account, signal.type, signal.value)),
      );
      options.onPostSettled?.(++settled);
    }
  };

  await Promise.all(Array.from({ length: options.clients }, (_, index) => client(index)));
  return { accepted, latenciesMs, answers, abandonedPosts, elapsedMs: Date.now() - started };
}

/** Every signal item in the table, one key per item (a key stored twice would appear twice). */
export async function scanStoredSignals(dynamodbEndpoint: string, tableName: string): Promise<SignalKey[]> {
  const db: DynamoDBDocumentClient = dynamoDocumentClient({ dynamodb: dynamodbEndpoint });
  const keys: SignalKey[] = [];
  try {
    const scan = {
      TableName: tableName,
      FilterExpression: 'kind = :signal',
      ProjectionExpression: 'platform, account, #type, #value',
      ExpressionAttributeNames: { '#type': 'type', '#value': 'value' },
      ExpressionAttributeValues: { ':signal': 'signal' },
    };
    for await (const page of pages(db, { scan })) {
      for (const item of page.items) keys.push(signalKey(String(item.platform), String(item.account), String(item.type), String(item.value)));
    }
  } finally {
    db.destroy();
  }
  return keys;
}

/** How the stored items differ from the accepted set: all empty and zero means each accepted signal is stored exactly once. */
export function compareStored(accepted: Set<SignalKey>, stored: SignalKey[], ownedBy: (key: SignalKey) => boolean = () => true) {
  const mine = stored.filter(ownedBy);
  const storedSet = new Set(mine);
  return {
    accepted: accepted.size,
    stored: mine.length,
    storedTwice: mine.length - storedSet.size,
    missing: [...accepted].filter((key) => !storedSet.has(key)).length,
    notAccepted: [...storedSet].filter((key) => !accepted.has(key)).length,
  };
}
