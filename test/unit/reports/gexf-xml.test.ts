import { execFileSync } from 'node:child_process';
import { parse } from 'graphology-gexf';
import { UndirectedGraph } from 'graphology';
import { describe, expect, it } from 'vitest';
import { toGexf, type ClusterDossier } from '../../../lib/reports/export.js';

// Account ids are a platform's opaque strings (1-128 chars, any characters: lib/contract/signals.ts accountIdSchema).
function dossierWith(accounts: string[]): ClusterDossier {
  const members = accounts.map((account) => ({ platform: 'chatapp', account }));
  return {
    report: {
      id: 'c1', runId: 'r1', size: members.length, platforms: ['chatapp'], risk: 1, status: 'new', detectedAt: '2026-11-01T00:00:00Z', members,
      links: members.slice(1).map((b) => ({ a: members[0]!, b, weight: 0.5, types: ['phone'], evidence: [{ type: 'phone', value: 'e'.repeat(64), weight: 0.5, observedAt: '2026-10-01T00:00:00Z' }] })),
      riskReasons: [], verdicts: [],
    },
    review: { status: 'new', assignee: null, updatedAt: null, updatedBy: null },
    notes: [],
    members: members.map((m) => ({ ...m, createdAt: '2026-09-01T00:00:00Z', minorContacts7d: null, reports30d: null })),
    exportedAt: '2026-11-03T00:00:00Z',
    exportedBy: 'dana',
  };
}

// Characters XML 1.0 forbids anywhere, even as character references.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('toGexf with account ids holding control characters', () => {
  const accounts = ['a-0', 'bad\u0001id', 'bad\u0002id', 'tab\u001Bx', 'x\ny', 'x y', 'x\ty'];

  it('writes well-formed XML (a strict parser, expat, reads it)', () => {
    const xml = toGexf(dossierWith(accounts));
    expect(xml).not.toMatch(XML_INVALID);
    // expat is what many XML consumers use; Gephi's parser is as strict.
    const out = execFileSync('python3', ['-c', 'import sys, xml.dom.minidom as m; d = m.parseString(sys.stdin.buffer.read()); print(len({n.getAttribute("id") for n in d.getElementsByTagName("node")}))'], { input: xml, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    // Every member keeps its own node id once parsed (attribute normalisation would make 'x\\ny' and 'x y' one).
    expect(Number(out.trim())).toBe(accounts.length);
  });

  it('keeps every member as its own node (no two ids collapse)', () => {
    const graph = parse(UndirectedGraph, toGexf(dossierWith(accounts)));
    expect(graph.order).toBe(accounts.length);
    expect(graph.size).toBe(accounts.length - 1);
  });
});
