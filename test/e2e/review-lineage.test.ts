/**
 * Review state when detection merges clusters, on the local stack: the merged cluster keeps the id of the
 * closer previous cluster (lib/detect/stable-ids.ts) and with it that cluster's review; the absorbed
 * cluster's review stays on record under its own id. A dismissal covered the accounts it was given, so a
 * merge never leaves the merged cluster dismissed, and a status some part had reached is not lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack } from '../support/local-stack.js';
import { call, detect, postRows, type Row, type TestStack } from '../support/scenario.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ hubThreshold: 50 });
}, 120_000);
afterAll(async () => stack?.cleanup());

/** `accounts` (platform/account) sharing one identifier of `type`. */
const group = (accounts: string[], type: Row['type'], label: string): Row[] =>
  accounts.map((ref) => ({ platform: ref.split('/')[0], account: ref.split('/')[1], type, label }));
const clusterOf = async (ref: string): Promise<string> => (await call(stack, 'GET', `/v1/accounts/${ref}`)).body.cluster.id;
const auditOf = async (id: string): Promise<string[]> => (await call(stack, 'GET', `/v1/clusters/${id}/audit`)).body.entries.map((e: { action: string; detail: string }) => `${e.action}: ${e.detail}`);

/** Two clusters, the first larger (its id survives a merge), detected; then `bridge` links them and detection runs again. */
async function mergeTwo(name: string, review: (larger: string, smaller: string) => Promise<void>): Promise<{ larger: string; smaller: string; merged: string }> {
  const larger = [`chatapp/${name}-l1`, `gamehub/${name}-l2`, `photoshare/${name}-l3`];
  const smaller = [`chatapp/${name}-s1`, `gamehub/${name}-s2`];
  await postRows(stack, [...group(larger, 'device', `${name}-larger`), ...group(smaller, 'email', `${name}-smaller`)], {
    chatapp: [{ account: `${name}-s1`, minorContacts7d: 30, reports30d: 4 }],
  });
  await stack.waitForDrain();
  await detect(stack);
  const ids = { larger: await clusterOf(larger[0]), smaller: await clusterOf(smaller[0]) };
  expect(ids.larger).not.toBe(ids.smaller);
  await review(ids.larger, ids.smaller);
  await postRows(stack, [...group([larger[0], smaller[0]], 'phone', `${name}-bridge`), ...group([larger[1], smaller[1]], 'payment', `${name}-bridge`)]);
  await stack.waitForDrain();
  await detect(stack);
  const merged = await clusterOf(smaller[0]);
  expect(await clusterOf(larger[0])).toBe(merged);
  return { ...ids, merged };
}

