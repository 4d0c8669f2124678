/**
 * An account lookup reveals a cluster as much as opening its report does, so it is audited like one
 * (found in review: `GET /v1/accounts/{platform}/{account}` answered the whole report, members and
 * evidence, and left no trace in the cluster's audit log, while `GET /v1/clusters/{id}` was audited).
 * A platform's lookup that was told about the cluster is a disclosure of it, recorded the same way.
 * So are the console's other reads that show members: the cluster context and an evidence path (found
 * in review; `GET /v1/clusters/{id}/review`, status, assignee and notes, shows no member and is not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aSignal, hashed, postSigned } from '../support/factories.js';
import { investigatorHeaders, startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let clusterId: string;
const platformOf = (id: string) => stack.credentials.platforms.find((p) => p.id === id)!;

interface AuditEntry {
  actor: string;
  action: string;
  detail: string;
}

async function auditLog(): Promise<AuditEntry[]> {
  const response = await fetch(`${stack.baseUrl}/v1/clusters/${clusterId}/audit`, { headers: investigatorHeaders(stack) });
  expect(response.status).toBe(200);
  return (await response.json()).entries;
}

beforeAll(async () => {
  stack = await startTestStack({ releaseThreshold: 2 });
  const card = (account: string) => aSignal({ account, type: 'payment', value: hashed('shared card') });
  await postSigned(stack.baseUrl, platformOf('chatapp'), JSON.stringify({ signals: [card('la-1')] }));
  await postSigned(stack.baseUrl, platformOf('photoshare'), JSON.stringify({ signals: [card('la-2')] }));
  await stack.waitForDrain();
  const { runId } = await (await fetch(`${stack.baseUrl}/v1/detect`, { method: 'POST', headers: investigatorHeaders(stack) })).json();
  await stack.waitForRun(runId);
  const answer = await (await fetch(`${stack.baseUrl}/v1/accounts/chatapp/la-1`, { headers: { ...investigatorHeaders(stack), 'x-crosslink-reviewer': 'Dana' } })).json();
  clusterId = answer.cluster.id;
});
afterAll(async () => stack?.cleanup());

describe('account lookups in the audit log', () => {
  it("records an investigator's account lookup as a view of the cluster, naming the account looked up", async () => {
    expect(await auditLog()).toContainEqual({ at: expect.any(String), actor: 'Dana (investigator-token)', action: 'viewed', detail: 'looked up chatapp/la-1 and opened its cluster report' });
  });

  it('records nothing for a lookup of an account in no cluster', async () => {
    const before = await auditLog();
    const response = await fetch(`${stack.baseUrl}/v1/accounts/chatapp/no-such-account`, { headers: investigatorHeaders(stack) });
    expect((await response.json()).cluster).toBeNull();
    expect(await auditLog()).toEqual(before);
  });

  it("records a platform's lookup that released the cluster to it, with what it was told", async () => {
    const response = await postSigned(stack.baseUrl, platformOf('photoshare'), '', {}, { method: 'GET', path: '/v1/lookup/la-2' });
    expect(await response.json()).toMatchObject({ inCrossPlatformCluster: true });
    expect(await auditLog()).toContainEqual({
      at: expect.any(String),
      actor: 'platform photoshare',
      action: 'viewed',
      detail: 'looked up its account photoshare/la-2 (GET /v1/lookup): told the risk, size and platform count, and its 1 own account in the cluster',
    });
  });

  it("records nothing for a platform's lookup that was told nothing", async () => {
    const before = await auditLog();
    // la-2 is photoshare's: chatapp asking about it learns nothing.
    const response = await postSigned(stack.baseUrl, platformOf('chatapp'), '', {}, { method: 'GET', path: '/v1/lookup/la-2' });
    expect(await response.json()).toEqual({ account: 'la-2', inCrossPlatformCluster: false, cluster: null });
    expect(await auditLog()).toEqual(before);
  });
});

describe("reads of a cluster's members in the audit log", () => {
  const asDana = () => ({ ...investigatorHeaders(stack), 'x-crosslink-reviewer': 'Dana' });

  it('records the cluster context (member facts, timeline, hubs) as a view of the cluster', async () => {
    const response = await fetch(`${stack.baseUrl}/v1/clusters/${clusterId}/context`, { headers: asDana() });
    expect(response.status).toBe(200);
    expect(await auditLog()).toContainEqual({ at: expect.any(String), actor: 'Dana (investigator-token)', action: 'viewed', detail: 'opened the cluster context (member facts, timeline and hubs)' });
  });

  it('records an evidence path as a view of the cluster, naming its two ends', async () => {
    const response = await fetch(`${stack.baseUrl}/v1/clusters/${clusterId}/path?from=chatapp/la-1&to=photoshare/la-2`, { headers: asDana() });
    expect(response.status).toBe(200);
    expect(await auditLog()).toContainEqual({ at: expect.any(String), actor: 'Dana (investigator-token)', action: 'viewed', detail: 'opened the evidence path from chatapp/la-1 to photoshare/la-2' });
  });

  it('records nothing for a path refused (an end not in the cluster) or a cluster that does not exist', async () => {
    const before = await auditLog();
    expect((await fetch(`${stack.baseUrl}/v1/clusters/${clusterId}/path?from=chatapp/la-1&to=chatapp/no-such-account`, { headers: asDana() })).status).toBe(400);
    expect((await fetch(`${stack.baseUrl}/v1/clusters/c-nope/context`, { headers: asDana() })).status).toBe(404);
    expect(await auditLog()).toEqual(before);
  });
});
