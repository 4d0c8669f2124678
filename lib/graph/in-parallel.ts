/** Look-ups in flight at once: enough to hide DynamoDB's latency, few enough not to throttle. */
export const LOOKUP_CONCURRENCY = 16;

/** Runs `work` over every item, at most {@link LOOKUP_CONCURRENCY} at a time. */
export async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, items.length) }, worker));
}
