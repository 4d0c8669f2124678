/**
 * A local stack per test, driven as platforms and investigators drive it (signals posted, detection
 * asked for over HTTP), for the edge cases of incremental runs. Call {@link cleanUpStacks} after each test.
 */
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { IdentifierHasher } from '../../lib/client/hash.js';
import { SignalsTransport } from '../../lib/client/transport.js';
import { CHANGE_SHARDS } from '../../lib/graph/change-log.js';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { investigatorHeaders, startTestStack } from './local-stack.js';

const hasher = new IdentifierHasher('test-consortium-key-0123456789');
type Stack = Awaited<ReturnType<typeof startTestStack>>;
const stacks: Stack[] = [];

/** Stops every stack {@link stackWith} started (for `afterEach`). */
export async function cleanUpStacks(): Promise<void> {
  while (stacks.length) await stacks.pop()!.cleanup();
}

export async function stackWith(options: Parameters<typeof startTestStack>[0] = {}) {
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
  /**
   * As long after `lastRunId`, in a container started since: the change log's items so far are past the
   * next run's window (it re-reads only the 2 minutes before the previous run's start) and that run's
   * graph is gone, so the next run with few changes reads their closure from the table.
   */
  const forceClosure = async (lastRunId: string) => {
    const db = dynamoDocumentClient({ dynamodb: stack.servers.dynamodbEndpoint });
    const itemsOf = async (pk: string, prefix = '') =>
      (await db.send(new QueryCommand({ TableName: 'crosslink', KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': pk, ':p': prefix } }))).Items ?? [];
    // (A run that itself read a closure from the table kept no graph.)
    const gone = [...(await itemsOf(`RUN#${lastRunId}`, 'GRAPH#'))];
    for (let shard = 0; shard < CHANGE_SHARDS; shard++) gone.push(...(await itemsOf(`CHANGED#${shard}`)));
    for (const item of gone) await db.send(new DeleteCommand({ TableName: 'crosslink', Key: { pk: item.pk, sk: item.sk } }));
    stack.core.runner.forgetKeptGraph();
  };
  /** An auto run that took the closure-from-table path (no graph read whole, no kept graph). */
  const closureRun = async () => {
    const run = await detect('auto');
    expect(run.mode).toBe('incremental');
    expect(run.timingsMs).not.toHaveProperty('load');
    expect(run.counts).not.toHaveProperty('closureAccounts');
    return run;
  };
  /** A full run, which must change nothing when the runs before it gave a full run's answer. */
  const fullChangesNothing = async () => {
    const full = await detect('full');
    expect.soft(full.counts).toMatchObject({ clustersWritten: 0, clustersRemoved: 0 });
    return full;
  };
  return { stack, post, sig, detect, verdict, forceClosure, closureRun, fullChangesNothing };
}
