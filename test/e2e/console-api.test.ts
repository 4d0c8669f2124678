/**
 * The console's API on the local stack: the filtered queue and its counts, review state and notes
 * (validated, audited, surviving re-detection), verdicts, evidence paths, cluster context and exports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashed, postSigned } from '../support/factories.js';
import { startTestStack } from '../support/local-stack.js';
import { call, detect, postRows, seedScenario, type TestStack } from '../support/scenario.js';

let stack: TestStack;
let actorCluster: string;
let pairCluster: string;

beforeAll(async () => {
  stack = await startTestStack({ hubThreshold: 50 });
  await seedScenario(stack);
  const { body } = await call(stack, 'GET', '/v1/clusters');
  [actorCluster, pairCluster] = body.clusters.map((c: { id: string }) => c.id);
});
afterAll(async () => stack?.cleanup());

describe('review state', () => {
  it('rejects an unknown status with a 400 that lists the valid ones', async () => {
    const { status, body } = await call(stack, 'PATCH', `/v1/clusters/${actorCluster}/review`, { status: 'closed' });
    expect(status).toBe(400);
    expect(body.error).toMatch(/status must be one of new, in-review, escalated, dismissed/);
  });

  it('rejects a change that changes nothing, and fields that cannot be changed', async () => {
    expect((await call(stack, 'PATCH', `/v1/clusters/${actorCluster}/review`, {})).body.error).toMatch(/send status and\/or assignee/);
    expect((await call(stack, 'PATCH', `/v1/clusters/${actorCluster}/review`, { risk: 0 })).status).toBe(400);
    expect((await call(stack, 'PATCH', `/v1/clusters/${actorCluster}/review`, '{not json')).body.error).toMatch(/not valid JSON/);
  });

  it('answers 404 for a cluster that does not exist', async () => {
    const { status, body } = await call(stack, 'PATCH', '/v1/clusters/c-nope/review', { status: 'escalated' });
    expect(status).toBe(404);
    expect(body.error).toMatch(/no cluster c-nope/);
    expect((await call(stack, 'GET', '/v1/clusters/c-nope/context')).status).toBe(404);
    expect((await call(stack, 'POST', '/v1/clusters/c-nope/notes', { text: 'x' })).status).toBe(404);
  });

  it('changes status and assignee, shows them in the queue, and writes who did it to the audit log', async () => {
    const { status, body } = await call(stack, 'PATCH', `/v1/clusters/${actorCluster}/review`, { status: 'escalated', assignee: 'dana' }, { 'x-crosslink-reviewer': 'Dana K' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ clusterId: actorCluster, status: 'escalated', assignee: 'dana', updatedBy: 'Dana K (investigator-token)' });
    const queue = await call(stack, 'GET', '/v1/clusters?status=any');
    expect(queue.body.clusters[0]).toMatchObject({ id: actorCluster, status: 'escalated', assignee: 'dana' });
    const audit = await call(stack, 'GET', `/v1/clusters/${actorCluster}/audit`);
    expect(audit.body.entries.map((e: { action: string; detail: string; actor: string }) => [e.action, e.detail, e.actor])).toEqual(
      expect.arrayContaining([
        ['status-changed', 'status new -> escalated', 'Dana K (investigator-token)'],
        ['assigned', 'assigned to dana', 'Dana K (investigator-token)'],
      ]),
    );
  });

  it('keeps both of two changes to different fields made at once', async () => {
    await Promise.all([
      call(stack, 'PATCH', `/v1/clusters/${pairCluster}/review`, { status: 'in-review' }),
      call(stack, 'PATCH', `/v1/clusters/${pairCluster}/review`, { assignee: 'sam' }),
    ]);
    expect((await call(stack, 'GET', `/v1/clusters/${pairCluster}/review`)).body).toMatchObject({ status: 'in-review', assignee: 'sam' });
    await call(stack, 'PATCH', `/v1/clusters/${pairCluster}/review`, { status: 'new', assignee: null });
  });

  it('adds notes (oldest first), refuses an empty one, and audits each', async () => {
    expect((await call(stack, 'POST', `/v1/clusters/${actorCluster}/notes`, { text: '   ' })).body.error).toMatch(/text must not be empty/);
    expect((await call(stack, 'POST', `/v1/clusters/${actorCluster}/notes`, { text: 'first look: same device on three apps' })).status).toBe(201);
    expect((await call(stack, 'POST', `/v1/clusters/${actorCluster}/notes`, { text: 'asked chatapp for more' })).status).toBe(201);
    const review = await call(stack, 'GET', `/v1/clusters/${actorCluster}/review`);
    expect(review.body.notes.map((n: { text: string }) => n.text)).toEqual(['first look: same device on three apps', 'asked chatapp for more']);
    const audit = await call(stack, 'GET', `/v1/clusters/${actorCluster}/audit`);
    expect(audit.body.entries.filter((e: { action: string }) => e.action === 'note-added')).toHaveLength(2);
  });

  it('audits each read of the report, and nothing for a 404', async () => {
    await call(stack, 'GET', `/v1/clusters/${pairCluster}`);
    await call(stack, 'GET', '/v1/clusters/c-nope');
    const audit = await call(stack, 'GET', `/v1/clusters/${pairCluster}/audit`);
    expect(audit.body.entries.filter((e: { action: string }) => e.action === 'viewed')).toEqual([expect.objectContaining({ actor: 'investigator-token', detail: 'opened the cluster report' })]);
  });

  it('pages the audit log newest first', async () => {
    const first = await call(stack, 'GET', `/v1/clusters/${actorCluster}/audit?limit=2`);
    expect(first.body.entries).toHaveLength(2);
    const second = await call(stack, 'GET', `/v1/clusters/${actorCluster}/audit?limit=2&cursor=${first.body.next}`);
    expect(second.body.entries[0].at <= first.body.entries[1].at).toBe(true);
  });

  it('refuses platform credentials', async () => {
    const platform = stack.credentials.platforms[0];
    const response = await postSigned(stack.baseUrl, platform, '', {}, { method: 'GET', path: `/v1/clusters/${actorCluster}/review` });
    expect([401, 403]).toContain(response.status);
  });
});

describe('the queue', () => {
  type Row = { id: string; size: number; risk: number; platforms: string[] };
  const everything = async (): Promise<Row[]> => (await call(stack, 'GET', '/v1/clusters?status=any&limit=500')).body.clusters;
  const ids = async (query: string) => (await call(stack, 'GET', `/v1/clusters?${query}`)).body.clusters.map((c: { id: string }) => c.id);

  it('filters by status and assignee, and counts each status', async () => {
    const all = await everything();
    expect(await ids('status=escalated')).toEqual([actorCluster]);
    expect(await ids('status=new')).toEqual(all.map((c) => c.id).filter((id) => id !== actorCluster));
    expect(await ids('status=dismissed')).toEqual([]);
    expect(await ids('assignee=dana')).toEqual([actorCluster]);
    const counts = await call(stack, 'GET', '/v1/queue/counts');
    expect(counts.body).toEqual({
      total: all.length,
      crossPlatform: all.filter((c) => c.platforms.length >= 2).length,
      byStatus: { new: all.length - 1, 'in-review': 0, escalated: 1, dismissed: 0 },
    });
  });

  it('filters by size, risk, platform and update time, keeping risk order', async () => {
    const all = await everything();
    const top = all[0];
    expect(await ids(`minSize=${top.size}`)).toEqual(all.filter((c) => c.size >= top.size).map((c) => c.id));
    expect(await ids('maxSize=2')).toEqual(all.filter((c) => c.size <= 2).map((c) => c.id));
    expect(await ids(`platform=${top.platforms[0]}`)).toEqual(all.filter((c) => c.platforms.includes(top.platforms[0])).map((c) => c.id));
    expect(await ids(`minRisk=${top.risk}`)).toEqual(all.filter((c) => c.risk >= top.risk).map((c) => c.id));
    expect(await ids('updatedSince=2999-01-01T00:00:00Z')).toEqual([]);
    expect(await ids('updatedSince=2000-01-01T00:00:00Z')).toEqual(all.map((c) => c.id));
  });

  it('pages filtered results with its own cursor, without repeating or skipping, and keeps the plain list as it was', async () => {
    const all = await everything();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { clusters: Row[]; next: string | null } } = await call(stack, 'GET', `/v1/clusters?status=any&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.clusters.map((c) => c.id));
      cursor = page.body.next;
      if (cursor) expect(cursor).toMatch(/^q\./);
    } while (cursor);
    expect(seen).toEqual(all.map((c) => c.id));
    const plain = await call(stack, 'GET', '/v1/clusters?limit=1');
    expect(plain.body.next).not.toMatch(/^q\./);
  });

  it('answers 400 for filters it cannot use', async () => {
    expect((await call(stack, 'GET', '/v1/clusters?status=closed')).body.error).toMatch(/status must be any, open/);
    expect((await call(stack, 'GET', '/v1/clusters?minRisk=120')).body.error).toMatch(/minRisk must be at most 100/);
    expect((await call(stack, 'GET', '/v1/clusters?updatedSince=yesterday')).body.error).toMatch(/updatedSince must be an ISO-8601/);
    expect((await call(stack, 'GET', '/v1/clusters?status=any&cursor=garbage')).status).toBe(400);
  });
});

describe('evidence, context and verdicts', () => {
  type Ref = { platform: string; account: string };
  const label = (ref: Ref) => `${ref.platform}/${ref.account}`;

  it('answers a chain of the report\'s links between two members, link by link', async () => {
    const report = (await call(stack, 'GET', `/v1/clusters/${actorCluster}`)).body;
    const [from, to] = [report.members[0], report.members[report.members.length - 1]];
    const { status, body } = await call(stack, 'GET', `/v1/clusters/${actorCluster}/path?from=${label(from)}&to=${label(to)}`);
    expect(status).toBe(200);
    expect(label(body.hops[0].from)).toBe(label(from));
    expect(label(body.hops[body.hops.length - 1].to)).toBe(label(to));
    for (const hop of body.hops) {
      expect([label(hop.link.a), label(hop.link.b)].sort()).toEqual([label(hop.from), label(hop.to)].sort());
      expect(hop.link.evidence.length).toBeGreaterThan(0);
    }
    expect((await call(stack, 'GET', `/v1/clusters/${actorCluster}/path?from=chatapp/b-1&to=${label(to)}`)).body.error).toMatch(/has no link in this cluster/);
    expect((await call(stack, 'GET', `/v1/clusters/${actorCluster}/path?from=a-1&to=${label(to)}`)).body.error).toMatch(/platform\/account/);
  });

  it('gives member facts, the timeline, and the hubs that touch the cluster', async () => {
    const report = (await call(stack, 'GET', `/v1/clusters/${actorCluster}`)).body;
    const { body } = await call(stack, 'GET', `/v1/clusters/${actorCluster}/context`);
    expect(body.members.find((m: Ref) => m.account === 'a-1')).toMatchObject({ createdAt: '2026-10-01T10:00:00Z', minorContacts7d: 14, reports30d: 2 });
    expect(body.observations.length).toBeGreaterThanOrEqual(report.members.length);
    expect(body.observations.map((o: { observedAt: string }) => o.observedAt)).toEqual(body.observations.map((o: { observedAt: string }) => o.observedAt).sort());
    expect(body.hubs).toEqual([expect.objectContaining({ type: 'ip', value: hashed('carrier-nat'), accounts: 82 })]);
    expect(body.hubs[0].members.map(label).sort()).toEqual(report.members.map(label).sort());
    expect(body.change).toMatchObject({ runId: report.runId, detectedAt: report.detectedAt, splitFrom: [], mergedFrom: [] });
  });

  it('records a verdict between two members, audits it, and refuses one that is not', async () => {
    const bad = await call(stack, 'POST', '/v1/verdicts', { a: { platform: 'chatapp', account: 'a-1' }, b: { platform: 'chatapp', account: 'b-1' }, kind: 'same-actor', clusterId: actorCluster });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/chatapp\/b-1 is not a member/);
    expect((await call(stack, 'POST', '/v1/verdicts', { a: { platform: 'chatapp', account: 'a-1' }, b: { platform: 'chatapp', account: 'a-1' }, kind: 'same-actor' })).status).toBe(400);
    expect((await call(stack, 'POST', '/v1/verdicts', { a: { platform: 'chatapp', account: 'a-1' }, b: { platform: 'gamehub', account: 'g-4' }, kind: 'maybe' })).body.error).toMatch(/kind must be/);
    // A misspelt field is refused by name rather than ignored, and a missing account says what it wants.
    const misspelt = await call(stack, 'POST', '/v1/verdicts', { a: { platform: 'chatapp', account: 'a-1' }, b: { platform: 'gamehub', account: 'g-4' }, kind: 'same-actor', clusterID: 'c-1' });
    expect([misspelt.status, misspelt.body.error]).toEqual([400, expect.stringMatching(/clusterID/)]);
    const noAccount = await call(stack, 'POST', '/v1/verdicts', { a: { platform: 'chatapp' }, b: { platform: 'gamehub', account: 'g-4' }, kind: 'same-actor' });
    expect([noAccount.status, noAccount.body.error]).toEqual([400, 'a.account: account is required: the platform\'s account id, 1-128 characters']);
    const report = (await call(stack, 'GET', `/v1/clusters/${actorCluster}`)).body;
    const [a, b] = report.members;
    const ok = await call(stack, 'POST', '/v1/verdicts', { a, b, kind: 'same-actor', clusterId: actorCluster });
    expect(ok.status).toBe(201);
    // Read before the context, whose read is itself audited.
    const audit = await call(stack, 'GET', `/v1/clusters/${actorCluster}/audit`);
    expect(audit.body.entries[0]).toMatchObject({ action: 'verdict-recorded' });
    const context = await call(stack, 'GET', `/v1/clusters/${actorCluster}/context`);
    expect(context.body.recordedVerdicts).toEqual([expect.objectContaining({ a: `${a.platform}#${a.account}`, b: `${b.platform}#${b.account}`, kind: 'same-actor' })]);
  });
});

describe('exports', () => {
  it('offers JSON, CSV and GEXF as attachments, and audits each', async () => {
    const json = await call(stack, 'GET', `/v1/clusters/${actorCluster}/export?format=json`, undefined, { 'accept-encoding': 'gzip' });
    expect(json.headers.get('content-disposition')).toBe(`attachment; filename="crosslink-cluster-${actorCluster}.json"`);
    // Gzipped for a caller that accepts it (fetch unzips it), so that a large export fits what a Lambda may answer with.
    expect(json.headers.get('content-encoding')).toBe('gzip');
    expect(json.body).toMatchObject({ format: 'crosslink-cluster-export/1', report: { id: actorCluster }, review: { status: 'escalated' } });
    const csv = await call(stack, 'GET', `/v1/clusters/${actorCluster}/export?format=csv`, undefined, { 'accept-encoding': 'identity' });
    expect(csv.headers.get('content-encoding')).toBeNull();
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(String(csv.body).split('\r\n')[0]).toBe('cluster_id,a_platform,a_account,b_platform,b_account,link_weight,signal_type,signal_weight,observed_at,signal_value,photo_distance,cluster_links_total');
    const gexf = await call(stack, 'GET', `/v1/clusters/${actorCluster}/export?format=gexf`);
    expect(String(gexf.body)).toContain('<node id="chatapp#a-1" label="chatapp/a-1">');
    expect(String(gexf.body)).toMatch(/<edge id="link-0" source="[^"]+" target="[^"]+" weight="[0-9.]+" label="[a-z_+]+">/);
    expect((await call(stack, 'GET', `/v1/clusters/${actorCluster}/export?format=pdf`)).body.error).toMatch(/format must be one of json, csv, gexf/);
    const audit = await call(stack, 'GET', `/v1/clusters/${actorCluster}/audit`);
    expect(audit.body.entries.filter((e: { action: string }) => e.action === 'exported').map((e: { detail: string }) => e.detail).sort()).toEqual(['exported as CSV', 'exported as GEXF', 'exported as JSON']);
  });
});

describe('after re-detection', () => {
  it('keeps status, assignee and notes when the cluster changes under its id', async () => {
    await postRows(stack, [{ platform: 'chatapp', account: 'a-3', type: 'device', label: 'actor-device' }]);
    await stack.waitForDrain();
    await detect(stack);
    const report = await call(stack, 'GET', `/v1/clusters/${actorCluster}`);
    expect(report.body.members.map((m: { account: string }) => m.account)).toContain('a-3');
    const review = await call(stack, 'GET', `/v1/clusters/${actorCluster}/review`);
    expect(review.body).toMatchObject({ status: 'escalated', assignee: 'dana' });
    expect(review.body.notes).toHaveLength(2);
  });
});
