import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../lib/graph/audit-repository.js';
import { ReviewService } from '../../../lib/reports/review-service.js';

const report = {
  id: 'c1', runId: 'r1', size: 2, platforms: ['chatapp'], risk: 1, status: 'new', detectedAt: '2026-11-01T00:00:00Z',
  members: [{ platform: 'chatapp', account: 'a' }, { platform: 'chatapp', account: 'b' }],
  links: [], riskReasons: [], verdicts: [],
};

/** The audit repository's paging (newest first, `limit` a page, `next` to go on). */
function auditOf(entries: AuditEntry[]) {
  return {
    async record(_id: string, entry: AuditEntry) { entries.push(entry); },
    async list(_id: string, page: { limit: number; cursor?: string }) {
      const newest = [...entries].reverse();
      const start = page.cursor ? Number(page.cursor) : 0;
      const slice = newest.slice(start, start + page.limit);
      return { entries: slice, next: start + page.limit < newest.length ? String(start + page.limit) : null };
    },
  };
}

describe('ReviewService.export (JSON) of a cluster with a long audit log', () => {
  it('carries the whole audit log, the first view included', async () => {
    const entries: AuditEntry[] = Array.from({ length: 750 }, (_, i) => ({ at: new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString(), actor: i === 0 ? 'first-viewer' : 'dana', action: 'viewed', detail: 'opened the cluster report' }));
    const service = new ReviewService({
      reviews: { get: async () => ({ status: 'new', assignee: null, updatedAt: null, updatedBy: null }), notes: async () => [] } as never,
      audit: auditOf(entries) as never,
      members: { facts: async () => [] } as never,
      verdicts: {} as never,
      clusters: { report: async () => report } as never,
      runs: {} as never,
    });
    const { body } = await service.export('c1', 'json', 'dana');
    const json = JSON.parse(body);
    expect(json.audit).toHaveLength(750);
    expect(json.audit.map((e: AuditEntry) => e.actor)).toContain('first-viewer');
  });
});
