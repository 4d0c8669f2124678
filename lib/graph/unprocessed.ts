/**
 * The retry policy of DynamoDB's batch calls (BatchWriteItem, BatchGetItem): what a call leaves
 * unprocessed is sent again with backoff, and so is a call DynamoDB throttled whole once the SDK's own
 * retries are spent (a partition over its rate, or a new on-demand table below the rate a run's first
 * save asks of it), so that throttling slows work down rather than failing it.
 */
import { UnavailableError } from '../errors.js';

/** Calls per batch before giving up: 11-22 s of waiting between them in all (under a consumer's 60 s, a task's 5 minutes). */
export const MAX_CALLS = 12;

/** The wait before retry `round` (1, 2, ...): doubling from 50 ms up to 4 s, each between half and all of it (jitter, so that throttled calls do not come back together). */
export function retryWaitMs(round: number): number {
  return Math.min(4_000, 25 * 2 ** round) * (0.5 + Math.random() / 2);
}

/** DynamoDB's answers that a call was throttled (the SDK marks them too), as opposed to refused. */
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);
function isThrottled(error: unknown): boolean {
  const { name, $retryable } = (error ?? {}) as { name?: string; $retryable?: { throttling?: boolean } };
  return THROTTLED.has(name ?? '') || $retryable?.throttling === true;
}

/**
 * Calls `call` with `requests`, then with what it answers it left unprocessed, until nothing is left.
 * A throttled call leaves everything it was given. `what` names the requests in the error after
 * {@link MAX_CALLS} calls (`writes`, `reads`).
 */
export async function untilProcessed<T>(requests: T[], call: (pending: T[]) => Promise<T[]>, what: string, waitMs: (round: number) => number = retryWaitMs): Promise<void> {
  let pending = requests;
  let throttled = 0;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= MAX_CALLS) {
      throw new UnavailableError(`DynamoDB left ${pending.length} ${what} unprocessed after ${MAX_CALLS} calls (${throttled} of them throttled whole): the table or an index is over its rate; the work is retried later`);
    }
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, waitMs(round)));
    try {
      pending = await call(pending);
    } catch (error) {
      if (!isThrottled(error)) throw error;
      throttled += 1;
    }
  }
}
