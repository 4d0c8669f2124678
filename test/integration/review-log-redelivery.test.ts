/**
 * Detection's entries in the audit log on a real DynamoDB API (dynalite): SQS delivers a detection task
 * at least once, so ReviewService.clustersChanged may run twice for one task before it completes (found
 * in review: each delivery wrote its "merged" entries again). A second delivery writes nothing new.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AuditRepository } from '../../lib/graph/audit-repository.js';
import { clusterPk } from '../../lib/graph/keys.js';
import { ReviewRepository } from '../../lib/graph/review-repository.js';
import { ReviewService } from '../../lib/reports/review-service.js';
import { startLocalDynamo, type LocalDynamo } from '../support/local-dynamo.js';

const TABLE = 'crosslink';
let local: LocalDynamo;
let reviews: ReviewRepository;
let service: ReviewService;
const run = { runId: '20261128010000-r1', startedAt: '2026-11-28T01:00:00.000Z' };

beforeAll(async () => {
  local = await startLocalDynamo('review-log');
  await local.ensureTable();
  reviews = new ReviewRepository(local.db, TABLE);
  // clustersChanged reads and writes only review state and the audit log.
  service = new ReviewService({ reviews, audit: new AuditRepository(local.db, TABLE), members: {} as never, verdicts: {} as never, clusters: {} as never, runs: {} as never });
});
afterAll(async () => local?.stop());

/** Every audit entry of these clusters, as `cluster action: detail`. */
async function auditEntries(clusterIds: string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const id of clusterIds) {
    const { Items = [] } = await local.db.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)', ExpressionAttributeValues: { ':pk': clusterPk(id), ':audit': 'AUDIT#' } }));
    lines.push(...Items.map((item) => `${id} ${item.action}: ${item.detail}`));
  }
  return lines.sort();
}

/** A dismissed cluster that absorbs an escalated one with a note, and a dismissed one that an account joins. */
async function reviewed(prefix: string) {
  const ids = { into: `${prefix}-a`, absorbed: `${prefix}-b`, grown: `${prefix}-d` };
  await reviews.update(ids.into, { status: 'dismissed' }, 'Dana', '2026-11-27T10:00:00.000Z');
  await reviews.update(ids.absorbed, { status: 'escalated', assignee: 'sam' }, 'Sam', '2026-11-27T11:00:00.000Z');
  await reviews.addNote(ids.absorbed, 'contacts minors on two platforms', 'Sam', '2026-11-27T11:05:00.000Z');
  await reviews.update(ids.grown, { status: 'dismissed' }, 'Dana', '2026-11-27T12:00:00.000Z');
  const changes = { merges: [{ into: ids.into, from: [ids.into, ids.absorbed] }], grown: [{ id: ids.grown, joined: ['photoshare#p-3'] }] };
  return { ids: Object.values(ids), changes };
}

describe('Class: ReviewService, a detection task delivered twice', () => {
  it('writes no merged or reopened entry again when the same task is delivered again', async () => {
    const { ids, changes } = await reviewed('c-seq');
    await service.clustersChanged(changes, run);
    const once = await auditEntries(ids);
    expect(once).toHaveLength(3);

    await service.clustersChanged(changes, run);
    expect(await auditEntries(ids)).toEqual(once);
  });

  it('writes each entry once when two deliveries run at the same time', async () => {
    const { ids, changes } = await reviewed('c-par');
    await Promise.all([service.clustersChanged(changes, run), service.clustersChanged(changes, run)]);
    const entries = await auditEntries(ids);
    expect(entries.map((line) => line.replace(/: .*/, ''))).toEqual(['c-par-a merged', 'c-par-b merged', 'c-par-d status-changed']);
  });
});
