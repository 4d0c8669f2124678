/**
 * Cases, found in review, where an incremental run (auto) must give exactly a full run's answer on the
 * local stack: a verdict recorded again, a full run cut into tasks with a same-actor verdict, a change
 * recorded a moment after a run began reading the log, a hub that loses a holder and stays a hub.
 * (Runs that read their closure from the table: closure-from-table.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SignalsTransport } from '../../lib/client/transport.js';
import { cleanUpStacks, stackWith } from '../support/edge-stack.js';

afterEach(cleanUpStacks);

describe('review: incremental equals full', () => {
  it('a verdict recorded again (same kind) between runs', async () => {
    const { post, sig, detect, verdict } = await stackWith();
    await post(0, { signals: [sig('v-a', 'email', 'va@example.com'), sig('v-b', 'email', 'va@example.com'), sig('v-a', 'phone', '+14155550100'), sig('v-b', 'phone', '+14155550100')] });
    await verdict('v-a', 'v-b', 'same-actor');
    expect((await detect('auto')).mode).toBe('full');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await verdict('v-a', 'v-b', 'same-actor');
    // Incremental (before the fix) or full: either way it must give the full run's answer.
    await detect('auto');
    const full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });

  it('must-links resolved in another order after a verdict is recorded again', async () => {
    const { post, sig, detect, verdict } = await stackWith();
    // Three accounts, each pair sharing a device; A and C are not the same actor.
    await post(0, { signals: ['o-a', 'o-b', 'o-c'].flatMap((account) => [sig(account, 'device', 'tablet-o')]) });
    await verdict('o-a', 'o-c', 'not-same-actor');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await verdict('o-a', 'o-b', 'same-actor');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await verdict('o-b', 'o-c', 'same-actor'); // conflicts: applied after a-b
    expect((await detect('auto')).mode).toBe('full');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await verdict('o-a', 'o-b', 'same-actor'); // now the newest: b-c applies first, a-b conflicts
    await detect('auto');
    const full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });

  it('a full run cut into several tasks, with a same-actor verdict', async () => {
    const { stack, post, sig, detect, verdict } = await stackWith();
    const signals = [];
    for (let pair = 0; pair < 600; pair++) {
      for (const side of ['x', 'y']) {
        signals.push(sig(`p${pair}-${side}`, 'email', `pair${pair}@example.com`), sig(`p${pair}-${side}`, 'phone', `+1415555${String(pair).padStart(4, '0')}`));
      }
    }
    for (let start = 0; start < signals.length; start += 500) await post(0, { signals: signals.slice(start, start + 500) });
    await verdict('p0-x', 'p0-y', 'same-actor');
    const first = await detect('auto');
    expect(first.mode).toBe('full');
    expect(first.tasksTotal).toBeGreaterThan(1);
    if (process.env.REVIEW_DEBUG) {
      const all = await stack.core.clusters.currentClusters();
      const mine = all.filter((c) => c.members.some((m) => m.includes('#p0-')));
      console.log('CLUSTERS', all.length, JSON.stringify(mine), JSON.stringify((await stack.core.clusters.report(mine[0].id))?.links));
    }
    await post(0, { signals: [sig('late-1', 'email', 'late@example.com'), sig('late-2', 'email', 'late@example.com')] });
    const incremental = await detect('auto');
    expect(incremental.mode).toBe('incremental');
    const full = await detect('full');
    if (process.env.REVIEW_DEBUG) {
      const all = await stack.core.clusters.currentClusters();
      const mine = all.filter((c) => c.members.some((m) => m.includes('#p0-')));
      console.log('AFTER', all.length, JSON.stringify(mine), JSON.stringify(await Promise.all(mine.map(async (c) => (await stack.core.clusters.report(c.id))?.links.length))));
    }
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });
});

describe('review: incremental equals full (more)', () => {
  it('a change recorded a moment after an incremental run began reading the log', async () => {
    const { stack, post, sig, detect } = await stackWith();
    await post(0, { signals: [sig('l-a', 'email', 'l@example.com'), sig('l-b', 'email', 'l@example.com')] });
    expect((await detect('auto')).mode).toBe('full');
    // The consumer has stored the signals and taken its storedAt; the change-log write lands a little
    // later (a throttled BatchWriteItem retried with backoff, a slow network).
    const changes = stack.core.changes;
    const record = changes.record.bind(changes);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const recording = new Promise<void>((resolve) => (entered = resolve));
    changes.record = async (entry) => {
      entered();
      await gate;
      return record(entry);
    };
    try {
      const platform = stack.credentials.platforms[0];
      const transport = new SignalsTransport({ baseUrl: stack.baseUrl, platform: platform.id, secret: platform.secret });
      await transport.send(JSON.stringify({ signals: [sig('n-a', 'email', 'n@example.com'), sig('n-b', 'email', 'n@example.com')] }));
      await recording;
      await new Promise((resolve) => setTimeout(resolve, 20));
      const during = await detect('auto');
      expect(during.mode).toBe('incremental');
    } finally {
      release();
      await stack.waitForDrain();
      changes.record = record;
    }
    expect((await detect('auto')).mode).toBe('incremental');
    const full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });

  it('a hub loses a holder (withdrawn) and stays a hub: the hubs listed', async () => {
    const { stack, post, sig, detect } = await stackWith({ hubThreshold: 3 });
    await post(0, { signals: ['h1', 'h2', 'h3', 'h4', 'h5'].map((account) => sig(account, 'device', 'hub-device')) });
    await post(0, { signals: [sig('q-a', 'email', 'q@example.com'), sig('q-b', 'email', 'q@example.com')] });
    const first = await detect('auto');
    expect(first.hubs).toEqual([expect.objectContaining({ type: 'device', accounts: 5 })]);
    await stack.core.signals.withdrawAccount(stack.credentials.platforms[0].id, 'h5', new Date().toISOString());
    const incremental = await detect('auto');
    expect(incremental.mode).toBe('incremental');
    const full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
    expect(full.hubs).toEqual([expect.objectContaining({ type: 'device', accounts: 4 })]);
    expect(incremental.hubs).toEqual(full.hubs);
  });

  it('a hub falls under the threshold (withdrawal) and links again', async () => {
    const { stack, post, sig, detect } = await stackWith({ hubThreshold: 3 });
    await post(0, { signals: ['d1', 'd2', 'd3', 'd4'].flatMap((account) => [sig(account, 'email', 'shared@example.com'), sig(account, 'phone', '+14155550199')]) });
    expect((await detect('auto')).counts!.clusters).toBe(0);
    await stack.core.signals.withdrawAccount(stack.credentials.platforms[0].id, 'd4', new Date().toISOString());
    const incremental = await detect('auto');
    expect(incremental.mode).toBe('incremental');
    const full = await detect('full');
    expect(full.counts).toMatchObject({ clusters: 1, clustersWritten: 0, clustersRemoved: 0 });
  });

  it('account facts alone change; a withdrawal and a re-send; a key retirement', async () => {
    const { stack, post, sig, detect } = await stackWith();
    const platform = stack.credentials.platforms[0].id;
    await post(0, {
      signals: [sig('f-a', 'email', 'f@example.com'), sig('f-b', 'email', 'f@example.com'), sig('w-a', 'phone', '+14155550111'), sig('w-b', 'phone', '+14155550111'), sig('w-c', 'phone', '+14155550111')],
      accounts: [{ account: 'f-a', createdAt: '2026-11-01T00:00:00Z' }],
    });
    expect((await detect('auto')).mode).toBe('full');
    await post(0, { signals: [], accounts: [{ account: 'f-a', createdAt: '2026-11-01T00:00:00Z', reports30d: 9, minorContacts7d: 4 }, { account: 'f-b', createdAt: '2026-11-01T00:01:00Z', reports30d: 3 }] });
    expect((await detect('auto')).mode).toBe('incremental');
    let full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
    await stack.core.signals.withdrawAccount(platform, 'w-c', new Date().toISOString());
    await new Promise((resolve) => setTimeout(resolve, 5));
    await post(0, { signals: [sig('w-c', 'phone', '+14155550111')] });
    expect((await detect('auto')).mode).toBe('incremental');
    full = await detect('full');
    expect(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
  });

});
