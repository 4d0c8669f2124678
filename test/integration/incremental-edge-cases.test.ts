/**
 * Cases, found in review, where an incremental run (auto) must give exactly a full run's answer on the
 * local stack: a verdict recorded again, a full run cut into tasks with a same-actor verdict, a change
 * recorded a moment after a run began reading the log, a hub that loses a holder and stays a hub, and a
 * withdrawn account sent again alone when the run reads its closure from the table (the account's old
 * pointer names a cluster it is no longer in).
 */
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANGE_SHARDS } from '../../lib/graph/change-log.js';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { IdentifierHasher } from '../../lib/client/hash.js';
import { SignalsTransport } from '../../lib/client/transport.js';
import { investigatorHeaders, startTestStack } from '../support/local-stack.js';

const hasher = new IdentifierHasher('test-consortium-key-0123456789');
type Stack = Awaited<ReturnType<typeof startTestStack>>;
const stacks: Stack[] = [];
afterEach(async () => {
  while (stacks.length) await stacks.pop()!.cleanup();
});

async function stackWith(options: Parameters<typeof startTestStack>[0] = {}) {
  const stack = await startTestStack(options);
  stacks.push(stack);
  const post = async (platformNo: number, body: Record<string, unknown>) => {
    const platform = stack.credentials.platforms[platformNo];
    const transport = new SignalsTransport({ baseUrl: stack.baseUrl, platform: platform.id, secret: platform.secret });
    const answer = await transport.send(JSON.stringify(body));
    expect(answer.rejected).toEqual([]);
    await stack.waitForDrain();
    return answer;
  };
  const sig = (account: string, type: string, raw: string, observedAt = '2026-11-20T00:00:00Z') => ({ account, type, value: hasher.hash(type as never, raw).value, observedAt });
  const detect = async (mode: 'auto' | 'full') => {
    const response = await fetch(`${stack.baseUrl}/v1/detect?mode=${mode}`, { method: 'POST', headers: investigatorHeaders(stack) });
    const run = await stack.waitForRun((await response.json()).runId);
    expect(run.status, run.error).toBe('succeeded');
    return run;
  };
  const verdict = async (a: string, b: string, kind: 'same-actor' | 'not-same-actor') => {
    const platform = stack.credentials.platforms[0].id;
    const response = await fetch(`${stack.baseUrl}/v1/verdicts`, {
      method: 'POST',
      headers: { ...investigatorHeaders(stack), 'content-type': 'application/json' },
      body: JSON.stringify({ a: { platform, account: a }, b: { platform, account: b }, kind }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
  };
  return { stack, post, sig, detect, verdict };
}

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

  it('a withdrawn account sent again alone, in a run that reads its closure from the table: the cluster it left stays', async () => {
    const { stack, post, sig, detect } = await stackWith();
    const platform = stack.credentials.platforms[0].id;
    await post(0, { signals: ['w-a', 'w-b', 'w-c'].flatMap((account) => [sig(account, 'email', 'w@example.com'), sig(account, 'phone', '+14155550123')]) });
    expect((await detect('auto')).counts!.clusters).toBe(1);
    await stack.core.signals.withdrawAccount(platform, 'w-a', new Date().toISOString());
    // The cluster goes on as w-b and w-c under its id; w-a's pointer to it stays (pointers are not deleted on leaving).
    const after = await detect('auto');
    expect(after.mode).toBe('incremental');
    // As long after: the change log's items so far are past the next run's window (it re-reads only the
    // 2 minutes before the previous run's start), and the previous run's graph is gone (a container
    // started since), so the next run reads its few changes' closure from the table.
    const db = dynamoDocumentClient({ dynamodb: stack.servers.dynamodbEndpoint });
    const itemsOf = async (pk: string, prefix = '') =>
      (await db.send(new QueryCommand({ TableName: 'crosslink', KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': pk, ':p': prefix } }))).Items ?? [];
    const gone = [...(await itemsOf(`RUN#${after.runId}`, 'GRAPH#'))];
    for (let shard = 0; shard < CHANGE_SHARDS; shard++) gone.push(...(await itemsOf(`CHANGED#${shard}`)));
    expect(gone.length).toBeGreaterThan(2);
    for (const item of gone) await db.send(new DeleteCommand({ TableName: 'crosslink', Key: { pk: item.pk, sk: item.sk } }));
    stack.core.runner.forgetKeptGraph();
    // w-a sent again after its withdrawal, with nothing in common with the others.
    await post(0, { signals: [sig('w-a', 'email', 'w-a-again@example.com')] });
    const closureRun = await detect('auto');
    expect(closureRun.mode).toBe('incremental');
    expect(closureRun.counts).toMatchObject({ changedAccounts: 1, accounts: 1 });
    expect(closureRun.timingsMs).not.toHaveProperty('load');
    // The cluster w-a's pointer still names is not one this run saw dissolve (before the fix it was marked removed).
    expect(closureRun.counts!.clustersRemoved).toBe(0);
    const full = await detect('full');
    expect(full.counts).toMatchObject({ clusters: 1, clustersWritten: 0, clustersRemoved: 0 });
  });
});
