/**
 * One honest path through the whole system: signed signals over HTTP -> queue -> consumer -> DynamoDB
 * -> detection -> cluster report over the investigator API, on the local stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashed } from '../support/factories.js';
import { ACTOR, NAT, OTHER_PAIR, postRows, type Row } from '../support/scenario.js';
import { investigatorHeaders, startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;

const actor = ACTOR;
const otherPerson = OTHER_PAIR;
const nat = NAT;
const post = (rows: Row[], accounts: Record<string, unknown[]> = {}) => postRows(stack, rows, accounts);

async function getJson(path: string) {
  const response = await fetch(`${stack.baseUrl}${path}`, { headers: investigatorHeaders(stack) });
  expect(response.status, path).toBe(200);
  return response.json();
}

beforeAll(async () => {
  stack = await startTestStack({ hubThreshold: 50 });
  await post([...actor, ...otherPerson, ...nat], {
    chatapp: [
      { account: 'a-1', createdAt: '2026-10-01T10:00:00Z', minorContacts7d: 14, reports30d: 2 },
      { account: 'a-2', createdAt: '2026-10-01T11:00:00Z', minorContacts7d: 9 },
    ],
  });
  await stack.waitForDrain();
});
afterAll(async () => stack?.cleanup());

describe('from signed signals to a cluster report', () => {
  let runId: string;

  it('runs detection on demand and reports its counts', async () => {
    const response = await fetch(`${stack.baseUrl}/v1/detect`, { method: 'POST', headers: investigatorHeaders(stack) });
    expect(response.status).toBe(202);
    runId = (await response.json()).runId;
    await stack.waitForRun(runId);
    const run = await getJson(`/v1/runs/${runId}`);
    expect(run.status).toBe('succeeded');
    expect(run.hubsExcluded).toBe(1);
    expect(run.hubs[0]).toMatchObject({ type: 'ip', value: hashed('carrier-nat'), accounts: 82 });
    expect(run.counts.clusters).toBe(2);
  });

  it('lists the actor first, whole, across three platforms, and the other person apart', async () => {
    const { clusters } = await getJson('/v1/clusters');
    expect(clusters).toHaveLength(2);
    expect(clusters[0]).toMatchObject({ size: 5, platforms: ['chatapp', 'gamehub', 'photoshare'], status: 'new' });
    expect(clusters[1]).toMatchObject({ size: 2, platforms: ['chatapp', 'gamehub'] });
    expect(clusters[0].risk).toBeGreaterThan(clusters[1].risk);
  });

  it('filters by the number of platforms', async () => {
    const { clusters } = await getJson('/v1/clusters?minPlatforms=3');
    expect(clusters.map((c: { size: number }) => c.size)).toEqual([5]);
  });

  it('pages with a cursor without repeating or skipping', async () => {
    const first = await getJson('/v1/clusters?limit=1');
    expect(first.clusters).toHaveLength(1);
    expect(first.next).toEqual(expect.any(String));
    const second = await getJson(`/v1/clusters?limit=1&cursor=${first.next}`);
    expect(second.clusters).toHaveLength(1);
    expect(second.next).toBeNull();
    expect(second.clusters[0].id).not.toBe(first.clusters[0].id);
  });

  it('reports members, links with their signal types and weights, and risk with reasons', async () => {
    const { clusters } = await getJson('/v1/clusters?limit=1');
    const report = await getJson(`/v1/clusters/${clusters[0].id}`);
    expect(report.members.map((m: { platform: string; account: string }) => `${m.platform}/${m.account}`).sort()).toEqual(
      ['chatapp/a-1', 'chatapp/a-2', 'gamehub/g-3', 'gamehub/g-4', 'photoshare/p-7'],
    );
    const cardLink = report.links.find(
      (link: { a: { account: string }; b: { account: string } }) => [link.a.account, link.b.account].sort().join() === 'g-3,p-7',
    );
    expect(cardLink.types).toEqual(['payment']);
    expect(cardLink.weight).toBeGreaterThan(0);
    // The excluded NAT address links nobody.
    expect(report.links.every((link: { types: string[] }) => !link.types.includes('ip'))).toBe(true);
    const factors = report.riskReasons.map((reason: { factor: string }) => reason.factor);
    expect(factors).toEqual(expect.arrayContaining(['platforms', 'profiles', 'minor-contacts']));
  });

  it("answers an account's cluster, and null for an account in none", async () => {
    const { clusters } = await getJson('/v1/clusters?limit=1');
    expect((await getJson('/v1/accounts/photoshare/p-7')).cluster.id).toBe(clusters[0].id);
    expect((await getJson('/v1/accounts/friendnet/nat-3')).cluster).toBeNull();
  });

  it('reports status with counts and the last run, and counts the stored signals only when asked', async () => {
    const sent = actor.length + otherPerson.length + nat.length;
    const status = await getJson('/v1/status');
    expect(status.signalsAccepted).toBe(sent);
    expect(status).not.toHaveProperty('signalsStored');
    expect(status.lastRun.counts.graphMemberships).toBe(sent);
    expect((await getJson('/v1/status?count=exact')).signalsStored).toBe(sent);
    expect(status.queue).toEqual({ waiting: 0, inFlight: 0, deadLetter: 0 });
    expect(status.lastRun.runId).toBe(runId);
  });
});

describe('detection again', () => {
  async function detect() {
    const response = await fetch(`${stack.baseUrl}/v1/detect`, { method: 'POST', headers: investigatorHeaders(stack) });
    return stack.waitForRun((await response.json()).runId);
  }

  it('keeps cluster ids and rewrites nothing when nothing changed', async () => {
    const before = (await getJson('/v1/clusters')).clusters;
    const run = await detect();
    expect(run).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    expect(run.counts).toMatchObject({ changedAccounts: 0, clustersWritten: 0, clustersRemoved: 0 });
    expect((await getJson('/v1/clusters')).clusters).toEqual(before);
  });

  it('merges two clusters under one of their ids when new evidence joins them, and records the merge', async () => {
    const before = (await getJson('/v1/clusters')).clusters.map((c: { id: string }) => c.id);
    // The actor's burner phone and card turn up on the other person's account.
    await post([
      { platform: 'gamehub', account: 'b-9', type: 'phone', label: 'actor-burner' },
      { platform: 'gamehub', account: 'b-9', type: 'payment', label: 'actor-card' },
    ]);
    await stack.waitForDrain();
    const run = await detect();
    const { clusters } = await getJson('/v1/clusters');
    expect(clusters).toHaveLength(1);
    const report = await getJson(`/v1/clusters/${clusters[0].id}`);
    const members = report.members.map((m: { account: string }) => m.account);
    expect(members).toEqual(expect.arrayContaining(['a-1', 'a-2', 'p-7', 'g-3', 'g-4', 'b-9']));
    expect(before).toContain(clusters[0].id);
    // The run as the API tells it: its merges are kept beside its record.
    const recorded = await getJson(`/v1/runs/${run.runId}`);
    expect(recorded.lineage.merges).toEqual([{ into: clusters[0].id, from: [...before].sort() }]);
    expect(recorded.counts).toMatchObject({ clusterMerges: 1 });
    const gone = before.find((id: string) => id !== clusters[0].id);
    // The dissolved cluster's report is kept whole for the record, marked removed, out of the ranking.
    const dissolved = await getJson(`/v1/clusters/${gone}`);
    expect(dissolved).toMatchObject({ id: gone, removedInRun: run.runId, removedAt: expect.any(String) });
    expect(dissolved.members.length).toBeGreaterThanOrEqual(2);
    expect(dissolved.links.length).toBeGreaterThan(0);
    expect(clusters.map((c: { id: string }) => c.id)).not.toContain(gone);
  });
});
