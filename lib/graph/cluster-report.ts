/**
 * What a cluster's stored report holds: its body (weights to 3 decimals), the content fingerprint that
 * tells a changed cluster from an unchanged one, and the item size check.
 */
import { createHash } from 'node:crypto';
import { parseAccountKey } from '../contract/platforms.js';
import type { DetectedCluster } from '../detect/model.js';
import { approximateBytes } from './batch-write.js';

/**
 * A weight as a report stores it: to 3 decimals, as the console shows it. A link's weight moves a
 * little whenever one of its identifiers gains or loses a holder anywhere (specificity); a move below
 * the third decimal is not a change of the report, so it neither rewrites it nor moves its `detectedAt`
 * (at 100k accounts, about one report in seven that a 1% change would rewrite).
 */
export function storedWeight(weight: number): number {
  return Math.round(weight * 1000) / 1000;
}

/** The content of a cluster, hashed, with each link written by `linkLine`. */
function hashedContent(cluster: DetectedCluster, linkLine: (link: DetectedCluster['links'][number]) => string): string {
  const links = cluster.links.map(linkLine).sort();
  return createHash('sha256')
    .update(JSON.stringify([cluster.members, cluster.risk.score, cluster.risk.reasons.map((reason) => reason.detail), links, cluster.verdicts]))
    .digest('hex');
}

/** What a fingerprint of this form starts with (one of an earlier form does not: see {@link legacyContentFingerprint}). */
export const FINGERPRINT_FORM = 'w3:';

/**
 * Identifies a cluster's content as its report stores it (weights to 3 decimals, each link's and its
 * evidence's), so that an unchanged cluster is not rewritten (and keeps its `detectedAt`).
 */
export function contentFingerprint(cluster: DetectedCluster): string {
  return FINGERPRINT_FORM + hashedContent(cluster, (link) => `${link.a}|${link.b}|${storedWeight(link.weight)}|${link.evidence.map((e) => storedWeight(e.weight)).join(',')}`);
}

/**
 * The content fingerprint as versions before {@link storedWeight} computed it (link weights to 6
 * decimals, evidence weights left out): a report one of them stored, whose cluster has not changed
 * since, is rewritten once (to store weights and fingerprint as this version does) but keeps its
 * `detectedAt`, which says when detection last changed the cluster. Computed only against a
 * fingerprint of that form.
 */
export function legacyContentFingerprint(cluster: DetectedCluster): string {
  return hashedContent(cluster, (link) => `${link.a}|${link.b}|${link.weight.toFixed(6)}`);
}

/** A report's body as stored (gzipped) and read back by investigators. */
export function reportBody(cluster: DetectedCluster, runId: string, detectedAt: string) {
  return {
    id: cluster.id,
    runId,
    size: cluster.members.length,
    platforms: cluster.platforms,
    risk: cluster.risk.score,
    members: cluster.members.map(parseAccountKey),
    links: cluster.links.map((link) => ({
      a: parseAccountKey(link.a),
      b: parseAccountKey(link.b),
      weight: storedWeight(link.weight),
      types: [...new Set(link.evidence.map((e) => e.type))].sort(),
      evidence: link.evidence.map((e) => ({
        type: e.type,
        value: e.value,
        weight: storedWeight(e.weight),
        observedAt: new Date(e.observedAtMs).toISOString(),
        ...(e.matchedValue ? { matchedValue: e.matchedValue, distance: e.distance } : {}),
      })),
    })),
    riskReasons: cluster.risk.reasons,
    verdicts: cluster.verdicts,
    detectedAt,
  };
}

/** DynamoDB's item size limit. */
const ITEM_BYTES = 400 * 1024;
/** Reports about this large (compressed body and member list) are measured whole against {@link ITEM_BYTES}. */
const REPORT_BYTES_CHECKED = 300_000;

/**
 * Fails the save, saying why and what to do, when a cluster's report (its member list and compressed
 * body, one item with its ranking entry) is over DynamoDB's item limit: about 9,000 accounts with
 * 30-character ids and chain-like links (`cluster-pointers.test.ts`). DynamoDB's own refusal names no
 * cluster.
 */
export function refuseOversized(report: { id: string; size: number; body: Uint8Array } & Record<string, unknown>): void {
  // Most reports are far smaller: only those near the limit by a cheap estimate are measured whole.
  if (report.body.byteLength + report.size * 40 <= REPORT_BYTES_CHECKED) return;
  // Each list element costs a byte more than its string.
  const bytes = approximateBytes(report) + report.size;
  if (bytes <= ITEM_BYTES) return;
  throw new Error(
    `cluster ${report.id} has ${report.size} accounts: its report (${Math.round(bytes / 1024)} KB with its ranking entry) is over DynamoDB's 400 KB item limit, so this run cannot save it. ` +
      'A cluster this large is accounts glued by shared infrastructure below the hub threshold, not one actor: lower the hub threshold (or that identifier type\'s reliability) and run again (docs/detection.md, "Tuning").',
  );
}
