/**
 * The console's queue counts, kept between calls, on a real DynamoDB API (dynalite): they follow every
 * save to the ranking, a failed run's partial save included, not only successful runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectClusters } from '../../lib/detect/detect.js';
import type { Membership } from '../../lib/detect/model.js';
import { AuditRepository } from '../../lib/graph/audit-repository.js';
import { ClusterRepository } from '../../lib/graph/cluster-repository.js';
import { ReviewRepository } from '../../lib/graph/review-repository.js';
import { RunRepository } from '../../lib/graph/run-repository.js';
import { ReviewService } from '../../lib/reports/review-service.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

const NOW_MS = Date.parse('2026-11-28T00:00:00Z');
let local: LocalDynamo;

beforeAll(async () => {
  local = await startLocalDynamo('queue-counts');
  await local.ensureTable();
});
afterAll(async () => local?.stop());

const pairOf = (name: string) => {
  const memberships: Membership[] = ['snap', 'wa'].map((platform) => ({ account: `${platform}#${name}`, type: 'phone', value: name.padEnd(64, '0'), observedAtMs: NOW_MS - 86_400_000 }));
  return detectClusters({ memberships, accounts: new Map(), previousClusters: [], nowMs: NOW_MS }, { idSeed: name }).clusters;
};

describe('Class: ReviewService, queue counts', () => {
  it("follow a failed run's partial save and a running run's saves, not only successful runs", async () => {
    const clusters = new ClusterRepository(local.db, 'crosslink');
    const runs = new RunRepository(local.db, 'crosslink');
    const service = new ReviewService({ reviews: new ReviewRepository(local.db, 'crosslink'), audit: new AuditRepository(local.db, 'crosslink'), members: {} as never, verdicts: {} as never, clusters, runs });
    const at = (minute: number) => `2026-11-28T01:${String(minute).padStart(2, '0')}:00Z`;

    await runs.create({ runId: 'run-a', status: 'running', trigger: 'on-demand', startedAt: at(0) }, undefined);
    await clusters.applyRun('run-a', { upserts: [...pairOf('a1'), ...pairOf('a2')], removed: [] }, at(0));
    await runs.finish('run-a', { status: 'succeeded', finishedAt: at(1) });
    expect((await service.counts()).total).toBe(2);

    // A run whose first task saved, then a task failed: the run ends failed, its save stays.
    await runs.create({ runId: 'run-b', status: 'running', trigger: 'on-demand', startedAt: at(2), after: 'run-a' }, 'run-a');
    await clusters.applyRun('run-b', { upserts: pairOf('b1'), removed: [] }, at(2));
    expect((await service.counts()).total).toBe(3);
    await clusters.applyRun('run-b', { upserts: pairOf('b2'), removed: [] }, at(2));
    await runs.finish('run-b', { status: 'failed', finishedAt: at(3), error: 'task 1: injected' });
    expect((await service.counts()).total).toBe(4);
    expect(await runs.lastSuccessfulRunId()).toBe('run-a');
  });
});
