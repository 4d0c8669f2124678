/**
 * The retry policy of DynamoDB's batch calls (BatchWriteItem, BatchGetItem): what a call leaves
 * unprocessed is sent again with backoff, and so is a call DynamoDB throttled whole once the SDK's own
 * retries are spent (a partition over its rate, or a new on-demand table below the rate a run's first
 * save asks of it), so that throttling slows work down rather than failing it.
 */
import { UnavailableError } from '../errors.js';

/** How a batch call is retried: the wait before retry `round` (1, 2, ...), and when to give up. */
export interface RetryPolicy {
  waitMs(round: number): number;
  /** Calls at most. */
  maxCalls: number;
  /** No retry starts once this long has passed since the first call (the SDK's own retries of a call included). */
  budgetMs: number;
}

/**
 * Waits doubling from 50 ms up to 4 s, each between half and all of it (jitter, so that throttled calls
 * do not come back together); 12 calls at most, none begun past 10 s, so that a request served by a
 * Lambda of 15 s (the platform API's) still answers with an error rather than time out.
 */
export const DEFAULT_RETRY: RetryPolicy = {
  waitMs: (round) => Math.min(4_000, 25 * 2 ** round) * (0.5 + Math.random() / 2),
  maxCalls: 12,
  budgetMs: 10_000,
};

/** DynamoDB's answers that a call was throttled (the SDK marks them too), as opposed to refused. */
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);
function isThrottled(error: unknown): boolean {
  const { name, $retryable } = (error ?? {}) as { name?: string; $retryable?: { throttling?: boolean } };
  return THROTTLED.has(name ?? '') || $retryable?.throttling === true;
}

/**
 * Calls `call` with `requests`, then with what it answers it left unprocessed, until nothing is left.
 * A throttled call leaves everything it was given. `what` names the requests in the error given when
 * the policy's calls or time run out (`writes`, `reads`).
 */
export async function untilProcessed<T>(requests: T[], call: (pending: T[]) => Promise<T[]>, what: string, retry: RetryPolicy = DEFAULT_RETRY): Promise<void> {
  const started = Date.now();
  let pending = requests;
  let throttled = 0;
  // Round n begins with n calls made.
  for (let round = 0; pending.length > 0; round++) {
    if (round > 0) {
      const wait = retry.waitMs(round);
      if (round >= retry.maxCalls || Date.now() - started + wait > retry.budgetMs) {
        throw new UnavailableError(
          `DynamoDB left ${pending.length} ${what} unprocessed after ${round} calls in ${Math.round((Date.now() - started) / 1000)} s (${throttled} of them throttled whole): the table or an index is over its rate; try again later`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    try {
      pending = await call(pending);
    } catch (error) {
      if (!isThrottled(error)) throw error;
      throttled += 1;
    }
  }
}
