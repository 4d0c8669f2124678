/**
 * What a cluster's stored report holds: its body (weights to 3 decimals), the content fingerprint that
 * tells a changed cluster from an unchanged one, and its fit to DynamoDB's item limit.
 */
import { createHash } from 'node:crypto';
import { parseAccountKey } from '../contract/platforms.js';
import type { DetectedCluster } from '../detect/model.js';
import { approximateBytes } from './batch-write.js';
import { UnionFind } from '../detect/union-find.js';

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

/**
 * A report's body as stored (gzipped) and read back by investigators: the cluster with `links`, all of
 * its links unless a part of them is given, when `linksTotal` says how many it has (see {@link reportWithin}).
 */
export function reportBody(cluster: DetectedCluster, runId: string, detectedAt: string, links: DetectedCluster['links'] = cluster.links) {
  return {
    id: cluster.id,
    runId,
    size: cluster.members.length,
    platforms: cluster.platforms,
    risk: cluster.risk.score,
    members: cluster.members.map(parseAccountKey),
    ...(links.length < cluster.links.length ? { linksTotal: cluster.links.length } : {}),
    links: links.map((link) => ({
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
 * The order in which a trimmed report keeps a cluster's links: first a maximum spanning forest
 * (strongest links first, each joining two parts not yet joined), so that every member keeps a chain of
 * links to the others as long as the forest fits; then the strongest of the rest. In their order where
 * weights tie.
 */
function trimOrder(cluster: DetectedCluster): DetectedCluster['links'] {
  const position = new Map(cluster.members.map((member, at) => [member, at]));
  const parts = new UnionFind(cluster.members.length);
  const byWeight = cluster.links.map((link, at) => ({ link, at })).sort((x, y) => y.link.weight - x.link.weight || x.at - y.at);
  const forest: DetectedCluster['links'] = [];
  const rest: DetectedCluster['links'] = [];
  for (const { link } of byWeight) (parts.union(position.get(link.a)!, position.get(link.b)!) ? forest : rest).push(link);
  return [...forest, ...rest];
}

/** The item's size when it is over DynamoDB's limit, else undefined. */
function bytesOverLimit(report: { size: number; body: Uint8Array } & Record<string, unknown>): number | undefined {
  // Most reports are far smaller: only those near the limit by a cheap estimate are measured whole.
  if (report.body.byteLength + report.size * 40 <= REPORT_BYTES_CHECKED) return undefined;
  // Each list element costs a byte more than its string.
  const bytes = approximateBytes(report) + report.size;
  return bytes > ITEM_BYTES ? bytes : undefined;
}

/**
 * The report item to store for a cluster, from `build` (the item with a body of the links given):
 * whole when it fits DynamoDB's item limit; else with the most links that fit (a maximum spanning forest
 * first, so that members keep a chain to each other, then the strongest; its body's `linksTotal` says how
 * many it has), so that the run saves it with every member, and its investigators see it; else, when
 * even its member list is over the limit (about 11,800 accounts with 31-character ids:
 * `cluster-pointers.test.ts`), refused, saying why and what to do (DynamoDB's own refusal names no
 * cluster). A cluster this large is accounts glued by shared infrastructure below the hub threshold, not
 * one actor.
 */
export function reportWithin<R extends { id: string; size: number; body: Uint8Array } & Record<string, unknown>>(
  cluster: DetectedCluster,
  build: (links: DetectedCluster['links']) => R,
): { report: R; trimmed: boolean } {
  const whole = build(cluster.links);
  if (bytesOverLimit(whole) === undefined) return { report: whole, trimmed: false };
  const bare = build([]);
  const bytes = bytesOverLimit(bare);
  if (bytes !== undefined) {
    throw new Error(
      `cluster ${bare.id} has ${bare.size} accounts: its report (${Math.round(bytes / 1024)} KB with its ranking entry, without a single link) is over DynamoDB's 400 KB item limit, so this run cannot save it. ` +
        'A cluster this large is accounts glued by shared infrastructure below the hub threshold, not one actor: lower the hub threshold (or that identifier type\'s reliability) and run again (docs/detection.md, "Tuning").',
    );
  }
  // The most links that fit, in the order kept: `fits` fit, `over` do not.
  const order = trimOrder(cluster);
  let [fits, over] = [0, order.length];
  let report = bare;
  while (over - fits > 1) {
    const middle = Math.floor((fits + over) / 2);
    const candidate = build(order.slice(0, middle));
    if (bytesOverLimit(candidate) === undefined) [fits, report] = [middle, candidate];
    else over = middle;
  }
  return { report, trimmed: true };
}
