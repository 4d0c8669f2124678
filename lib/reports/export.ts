/**
 * A cluster as a file an investigator can take elsewhere: JSON (everything the console shows), CSV
 * (one row per piece of evidence, for a spreadsheet) and GEXF (the graph, for Gephi).
 */
import { UndirectedGraph } from 'graphology';
import { write as writeGexf } from 'graphology-gexf';
import type { ClusterReport } from '../graph/cluster-repository.js';
import type { AuditEntry } from '../graph/audit-repository.js';
import type { ReviewNote, ReviewState } from '../graph/review-repository.js';

/** The export formats, with their media types and file extensions. */
export const EXPORT_FORMATS = {
  json: { mediaType: 'application/json; charset=utf-8', extension: 'json' },
  csv: { mediaType: 'text/csv; charset=utf-8', extension: 'csv' },
  gexf: { mediaType: 'application/gexf+xml; charset=utf-8', extension: 'gexf' },
} as const;
export type ExportFormat = keyof typeof EXPORT_FORMATS;

/** Facts about one member that the report itself does not carry (from the account's metadata). */
export interface MemberFacts {
  platform: string;
  account: string;
  createdAt: string | null;
  minorContacts7d: number | null;
  reports30d: number | null;
}

/** What an export holds: the report and the review around it. */
export interface ClusterDossier {
  report: ClusterReport;
  review: ReviewState;
  notes: ReviewNote[];
  members: MemberFacts[];
  audit?: AuditEntry[];
  exportedAt: string;
  exportedBy: string;
}

/** The file name an export is offered under, e.g. `crosslink-cluster-c-1f3a.csv`. */
export function exportFileName(clusterId: string, format: ExportFormat): string {
  return `crosslink-cluster-${clusterId.replace(/[^A-Za-z0-9_.-]/g, '_')}.${EXPORT_FORMATS[format].extension}`;
}

/** Everything, as pretty-printed JSON. */
export function toJson(dossier: ClusterDossier): string {
  return `${JSON.stringify({ format: 'crosslink-cluster-export/1', ...dossier }, null, 2)}\n`;
}

export const CSV_COLUMNS = [
  'cluster_id',
  'a_platform',
  'a_account',
  'b_platform',
  'b_account',
  'link_weight',
  'signal_type',
  'signal_weight',
  'observed_at',
  'signal_value',
  'photo_distance',
  'cluster_links_total',
] as const;

/** How many links the cluster has: more than its report holds when the report was trimmed to fit one stored item (`linksTotal`). */
const linksTotalOf = (report: ClusterDossier['report']) => report.linksTotal ?? report.links.length;

/** What a trimmed report holds, said in the exports that cannot carry `linksTotal` as JSON does; undefined for a whole one. */
function partialReportNote(report: ClusterDossier['report']): string | undefined {
  if (report.linksTotal === undefined) return undefined;
  return `partial report: it holds ${report.links.length} of the cluster's ${report.linksTotal} links (a chain to every member first, then the strongest), the most one stored report can`;
}

/**
 * RFC 4180 quoting, and a leading apostrophe on cells a spreadsheet would run as a formula (account ids
 * come from platforms and are not ours to trust).
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One row per piece of evidence behind each link, CRLF line ends. The last column, the same on every
 * row, is how many links the cluster has: more than the file's links when the report is partial.
 */
export function toCsv(dossier: ClusterDossier): string {
  const { report } = dossier;
  const linksTotal = linksTotalOf(report);
  const rows: string[] = [CSV_COLUMNS.join(',')];
  for (const link of report.links) {
    for (const evidence of link.evidence) {
      rows.push(
        [report.id, link.a.platform, link.a.account, link.b.platform, link.b.account, link.weight, evidence.type, evidence.weight, evidence.observedAt, evidence.value, evidence.distance, linksTotal]
          .map(csvCell)
          .join(','),
      );
    }
  }
  return `${rows.join('\r\n')}\r\n`;
}

/**
 * Characters GEXF (XML 1.0) cannot carry as they are: control characters and unpaired surrogates (not
 * allowed even as character references), and tab, CR and LF (a parser turns them into spaces in an
 * attribute). Account ids are platforms' opaque strings, so any of them may occur.
 */
const XML_UNSAFE = /[\\\u0000-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text safe for XML, written `\uXXXX` where it is not (and `\\` for a backslash, so that no two texts meet). */
export function xmlSafe(text: string): string {
  return text.replace(XML_UNSAFE, (char) => (char === '\\' ? '\\\\' : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * The cluster's graph: accounts as nodes (with platform and creation date), links as weighted edges
 * labelled by signal types; the file's description (GEXF `meta`) says what it holds, and when the
 * report is partial.
 */
export function toGexf(dossier: ClusterDossier): string {
  const graph = new UndirectedGraph();
  const { report } = dossier;
  graph.setAttribute('cluster', report.id);
  graph.setAttribute('linksTotal', linksTotalOf(report));
  const partial = partialReportNote(report);
  graph.setAttribute('description', xmlSafe(`Crosslink cluster ${report.id}: ${report.members.length} accounts, ${report.links.length} links${partial ? `; ${partial}` : ''}`));
  const facts = new Map(dossier.members.map((member) => [`${member.platform}#${member.account}`, member]));
  for (const member of dossier.report.members) {
    const fact = facts.get(`${member.platform}#${member.account}`);
    graph.addNode(xmlSafe(`${member.platform}#${member.account}`), {
      label: xmlSafe(`${member.platform}/${member.account}`),
      platform: member.platform,
      account: xmlSafe(member.account),
      ...(fact?.createdAt ? { createdAt: fact.createdAt } : {}),
    });
  }
  dossier.report.links.forEach((link, index) => {
    const source = xmlSafe(`${link.a.platform}#${link.a.account}`);
    const target = xmlSafe(`${link.b.platform}#${link.b.account}`);
    if (!graph.hasNode(source) || !graph.hasNode(target) || graph.hasEdge(source, target)) return;
    graph.addEdgeWithKey(`link-${index}`, source, target, { weight: link.weight, label: link.types.join('+'), types: link.types.join(' ') });
  });
  return writeGexf(graph, { pretty: true });
}

/** Renders a dossier in the format asked for. */
export function exportCluster(dossier: ClusterDossier, format: ExportFormat): string {
  if (format === 'csv') return toCsv(dossier);
  if (format === 'gexf') return toGexf(dossier);
  return toJson(dossier);
}
