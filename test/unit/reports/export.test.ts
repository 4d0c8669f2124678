import { parse } from 'graphology-gexf';
import { UndirectedGraph } from 'graphology';
import { describe, expect, it } from 'vitest';
import type { ClusterReport } from '../../../lib/graph/cluster-repository.js';
import { csvCell, exportCluster, exportFileName, toCsv, toGexf, toJson, type ClusterDossier } from '../../../lib/reports/export.js';

function aReport(overrides: Partial<ClusterReport> = {}): ClusterReport {
  return {
    id: 'c0001',
    runId: 'run-1',
    size: 3,
    platforms: ['chatapp', 'gamehub'],
    risk: 42.5,
    status: 'new',
    detectedAt: '2026-11-01T10:00:00.000Z',
    members: [
      { platform: 'chatapp', account: 'a-1' },
      { platform: 'chatapp', account: 'a-2' },
      { platform: 'gamehub', account: 'g-3' },
    ],
    links: [
      {
        a: { platform: 'chatapp', account: 'a-1' },
        b: { platform: 'chatapp', account: 'a-2' },
        weight: 0.9,
        types: ['device', 'phone'],
        evidence: [
          { type: 'device', value: 'd'.repeat(64), weight: 0.4, observedAt: '2026-10-01T00:00:00.000Z' },
          { type: 'phone', value: 'e'.repeat(64), weight: 0.5, observedAt: '2026-10-02T00:00:00.000Z' },
        ],
      },
      {
        a: { platform: 'chatapp', account: 'a-2' },
        b: { platform: 'gamehub', account: 'g-3' },
        weight: 0.3,
        types: ['photo_pdq'],
        evidence: [{ type: 'photo_pdq', value: 'f'.repeat(64), weight: 0.3, observedAt: '2026-10-03T00:00:00.000Z', matchedValue: 'a'.repeat(64), distance: 12 }],
      },
    ],
    riskReasons: [{ factor: 'platforms', points: 8, detail: 'spans 2 platforms' }],
    verdicts: [],
    ...overrides,
  };
}

function aDossier(report = aReport()): ClusterDossier {
  return {
    report,
    review: { status: 'escalated', assignee: 'dana', updatedAt: '2026-11-02T00:00:00.000Z', updatedBy: 'dana' },
    notes: [{ id: 'n1', text: 'looks like one person', by: 'dana', at: '2026-11-02T00:00:00.000Z' }],
    members: report.members.map((member) => ({ ...member, createdAt: member.account === 'a-1' ? '2026-09-01T00:00:00Z' : null, minorContacts7d: null, reports30d: null })),
    exportedAt: '2026-11-03T00:00:00.000Z',
    exportedBy: 'dana',
  };
}

describe('Function: toCsv', () => {
  it('writes one row per piece of evidence under a fixed header, CRLF line ends', () => {
    const lines = toCsv(aDossier()).split('\r\n');
    expect(lines[0]).toBe('cluster_id,a_platform,a_account,b_platform,b_account,link_weight,signal_type,signal_weight,observed_at,signal_value,photo_distance,cluster_links_total');
    expect(lines.slice(1, -1)).toEqual([
      `c0001,chatapp,a-1,chatapp,a-2,0.9,device,0.4,2026-10-01T00:00:00.000Z,${'d'.repeat(64)},,2`,
      `c0001,chatapp,a-1,chatapp,a-2,0.9,phone,0.5,2026-10-02T00:00:00.000Z,${'e'.repeat(64)},,2`,
      `c0001,chatapp,a-2,gamehub,g-3,0.3,photo_pdq,0.3,2026-10-03T00:00:00.000Z,${'f'.repeat(64)},12,2`,
    ]);
    expect(lines[lines.length - 1]).toBe('');
  });

  it('quotes commas, quotes and line breaks, and defuses cells a spreadsheet would run as formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell(-0.5)).toBe('-0.5');
    expect(csvCell(undefined)).toBe('');
  });

  it("says on every row how many links the cluster has, more than the file's when the report was trimmed", () => {
    const rows = toCsv(aDossier(aReport({ linksTotal: 4_100 }))).split('\r\n').slice(1, -1);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.endsWith(',4100')).toBe(true);
  });

  it('keeps an account id with a comma in one cell', () => {
    const report = aReport();
    report.links[0].a = { platform: 'chatapp', account: 'x,y' };
    expect(toCsv(aDossier(report)).split('\r\n')[1]).toContain(',chatapp,"x,y",chatapp,a-2,');
  });
});

describe('Function: toGexf', () => {
  it('writes a graph Gephi reads back: nodes with platform and creation date, weighted edges labelled by signal types', () => {
    const graph = parse(UndirectedGraph, toGexf(aDossier()));
    expect(graph.order).toBe(3);
    expect(graph.size).toBe(2);
    expect(graph.getNodeAttributes('chatapp#a-1')).toMatchObject({ label: 'chatapp/a-1', platform: 'chatapp', createdAt: '2026-09-01T00:00:00Z' });
    const edge = graph.edge('chatapp#a-1', 'chatapp#a-2')!;
    expect(graph.getEdgeAttributes(edge)).toMatchObject({ weight: 0.9, label: 'device+phone' });
    expect(graph.getAttribute('description')).toBe('Crosslink cluster c0001: 3 accounts, 2 links');
  });

  it('says in its description when the report holds only part of the links', () => {
    const graph = parse(UndirectedGraph, toGexf(aDossier(aReport({ linksTotal: 4_100 }))));
    expect(graph.size).toBe(2);
    expect(graph.getAttribute('description')).toBe(
      "Crosslink cluster c0001: 3 accounts, 2 links; partial report: it holds 2 of the cluster's 4100 links (a chain to every member first, then the strongest), the most one stored report can",
    );
  });
});

describe('Function: toJson', () => {
  it('holds the report, the review, the notes and who exported it', () => {
    const json = JSON.parse(toJson(aDossier()));
    expect(json).toMatchObject({ format: 'crosslink-cluster-export/1', report: { id: 'c0001', links: expect.any(Array) }, review: { status: 'escalated' }, exportedBy: 'dana' });
    expect(json.notes).toHaveLength(1);
  });
});

describe('Function: exportCluster', () => {
  it('renders the format asked for, under a safe file name', () => {
    expect(exportCluster(aDossier(), 'gexf')).toMatch(/^<\?xml/);
    expect(exportCluster(aDossier(), 'csv')).toMatch(/^cluster_id,/);
    expect(exportFileName('c/../x', 'csv')).toBe('crosslink-cluster-c_.._x.csv');
  });
});
