/**
 * An account lookup reveals a cluster as much as opening its report does, so it is audited like one
 * (found in review: `GET /v1/accounts/{platform}/{account}` answered the whole report, members and
 * evidence, and left no trace in the cluster's audit log, while `GET /v1/clusters/{id}` was audited).
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
});
