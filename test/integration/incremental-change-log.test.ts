/**
 * What an incremental run reads of the change log and of the table on the local stack: only the facts
 * of accounts whose facts may have changed, and only the log items the previous run did not apply
 * already (unless one landed late among those). Each case ends with a full run that must change
 * nothing, i.e. the incremental runs gave a full run's answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IdentifierHasher } from '../../lib/client/hash.js';
import { SignalsTransport } from '../../lib/client/transport.js';
import { MessageStore } from '../../lib/ingest/store-message.js';
import { investigatorHeaders, startTestStack } from '../support/local-stack.js';

const hasher = new IdentifierHasher('test-consortium-key-0123456789');
type Stack = Awaited<ReturnType<typeof startTestStack>>;
const stacks: Stack[] = [];
afterEach(async () => {
  while (stacks.length) await stacks.pop()!.cleanup();
});

async function stackWith() {
  const stack = await startTestStack();
  stacks.push(stack);
  const platform = stack.credentials.platforms[0];
  /** Posts one request of at most 50 signals: one queue message, so one change-log item. */
  const post = async (body: Record<string, unknown>) => {
    const transport = new SignalsTransport({ baseUrl: stack.baseUrl, platform: platform.id, secret: platform.secret });
    expect((await transport.send(JSON.stringify({ signals: [], ...body }))).rejected).toEqual([]);
    await stack.waitForDrain();
  };
  const sig = (account: string, type: string, raw: string) => ({ account, type, value: hasher.hash(type as never, raw).value, observedAt: '2026-11-20T00:00:00Z' });
  const detect = async (mode: 'auto' | 'full') => {
    const response = await fetch(`${stack.baseUrl}/v1/detect?mode=${mode}`, { method: 'POST', headers: investigatorHeaders(stack) });
    const run = await stack.waitForRun((await response.json()).runId);
    expect(run.status, run.error).toBe('succeeded');
    return run;
  };
  /** The accounts every read of facts asked for, from now on (the runner reads through the same repository). */
  const factsRequested: string[][] = [];
  const factsOf = stack.core.signals.factsOf.bind(stack.core.signals);
  stack.core.signals.factsOf = async (accounts) => {
    factsRequested.push([...accounts]);
    return factsOf(accounts);
  };
  const reportOf = async (account: string) => {
    const cluster = (await stack.core.clusters.currentClusters()).find((c) => c.members.includes(`${platform.id}#${account}`));
    return cluster && (await stack.core.clusters.report(cluster.id));
  };
  return { stack, platform, post, sig, detect, factsRequested, reportOf };
}

describe('incremental run: facts read afresh', () => {
  it('reads no facts after a signal-only message, and the facts of the accounts an account-records message names', async () => {
    const { platform, post, sig, detect, factsRequested, reportOf } = await stackWith();
    await post({ signals: [sig('r-a', 'email', 'r@example.com'), sig('r-b', 'email', 'r@example.com'), sig('r-a', 'phone', '+14155550123'), sig('r-b', 'phone', '+14155550123')] });
    expect((await detect('auto')).mode).toBe('full');

    factsRequested.length = 0;
    await post({ signals: [sig('r-c', 'email', 'r@example.com'), sig('r-c', 'phone', '+14155550123')] });
    const signalsOnly = await detect('auto');
    expect(signalsOnly.mode).toBe('incremental');
    expect(factsRequested.flat()).toEqual([]);
    expect(signalsOnly.counts!.factsRead).toBe(0);
    expect((await reportOf('r-c'))?.size).toBe(3);

    factsRequested.length = 0;
    await post({ accounts: [{ account: 'r-a', minorContacts7d: 40, reports30d: 12 }] });
    const factsChanged = await detect('auto');
    expect(factsChanged.mode).toBe('incremental');
    expect(factsRequested.flat()).toEqual([`${platform.id}#r-a`]);
    expect(factsChanged.counts!.factsRead).toBe(1);
    const factors = (await reportOf('r-a'))!.riskReasons.map((reason) => reason.factor);
    expect(factors).toEqual(expect.arrayContaining(['minor-contacts', 'reports']));

    const full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });
});

describe('incremental run: change-log items the previous run applied', () => {
  it('back to back, the second run applies only the items the first did not (its window holds both runs\' input)', async () => {
    const { post, sig, detect, reportOf } = await stackWith();
    await post({ signals: [sig('b-a', 'email', 'b@example.com'), sig('b-b', 'email', 'b@example.com')] });
    expect((await detect('auto')).mode).toBe('full');
    await post({ signals: [sig('c-a', 'email', 'c@example.com'), sig('c-b', 'email', 'c@example.com')] });
    const first = await detect('auto');
    expect(first.mode).toBe('incremental');
    // After a full run there is nothing to skip: the window (from 2 minutes before the full run) holds both messages.
    expect(first.counts).toMatchObject({ changeLogItemsApplied: 2, changeLogItemsSkipped: 0 });
    expect(first.changeLog).toMatchObject({ count: 2 });

    await post({ signals: [sig('d-a', 'email', 'd@example.com'), sig('d-b', 'email', 'd@example.com')] });
    const second = await detect('auto');
    expect(second.mode).toBe('incremental');
    expect(second.counts).toMatchObject({ changeLogItemsApplied: 1, changeLogItemsSkipped: 2 });
    expect(second.changeLog).toMatchObject({ count: 3 });
    expect((await reportOf('d-a'))?.size).toBe(2);

    const full = await detect('full');
    expect(full.counts).toMatchObject({ clusters: 3, clustersWritten: 0, clustersRemoved: 0 });
  });

  it('applies the whole window again when an item landed late inside what the previous run saw', async () => {
    const { stack, platform, post, sig, detect, reportOf } = await stackWith();
    await post({ signals: [sig('e-a', 'email', 'e@example.com'), sig('e-b', 'email', 'e@example.com')] });
    expect((await detect('auto')).mode).toBe('full');
    await post({ signals: [sig('f-a', 'email', 'f@example.com'), sig('f-b', 'email', 'f@example.com')] });
    const first = await detect('auto');
    expect(first.mode).toBe('incremental');
    const { from, through } = first.changeLog!;

    // A consumer that took its clock just before the last item the run saw, and whose write landed only now.
    const storedAt = new Date(Date.parse(through.slice(0, through.indexOf('#'))) - 1);
    const late = new MessageStore(stack.core.signals, stack.core.changes, stack.core.config.retentionDays, () => storedAt);
    await late.store(
      JSON.stringify({ v: 1, platform: platform.id, requestId: 'late-writer', receivedAt: new Date().toISOString(), signals: [sig('g-a', 'email', 'g@example.com'), sig('g-b', 'email', 'g@example.com')], accounts: [] }),
    );
    const lateKey = `${storedAt.toISOString()}#late-writer`;
    expect(lateKey >= from && lateKey <= through).toBe(true);

    const second = await detect('auto');
    expect(second.mode).toBe('incremental');
    expect(second.counts).toMatchObject({ changeLogItemsApplied: 3, changeLogItemsSkipped: 0 });
    expect((await reportOf('g-a'))?.size).toBe(2);

    const full = await detect('full');
    expect(full.counts).toMatchObject({ clusters: 3, clustersWritten: 0, clustersRemoved: 0 });
  });
});
