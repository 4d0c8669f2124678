/**
 * Incremental runs that read their closure from the table (few changes, the previous run's graph gone:
 * detection-runner.ts hands each task its seeds, lib/graph/component-loader.ts loads what they reach):
 * each case forces that path (`forceClosure`) and checks that a full run afterwards changes nothing.
 * The first three failed before their fixes (a stale pointer; photo families judged otherwise than
 * detection judges them); the others hold the path's other cases.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageStore } from '../../lib/ingest/store-message.js';
import { cleanUpStacks, stackWith } from '../support/edge-stack.js';

afterEach(cleanUpStacks);

/** A PDQ hash: `base` with the hex digits at `positions` inverted (4 bits each). */
const BASE = '3a5f0c9e7b2d4816a0f3c5e79b1d2f486c0a8e3f5b7d9c1e2a4f6b8d0c3e5a71';
const flip = (positions: number[]) =>
  [...BASE].map((digit, at) => (positions.includes(at) ? (15 - parseInt(digit, 16)).toString(16) : digit)).join('');
const range = (from: number, count: number) => Array.from({ length: count }, (_, n) => from + n);

/** Ten minutes ago: before any run of a test began, less the change log's margin. */
const tenMinutesAgo = () => new Date(Date.now() - 10 * 60_000);

/** Stores signals through the consumer path with its clock at `at`: signals the next run sees, and the one after judges it saw. */
async function storeAt(stack: Awaited<ReturnType<typeof stackWith>>['stack'], at: Date, signals: Array<Record<string, unknown>>): Promise<void> {
  const platform = stack.credentials.platforms[0].id;
  const store = new MessageStore(stack.core.signals, stack.core.changes, stack.core.config.retentionDays, () => at);
  await store.store(JSON.stringify({ v: 1, platform, requestId: `then-${at.getTime()}`, receivedAt: at.toISOString(), accounts: [], signals }));
}