describe('a merge of reviewed clusters', () => {
  it('records the merge when only the absorbed cluster has a note, and leaves a merge nobody attended to alone', async () => {
    const { smaller, merged } = await mergeTwo('nt', async (_larger, smaller) => {
      await call(stack, 'POST', `/v1/clusters/${smaller}/notes`, { text: 'same burner phone as case 17' });
    });
    expect(await auditOf(merged)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^merged: merged with ${smaller} \\(new, 1 note\\) by run `))]));
    const quiet = await mergeTwo('qt', async () => undefined);
    expect(await auditOf(quiet.merged)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^merged:/)]));
  });

  it('reopens a dismissed cluster that absorbs another, so that the absorbed accounts stay in the open queue', async () => {
    const { larger, smaller, merged } = await mergeTwo('dm', async (larger) => {
      await call(stack, 'PATCH', `/v1/clusters/${larger}/review`, { status: 'dismissed', assignee: 'dana' }, { 'x-crosslink-reviewer': 'Dana' });
      await call(stack, 'POST', `/v1/clusters/${larger}/notes`, { text: 'a household: one family, one tablet' });
    });
    expect(merged).toBe(larger);

    const review = (await call(stack, 'GET', `/v1/clusters/${merged}/review`)).body;
    expect(review).toMatchObject({ status: 'new', assignee: 'dana' });
    expect(review.notes.map((note: { text: string }) => note.text)).toEqual(['a household: one family, one tablet']);
    const open: string[] = (await call(stack, 'GET', '/v1/clusters?status=open&limit=500')).body.clusters.map((c: { id: string }) => c.id);
    expect(open).toContain(merged);
    expect(await auditOf(merged)).toEqual(expect.arrayContaining([`merged: merged with ${smaller} (new) by run ${(await call(stack, 'GET', `/v1/clusters/${merged}`)).body.runId}; status dismissed -> new: the dismissal covered the accounts before the merge`]));
    expect(await auditOf(smaller)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^merged: merged into ${merged} by run `))]));
  });

  it('carries the furthest status and the assignee of an absorbed cluster, and keeps its notes on record', async () => {
    const { larger, smaller, merged } = await mergeTwo('esc', async (_larger, smaller) => {
      await call(stack, 'PATCH', `/v1/clusters/${smaller}/review`, { status: 'escalated', assignee: 'sam' }, { 'x-crosslink-reviewer': 'Sam' });
      await call(stack, 'POST', `/v1/clusters/${smaller}/notes`, { text: 'contacts minors on two platforms' });
    });
    expect(merged).toBe(larger);

    expect((await call(stack, 'GET', `/v1/clusters/${merged}/review`)).body).toMatchObject({ status: 'escalated', assignee: 'sam', notes: [] });
    const absorbed = (await call(stack, 'GET', `/v1/clusters/${smaller}/review`)).body;
    expect(absorbed).toMatchObject({ status: 'escalated', assignee: 'sam' });
    expect(absorbed.notes.map((note: { text: string }) => note.text)).toEqual(['contacts minors on two platforms']);
    const escalated: string[] = (await call(stack, 'GET', '/v1/clusters?status=escalated')).body.clusters.map((c: { id: string }) => c.id);
    expect(escalated).toContain(merged);
    expect(await auditOf(merged)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^merged: merged with ${smaller} \\(escalated, assigned to sam, 1 note\\) by run \\S+; status new -> escalated, assigned to sam$`))]),
    );
  });
});

describe('a dismissed cluster that grows', () => {
  it('is new again when accounts join it, so that they are in the open queue', async () => {
    await postRows(stack, group(['chatapp/gr-1', 'gamehub/gr-2'], 'device', 'gr-tablet'));
    await stack.waitForDrain();
    await detect(stack);
    const id = await clusterOf('chatapp/gr-1');
    await call(stack, 'PATCH', `/v1/clusters/${id}/review`, { status: 'dismissed' }, { 'x-crosslink-reviewer': 'Dana' });
    // A new account, in contact with minors, shares the tablet and a phone with the dismissed pair.
    await postRows(stack, [...group(['chatapp/gr-1', 'photoshare/gr-3'], 'phone', 'gr-phone'), ...group(['photoshare/gr-3'], 'device', 'gr-tablet')], {
      photoshare: [{ account: 'gr-3', minorContacts7d: 25 }],
    });
    await stack.waitForDrain();
    const runId = await detect(stack);
    expect(await clusterOf('photoshare/gr-3')).toBe(id);

    expect((await call(stack, 'GET', `/v1/clusters/${id}/review`)).body.status).toBe('new');
    const open: string[] = (await call(stack, 'GET', '/v1/clusters?status=open&limit=500')).body.clusters.map((c: { id: string }) => c.id);
    expect(open).toContain(id);
    expect(await auditOf(id)).toContain(`status-changed: status dismissed -> new: 1 account joined by run ${runId} (photoshare/gr-3); the dismissal covered the accounts before`);
  });

  it('stays dismissed when its evidence changes but no account joins it', async () => {
    await postRows(stack, group(['chatapp/gs-1', 'gamehub/gs-2', 'photoshare/gs-3'], 'device', 'gs-tablet'));
    await stack.waitForDrain();
    await detect(stack);
    const id = await clusterOf('chatapp/gs-1');
    await call(stack, 'PATCH', `/v1/clusters/${id}/review`, { status: 'dismissed' });
    await postRows(stack, group(['chatapp/gs-1', 'gamehub/gs-2'], 'email', 'gs-email'));
    await stack.waitForDrain();
    await detect(stack);
    expect(await clusterOf('gamehub/gs-2')).toBe(id);
    expect((await call(stack, 'GET', `/v1/clusters/${id}/review`)).body.status).toBe('dismissed');
  });
});
