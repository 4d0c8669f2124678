/**
 * A signal the API accepts must be storable. `observedAt` once had no length bound (any number of
 * fraction digits passed the ISO check and Date.parse), so one signal could make a DynamoDB item over
 * 400 KB: its whole queue message then failed on every receive, and the valid signals riding with it
 * ended in the dead-letter queue. It is refused item by item now.
 */
import { describe, expect, it } from 'vitest';
import { aSignal, hashed, postSigned } from '../support/factories.js';
import { useTestStack } from '../support/local-stack.js';

const local = useTestStack({ visibilityTimeoutSeconds: 1 });

describe('POST /v1/signals: an item too large to store', () => {
  it('refuses the oversized observedAt item by item, and stores the valid signals of the same request', async () => {
    const huge = `2026-11-01T10:00:00.${'0'.repeat(420_000)}Z`;
    const body = JSON.stringify({
      signals: [
        aSignal({ account: 'big-0', value: hashed('big-0'), observedAt: huge }),
        aSignal({ account: 'big-1', value: hashed('big-1') }),
        aSignal({ account: 'big-2', value: hashed('big-2') }),
      ],
    });
    const response = await postSigned(local.stack.baseUrl, local.platform, body);
    expect(response.status).toBe(202);
    const answer = (await response.json()) as { accepted: number; rejected: Array<{ index: number; field: string }> };
    await local.stack.waitForDrain(60_000);

    // What a platform relies on: every signal answered as accepted is stored, nothing is dead-lettered.
    const held = await local.stack.core.signals.readAccounts([`${local.platform.id}#big-1`, `${local.platform.id}#big-2`]);
    const stored = [...held.values()].reduce((sum, account) => sum + account.memberships.length, 0);
    const depth = await local.stack.core.queue.depth();
    expect({ stored, deadLetter: depth.deadLetter }).toEqual({ stored: 2, deadLetter: 0 });
    expect(answer.accepted).toBe(2);
    expect(answer.rejected).toEqual([expect.objectContaining({ index: 0, field: 'observedAt' })]);
  });
});