describe('an incremental run that reads its closure from the table gives a full run\'s answer', () => {
  it("a withdrawn account sent again alone: the cluster its old pointer names stays (a pointer stays when its account leaves)", async () => {
    const { stack, post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith();
    const platform = stack.credentials.platforms[0].id;
    await post(0, { signals: ['w-a', 'w-b', 'w-c'].flatMap((account) => [sig(account, 'email', 'w@example.com'), sig(account, 'phone', '+14155550123')]) });
    expect((await detect('auto')).counts!.clusters).toBe(1);
    await stack.core.signals.withdrawAccount(platform, 'w-a', new Date().toISOString());
    // The cluster goes on as w-b and w-c under its id; w-a's pointer to it stays.
    const after = await detect('auto');
    expect(after.mode).toBe('incremental');
    await forceClosure(after.runId);
    // w-a sent again after its withdrawal, with nothing in common with the others.
    await post(0, { signals: [sig('w-a', 'email', 'w-a-again@example.com')] });
    const run = await closureRun();
    expect(run.counts).toMatchObject({ changedAccounts: 1, accounts: 1 });
    // Not a cluster this run saw dissolve (before the fix, 250320d, it was marked removed).
    expect.soft(run.counts!.clustersRemoved).toBe(0);
    expect((await fullChangesNothing()).counts!.clusters).toBe(1);
  });

  it('a hub photo gains a holder: it links nothing, though photos near it are held (review: the closure grew a family from the hub photo and linked through it)', async () => {
    const { stack, post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    const H = BASE;
    const A = flip(range(0, 5)); // 20 bits from H
    const B = flip(range(20, 5)); // 20 bits from H, 40 from A
    // H is a hub (4 holders > 3); A and B are each held once, near H, far from each other.
    await post(0, { signals: [...['x1', 'x2', 'x3', 'x4'].map((account) => sig(account, 'photo_pdq', H)), sig('x1', 'photo_pdq', A), sig('x2', 'photo_pdq', B)] });
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(0);
    const second = await detect('auto');
    await forceClosure(second.runId);
    await post(0, { signals: [sig('x5', 'photo_pdq', H)] });
    const run = await closureRun();
    expect.soft(run.counts!.clustersWritten).toBe(0);
    await fullChangesNothing();
    expect(await stack.core.clusters.currentClusters()).toEqual([]);
  });

  it('a photo nobody holds any more bridges no families (review: the closure joined two families through it into a hub and dissolved a live cluster)', async () => {
    const { stack, post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    const platform = stack.credentials.platforms[0].id;
    const D = BASE;
    const A = flip(range(0, 5));
    const B = flip(range(20, 5));
    await post(0, { signals: [sig('pa1', 'photo_pdq', A), sig('pa2', 'photo_pdq', A), sig('pb1', 'photo_pdq', B), sig('pb2', 'photo_pdq', B), sig('pd', 'photo_pdq', D)] });
    // A, D and B are one family of 5 holders: a hub.
    expect((await detect('auto')).counts!.clusters).toBe(0);
    await stack.core.signals.withdrawAccount(platform, 'pd', new Date().toISOString());
    // D has no holder now: A {pa1, pa2} and B {pb1, pb2} are two clusters.
    const afterWithdrawal = await detect('auto');
    expect(afterWithdrawal.mode).toBe('incremental');
    expect((await fullChangesNothing()).counts!.clusters).toBe(2);
    const last = await detect('auto');
    await forceClosure(last.runId);
    // pa1 sends something unrelated: its closure meets A, whose family (through D, held by nobody) reaches B.
    await post(0, { signals: [sig('pa1', 'device', 'pa1-own-device')] });
    const run = await closureRun();
    expect.soft(run.counts!.clustersRemoved).toBe(0);
    const full = await fullChangesNothing();
    expect(full.counts!.clusters).toBe(2);
  });

  it('two clusters merged by a new account, on the closure path: one keeps its id, the other is removed', async () => {
    const { stack, post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith();
    const platform = stack.credentials.platforms[0].id;
    await post(0, {
      signals: [
        ...['g-a', 'g-b', 'g-c'].flatMap((account) => [sig(account, 'email', 'g@example.com'), sig(account, 'phone', '+14155550301')]),
        ...['k-a', 'k-b'].flatMap((account) => [sig(account, 'email', 'k@example.com'), sig(account, 'phone', '+14155550302')]),
      ],
    });
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(2);
    const big = await stack.core.clusters.clusterOfAccount({ platform, account: 'g-a' });
    await forceClosure(first.runId);
    // k-b and g-c take each other's identifiers: one actor.
    await post(0, { signals: [sig('k-a', 'email', 'g@example.com'), sig('k-a', 'phone', '+14155550301'), sig('k-b', 'email', 'g@example.com'), sig('k-b', 'phone', '+14155550301'), sig('g-a', 'email', 'k@example.com'), sig('g-b', 'phone', '+14155550302'), sig('g-c', 'email', 'k@example.com'), sig('g-c', 'phone', '+14155550302')] });
    const run = await closureRun();
    expect.soft(run.counts!.clusters).toBe(1);
    await fullChangesNothing();
    expect(await stack.core.clusters.clusterOfAccount({ platform, account: 'k-a' })).toBe(big);
  });

  it('an email becomes a hub on the closure path: the cluster it held together dissolves', async () => {
    const { post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    await post(0, { signals: ['e-a', 'e-b', 'e-c'].flatMap((account) => [sig(account, 'email', 'e@example.com')]) });
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(1);
    await forceClosure(first.runId);
    await post(0, { signals: [sig('e-d', 'email', 'e@example.com')] });
    const run = await closureRun();
    expect.soft(run.counts!.clustersRemoved).toBe(1);
    expect((await fullChangesNothing()).counts!.clusters).toBe(0);
  });

  it('an email becomes a hub through a message received before the previous run began and stored after it: the cluster dissolves (review: its holder counted as one the previous run saw)', async () => {
    const { stack, post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    await post(0, { signals: ['l-a', 'l-b', 'l-c'].flatMap((account) => [sig(account, 'email', 'l@example.com')]) });
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(1);
    await forceClosure(first.runId);
    // Received by the API before the run began, stored by the consumer only now (a message held in the
    // queue, or redelivered): the run never saw it.
    const receivedAt = new Date(Date.parse(first.startedAt) - 1_000).toISOString();
    const platform = stack.credentials.platforms[0].id;
    await stack.core.messageStore.store(JSON.stringify({ v: 1, platform, requestId: 'held-in-queue', receivedAt, signals: [sig('l-d', 'email', 'l@example.com')], accounts: [] }));
    const run = await closureRun();
    expect(run.counts).toMatchObject({ changedAccounts: 1 });
    expect.soft(run.counts!.clustersRemoved).toBe(1);
    expect((await fullChangesNothing()).counts!.clusters).toBe(0);
  });

  it('an email becomes a hub through a message received ten minutes before the previous run and stored after it, its other holders stored before it too: the cluster dissolves', async () => {
    // Stored by a consumer whose clock reads ten minutes ago: signals the previous run saw by any rule
    // (the other cases store theirs within the change log's margin, so every hub there counts as new).
    const { stack, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    const platform = stack.credentials.platforms[0].id;
    const old = tenMinutesAgo();
    await storeAt(stack, old, ['s-a', 's-b', 's-c'].map((account) => sig(account, 'email', 's@example.com')));
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(1);
    await forceClosure(first.runId);
    await stack.core.messageStore.store(JSON.stringify({ v: 1, platform, requestId: 'held', receivedAt: old.toISOString(), accounts: [], signals: [sig('s-d', 'email', 's@example.com')] }));
    const run = await closureRun();
    expect.soft(run.counts!.clustersRemoved).toBe(1);
    expect((await fullChangesNothing()).counts!.clusters).toBe(0);
  });

  it('two photo families the previous run saw, joined into a hub by a new photo near both: both clusters dissolve (review: their holders then, together over the threshold, were taken for a hub then)', async () => {
    const { stack, post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    const A = BASE;
    const B = flip(range(0, 5).concat(range(20, 5))); // 40 bits from A: not near
    const N = flip(range(0, 5)); // 20 bits from A and from B: near both
    await storeAt(stack, tenMinutesAgo(), [sig('a1', 'photo_pdq', A), sig('a2', 'photo_pdq', A), sig('b1', 'photo_pdq', B), sig('b2', 'photo_pdq', B)]);
    // {A}: a1, a2 and {B}: b1, b2, two families of two holders: two clusters.
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(2);
    await forceClosure(first.runId);
    // N joins them into one family of five holders: a hub, which links nothing.
    await post(0, { signals: [sig('n1', 'photo_pdq', N)] });
    const run = await closureRun();
    expect.soft(run.counts!.clustersRemoved).toBe(2);
    expect((await fullChangesNothing()).counts!.clusters).toBe(0);
  });

  it('a photo that was a hub on its own loses holders and bridges two families the previous run saw into a hub: both clusters dissolve (review: every photo had a holder the previous run saw, so the family was taken for a hub then)', async () => {
    const { stack, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    const platform = stack.credentials.platforms[0].id;
    const A = BASE;
    const B = flip(range(0, 5).concat(range(20, 5))); // 40 bits from A: not near
    const M = flip(range(0, 5)); // 20 bits from A and from B: near both
    await storeAt(stack, tenMinutesAgo(), [sig('a1', 'photo_pdq', A), sig('a2', 'photo_pdq', A), sig('b1', 'photo_pdq', B), sig('b2', 'photo_pdq', B), ...['m1', 'm2', 'm3', 'm4'].map((account) => sig(account, 'photo_pdq', M))]);
    // M is a hub on its own (4 holders > 3) and bridges nothing: {A} a1, a2 and {B} b1, b2 are two clusters.
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(2);
    await forceClosure(first.runId);
    // Two of M's holders leave: M (2 holders) joins A and B into one family of 6 holders, a hub.
    await stack.core.signals.withdrawAccount(platform, 'm1', new Date().toISOString());
    await stack.core.signals.withdrawAccount(platform, 'm2', new Date().toISOString());
    const run = await closureRun();
    expect.soft(run.counts!.clustersRemoved).toBe(2);
    expect((await fullChangesNothing()).counts!.clusters).toBe(0);
  });

  it("a withdrawn account's signal received before the withdrawal and stored after it holds nothing: the email it would make a hub still links (review: the closure counted it)", async () => {
    const { stack, post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    const platform = stack.credentials.platforms[0].id;
    await post(0, { signals: ['o-a', 'o-b', 'o-c'].map((account) => sig(account, 'email', 'o@example.com')) });
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(1);
    await forceClosure(first.runId);
    const receivedAt = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await stack.core.signals.withdrawAccount(platform, 'o-d', new Date().toISOString());
    // Received before the withdrawal, stored after it (held in the queue): a leftover every reader leaves out.
    await stack.core.messageStore.store(JSON.stringify({ v: 1, platform, requestId: 'leftover', receivedAt, accounts: [], signals: [sig('o-d', 'email', 'o@example.com')] }));
    const run = await closureRun();
    expect.soft(run.counts!.clustersRemoved).toBe(0);
    expect((await fullChangesNothing()).counts!.clusters).toBe(1);
  });

  it('a hub loses a holder (withdrawn) on the closure path: its holders cluster', async () => {
    const { stack, post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    await post(0, { signals: ['u-a', 'u-b', 'u-c', 'u-d'].flatMap((account) => [sig(account, 'email', 'u@example.com'), sig(account, 'phone', '+14155550303')]) });
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(0);
    await forceClosure(first.runId);
    await stack.core.signals.withdrawAccount(stack.credentials.platforms[0].id, 'u-d', new Date().toISOString());
    const run = await closureRun();
    expect.soft(run.counts!.clustersWritten).toBe(1);
    expect((await fullChangesNothing()).counts!.clusters).toBe(1);
  });

  it('an account leaves one cluster and joins another (withdrawn, sent again), each on the closure path; its old pointer stays', async () => {
    const { stack, post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith();
    const platform = stack.credentials.platforms[0].id;
    await post(0, {
      signals: [
        ...['c1-a', 'c1-b', 'mv'].flatMap((account) => [sig(account, 'email', 'c1@example.com'), sig(account, 'phone', '+14155550304')]),
        ...['c2-a', 'c2-b'].flatMap((account) => [sig(account, 'email', 'c2@example.com'), sig(account, 'phone', '+14155550305')]),
      ],
    });
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(2);
    const c1 = await stack.core.clusters.clusterOfAccount({ platform, account: 'c1-a' });
    const c2 = await stack.core.clusters.clusterOfAccount({ platform, account: 'c2-a' });
    await forceClosure(first.runId);
    await stack.core.signals.withdrawAccount(platform, 'mv', new Date().toISOString());
    const leaving = await closureRun();
    expect.soft(leaving.counts!.clustersRemoved).toBe(0);
    await forceClosure(leaving.runId);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await post(0, { signals: [sig('mv', 'email', 'c2@example.com'), sig('mv', 'phone', '+14155550305')] });
    const joining = await closureRun();
    expect.soft(joining.counts!.clustersRemoved).toBe(0);
    await fullChangesNothing();
    expect(await stack.core.clusters.clusterOfAccount({ platform, account: 'mv' })).toBe(c2);
    expect(await stack.core.clusters.clusterOfAccount({ platform, account: 'c1-a' })).toBe(c1);
    // Again, from c1's side only: mv's pointer names c2 now.
    const last = await detect('auto');
    await forceClosure(last.runId);
    await post(0, { signals: [sig('c1-a', 'device', 'c1-a-device')] });
    const again = await closureRun();
    expect.soft(again.counts).toMatchObject({ clustersRemoved: 0 });
    await fullChangesNothing();
    expect(await stack.core.clusters.clusterOfAccount({ platform, account: 'c1-b' })).toBe(c1);
  });

  it('a photo family grows into a hub through a new near photo, on the closure path: the cluster it held dissolves', async () => {
    const { post, sig, detect, forceClosure, closureRun, fullChangesNothing } = await stackWith({ hubThreshold: 3 });
    const A = BASE;
    const B = flip(range(0, 5));
    const C = flip(range(0, 5).concat(range(20, 5))); // 20 bits from B, 40 from A
    await post(0, { signals: [sig('fa1', 'photo_pdq', A), sig('fa2', 'photo_pdq', A), sig('fb1', 'photo_pdq', B)] });
    const first = await detect('auto');
    expect(first.counts!.clusters).toBe(1);
    await forceClosure(first.runId);
    await post(0, { signals: [sig('fc1', 'photo_pdq', C)] });
    const run = await closureRun();
    expect.soft(run.counts!.clustersRemoved).toBe(1);
    expect((await fullChangesNothing()).counts!.clusters).toBe(0);
  });
});
