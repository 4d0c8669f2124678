/**
 * The investigator's review of a cluster: the queue with its filters and counts, the context the
 * console shows around a report (member facts, timeline, hubs, lineage, recorded verdicts), status,
 * assignee, notes, verdicts and exports, each change written to the cluster's audit log.
 */
import { accountKey, type AccountRef } from '../contract/platforms.js';
import type { ClusterLineage, Verdict } from '../detect/model.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { AuditAction, AuditEntry, AuditRepository } from '../graph/audit-repository.js';
import { inParallel } from '../graph/in-parallel.js';
import type { ClusterReport, ClusterRepository, ReviewStatus } from '../graph/cluster-repository.js';
import type { MemberFactsReader, MemberFactsRecord, MemberObservation } from '../graph/member-facts.js';
import type { QueueCounts, QueueFilters, QueueRow, ReviewNote, ReviewRepository, ReviewState } from '../graph/review-repository.js';
import type { RunRecord, RunRepository } from '../graph/run-repository.js';
import type { VerdictRepository } from '../graph/verdict-repository.js';
import { evidencePath, EvidencePathError, type EvidencePath } from './evidence-path.js';
import { exportCluster, exportFileName, type ExportFormat } from './export.js';

/** Members beyond this many are left out of the timeline (one query each); the report still lists them all. */
export const MAX_TIMELINE_MEMBERS = 300;

/** The context the console shows around a report. */
export interface ClusterContext {
  clusterId: string;
  members: MemberFactsRecord[];
  /** Signal observations of the members, oldest first. */
  observations: MemberObservation[];
  /** True when the cluster is larger than {@link MAX_TIMELINE_MEMBERS} and observations cover only the first ones. */
  observationsTruncated: boolean;
  /** Hubs of the report's run that some member shares: excluded from linking, shown apart. */
  hubs: Array<{ type: string; value: string; accounts: number; members: AccountRef[] }>;
  /** How the run that last changed this cluster relates it to the clusters before. */
  change: {
    runId: string;
    detectedAt: string;
    kind: 'born' | 'kept' | 'unknown';
    splitFrom: string[];
    mergedFrom: string[];
    /** A dissolved cluster: the clusters its accounts went to in the run that dissolved it (a merge, or a split no part of which kept the id). */
    dissolvedInto: string[];
  };
  /** Verdicts recorded on pairs of members (applied or waiting for the next run). */
  recordedVerdicts: Verdict[];
}

export interface ReviewServiceDeps {
  reviews: ReviewRepository;
  audit: AuditRepository;
  members: MemberFactsReader;
  verdicts: Pick<VerdictRepository, 'put' | 'all'>;
  clusters: Pick<ClusterRepository, 'report' | 'list'>;
  runs: Pick<RunRepository, 'get' | 'latest' | 'lastSuccessfulRunId' | 'lineage'>;
  now?: () => Date;
}


/** How far a review had got, for a merge: the merged cluster takes the furthest of its parts. */
const STATUS_REACHED: Record<ReviewStatus, number> = { dismissed: -1, new: 0, 'in-review': 1, escalated: 2 };
/** Accounts an audit entry names when a dismissed cluster grows (the rest are counted). */
const JOINED_NAMED = 5;
/** Who the audit log names for what detection did to a cluster's review. */
export const DETECTION_ACTOR = 'detection';

/** The run whose task changes clusters: its entries are dated at its start, as its reports are. */
type DetectionRun = Pick<RunRecord, 'runId' | 'startedAt'>;

export class ReviewService {
  private readonly now: () => Date;
  private rankCounts?: { state: string; counts: Promise<{ total: number; crossPlatform: number }> };

  constructor(private readonly deps: ReviewServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async queue(filters: QueueFilters, page: { limit: number; cursor?: string }): Promise<{ clusters: QueueRow[]; next: string | null; runId: string | null }> {
    const [runId, result] = await Promise.all([this.deps.runs.lastSuccessfulRunId(), this.deps.reviews.queue(filters, page)]);
    return { ...result, runId: runId ?? null };
  }

  /**
   * The queue's counts. The ranking changes only as a detection run saves, so its counts are kept while
   * the newest run's state (id, status, tasks done) stays as it was (counting 10,000 ranking items takes
   * about a second on the local stack): a run that failed after saving part of its work, or moved an
   * earlier version's ranking onto the reports, changes them too, as a successful one does. The status
   * counts come from the small review index on every call.
   */
  async counts(): Promise<QueueCounts> {
    const newest = await this.deps.runs.latest();
    const state = newest ? `${newest.runId}:${newest.status}:${newest.tasksDone ?? 0}` : 'none';
    if (!this.rankCounts || this.rankCounts.state !== state) {
      this.rankCounts = { state, counts: this.deps.reviews.rankCounts() };
      this.rankCounts.counts.catch(() => (this.rankCounts = undefined));
    }
    return this.deps.reviews.counts(await this.rankCounts.counts);
  }

  /**
   * Carries review state across what a detection run is about to save: its merges and the clusters that
   * accounts joined. The clusters attended to (a review change or a note) are read from the index once,
   * and only the merges and grown clusters that touch one read more (a run may merge hundreds of clusters,
   * few of them reviewed). SQS may deliver a task twice: each audit entry has a key of the run and the
   * clusters it names, dated at the run's start, so a second delivery writes none again.
   *
   * @example
   * await review.clustersChanged({ merges: [{ into: 'c-a', from: ['c-a', 'c-b'] }], grown: [{ id: 'c-d', joined: ['photoshare#p-3'] }] }, { runId, startedAt });
   */
  async clustersChanged(changes: { merges: ClusterLineage['merges']; grown: Array<{ id: string; joined: string[] }> }, run: DetectionRun): Promise<void> {
    if (changes.merges.length === 0 && changes.grown.length === 0) return;
    const attended = await this.deps.reviews.attendedClusters();
    await this.carryMerges(changes.merges, attended, run);
    await this.reopenGrown(changes.grown, attended, run);
  }

  /**
   * Carries review state across the merges a detection run is about to save. The merged cluster keeps
   * its own review and notes; each absorbed cluster's stay on record under its id, and both audit logs
   * name the other. The merged cluster takes the furthest status any part had reached (escalated, then
   * in review, then new) and an absorbed part's assignee when it has none; it is never left dismissed,
   * because a dismissal covered the accounts it was given and the merge adds others. Merges of clusters
   * nobody attended to (no review change, no note: `attended`) change nothing; the others read the
   * reviews of their parts, and the notes of absorbed parts attended to.
   * For example, when c-a was dismissed and absorbs c-b, c-a is new again and its log says
   * "merged with c-b (escalated) by run ...; status dismissed -> new: ...".
   */
  private async carryMerges(allMerges: ClusterLineage['merges'], attended: ReadonlySet<string>, run: DetectionRun): Promise<void> {
    const merges = allMerges.filter((merge) => attended.has(merge.into) || merge.from.some((id) => attended.has(id)));
    if (merges.length === 0) return;
    const absorbedOf = (merge: ClusterLineage['merges'][number]) => merge.from.filter((id) => id !== merge.into);
    const absorbedIds = merges.flatMap(absorbedOf);
    const [reviews, notes] = await Promise.all([
      this.deps.reviews.reviewsOf([...new Set([...merges.map((merge) => merge.into), ...absorbedIds])]),
      // A query per absorbed cluster, a bounded number in flight (a run may merge hundreds).
      (async () => {
        const counts = new Map<string, number>();
        await inParallel(absorbedIds, async (id) => {
          counts.set(id, attended.has(id) ? (await this.deps.reviews.notes(id)).length : 0);
        });
        return counts;
      })(),
    ]);
    for (const merge of merges) {
      const kept = reviews.get(merge.into)!;
      const parts = absorbedOf(merge).map((id) => ({ id, review: reviews.get(id)!, notes: notes.get(id)! }));
      if (kept.updatedAt === null && parts.every((part) => part.review.updatedAt === null && part.notes === 0)) continue;
      const furthest = [kept, ...parts.map((part) => part.review)].reduce((x, y) => (STATUS_REACHED[y.status] > STATUS_REACHED[x.status] ? y : x));
      const status: ReviewStatus = STATUS_REACHED[furthest.status] < 0 ? 'new' : furthest.status;
      const assignee = kept.assignee ?? furthest.assignee ?? parts.find((part) => part.review.assignee)?.review.assignee ?? null;
      const change: { status?: ReviewStatus; assignee?: string } = {};
      if (status !== kept.status) change.status = status;
      if (assignee !== kept.assignee && assignee !== null) change.assignee = assignee;
      const at = this.now().toISOString();
      if (Object.keys(change).length > 0) await this.deps.reviews.update(merge.into, change, DETECTION_ACTOR, at);
      const described = parts.map((part) => {
        const facts = [part.review.status, part.review.assignee ? `assigned to ${part.review.assignee}` : '', part.notes > 0 ? `${part.notes} note${part.notes === 1 ? '' : 's'}` : ''];
        return `${part.id} (${facts.filter(Boolean).join(', ')})`;
      });
      const changed = [
        change.status ? `status ${kept.status} -> ${change.status}${kept.status === 'dismissed' ? ': the dismissal covered the accounts before the merge' : ''}` : '',
        change.assignee ? `assigned to ${change.assignee}` : '',
      ].filter(Boolean);
      // A cluster is the merged one of at most one merge a run: the run names the entry.
      await this.logDetection(merge.into, 'merged', `merged with ${described.join(', ')} by run ${run.runId}${changed.length > 0 ? `; ${changed.join(', ')}` : ''}`, run, `merged-with:${run.runId}`);
      for (const part of parts) await this.logDetection(part.id, 'merged', `merged into ${merge.into} by run ${run.runId}`, run, `merged-into:${run.runId}:${merge.into}`);
    }
  }

  /**
   * Reopens the dismissed clusters that accounts joined (a run is about to save them): a dismissal covered
   * the accounts it was given, so the cluster is `new` again and its log says who joined. Other statuses
   * stay. `joined` are `platform#account` keys. For example, when dismissed c-a gains photoshare#p-3, its
   * log says "status dismissed -> new: 1 account joined by run ... (photoshare/p-3); the dismissal
   * covered the accounts before".
   */
  private async reopenGrown(allGrown: Array<{ id: string; joined: string[] }>, attended: ReadonlySet<string>, run: DetectionRun): Promise<void> {
    // Only a reviewed cluster can be dismissed: the others need no read.
    const grown = allGrown.filter((cluster) => attended.has(cluster.id));
    if (grown.length === 0) return;
    const reviews = await this.deps.reviews.reviewsOf(grown.map((cluster) => cluster.id));
    for (const { id, joined } of grown) {
      if (reviews.get(id)!.status !== 'dismissed') continue;
      await this.deps.reviews.update(id, { status: 'new' }, DETECTION_ACTOR, this.now().toISOString());
      const named = joined.slice(0, JOINED_NAMED).map((key) => key.replace('#', '/')).join(', ');
      const more = joined.length > JOINED_NAMED ? ` and ${joined.length - JOINED_NAMED} more` : '';
      await this.logDetection(id, 'status-changed', `status dismissed -> new: ${joined.length} account${joined.length === 1 ? '' : 's'} joined by run ${run.runId} (${named}${more}); the dismissal covered the accounts before`, run, `reopened:${run.runId}`);
    }
  }

  /**
   * Records that someone was shown a cluster's report (or, through a lookup, part of it); `detail` says
   * how, when it was not by opening the report itself.
   */
  async viewed(clusterId: string, actor: string, detail = 'opened the cluster report'): Promise<void> {
    await this.log(clusterId, actor, 'viewed', detail);
  }

  async review(clusterId: string): Promise<ReviewState & { clusterId: string; notes: ReviewNote[] }> {
    await this.report(clusterId);
    const [state, notes] = await Promise.all([this.deps.reviews.get(clusterId), this.deps.reviews.notes(clusterId)]);
    return { clusterId, ...state, notes };
  }

  /** Changes status and/or assignee; each actual change is one audit entry. */
  async updateReview(clusterId: string, change: { status?: ReviewStatus; assignee?: string | null }, actor: string): Promise<ReviewState> {
    await this.report(clusterId);
    const { before, after } = await this.deps.reviews.update(clusterId, change, actor, this.now().toISOString());
    if (before.status !== after.status) await this.log(clusterId, actor, 'status-changed', `status ${before.status} -> ${after.status}`);
    if (before.assignee !== after.assignee) await this.log(clusterId, actor, 'assigned', after.assignee ? `assigned to ${after.assignee}` : `unassigned (was ${before.assignee})`);
    return after;
  }

  async addNote(clusterId: string, text: string, actor: string): Promise<ReviewNote> {
    await this.report(clusterId);
    const note = await this.deps.reviews.addNote(clusterId, text, actor, this.now().toISOString());
    await this.log(clusterId, actor, 'note-added', `note: ${text.length > 120 ? `${text.slice(0, 117)}...` : text}`);
    return note;
  }

  async auditLog(clusterId: string, page: { limit: number; cursor?: string }): Promise<{ entries: AuditEntry[]; next: string | null }> {
    return this.deps.audit.list(clusterId, page);
  }

  /** Records a verdict on two accounts; with a cluster id, both must be members and the cluster's log says so. */
  async recordVerdict(input: { a: AccountRef; b: AccountRef; kind: Verdict['kind']; clusterId?: string }, actor: string): Promise<Verdict> {
    if (accountKey(input.a) === accountKey(input.b)) throw new ValidationError('a and b are the same account: a verdict needs two different accounts');
    if (input.clusterId) {
      const report = await this.report(input.clusterId);
      const members = new Set(report.members.map(accountKey));
      for (const ref of [input.a, input.b]) {
        if (!members.has(accountKey(ref))) throw new ValidationError(`${ref.platform}/${ref.account} is not a member of cluster ${input.clusterId}`);
      }
    }
    const verdict: Verdict = { a: accountKey(input.a), b: accountKey(input.b), kind: input.kind, by: actor, atMs: this.now().getTime() };
    await this.deps.verdicts.put(verdict);
    if (input.clusterId) {
      const words = input.kind === 'same-actor' ? 'same actor' : 'not the same actor';
      await this.log(input.clusterId, actor, 'verdict-recorded', `${input.a.platform}/${input.a.account} and ${input.b.platform}/${input.b.account}: ${words} (applies from the next detection run)`);
    }
    return verdict;
  }

  /** The context around a cluster's report; it shows the members, so it is audited as a view by `actor`. */
  async context(clusterId: string, actor: string): Promise<ClusterContext> {
    const report = await this.report(clusterId);
    const timelineMembers = report.members.slice(0, MAX_TIMELINE_MEMBERS);
    const [members, observations, run, verdicts, removedBy] = await Promise.all([
      this.deps.members.facts(report.members),
      this.deps.members.observations(timelineMembers),
      this.deps.runs.get(report.runId),
      this.deps.verdicts.all(),
      report.removedInRun ? this.deps.runs.get(report.removedInRun) : undefined,
    ]);
    // The merges and splits of the run that wrote the report and of the one that dissolved it (stored beside each run).
    const [lineage, removedLineage] = await Promise.all([run && this.deps.runs.lineage(run), removedBy && this.deps.runs.lineage(removedBy)]);
    const hubValues = new Map((run?.hubs ?? []).map((hub) => [`${hub.type}#${hub.value}`, { ...hub, members: [] as AccountRef[] }]));
    for (const observation of observations) {
      hubValues.get(`${observation.type}#${observation.value}`)?.members.push({ platform: observation.platform, account: observation.account });
    }
    const memberKeys = new Set(report.members.map(accountKey));
    await this.viewed(clusterId, actor, 'opened the cluster context (member facts, timeline and hubs)');
    return {
      clusterId,
      members,
      // By instant: platforms send their own offsets (12:00+05:00 is before 09:00Z), so the strings do not sort.
      observations: observations.sort((x, y) => Date.parse(x.observedAt) - Date.parse(y.observedAt)),
      observationsTruncated: report.members.length > timelineMembers.length,
      hubs: [...hubValues.values()].filter((hub) => hub.members.length > 0),
      change: {
        runId: report.runId,
        detectedAt: report.detectedAt,
        kind: lineage?.born.includes(clusterId) ? 'born' : lineage?.kept.includes(clusterId) ? 'kept' : 'unknown',
        splitFrom: (lineage?.splits ?? []).filter((split) => split.into.includes(clusterId) && split.from !== clusterId).map((split) => split.from),
        mergedFrom: (lineage?.merges ?? []).find((merge) => merge.into === clusterId)?.from.filter((id) => id !== clusterId) ?? [],
        dissolvedInto: [
          ...new Set([
            ...(removedLineage?.merges ?? []).filter((merge) => merge.from.includes(clusterId)).map((merge) => merge.into),
            ...(removedLineage?.splits ?? []).filter((split) => split.from === clusterId).flatMap((split) => split.into),
          ]),
        ].sort(),
      },
      recordedVerdicts: verdicts.filter((verdict) => memberKeys.has(verdict.a) && memberKeys.has(verdict.b)),
    };
  }

  /** The evidence path between two members of a cluster, audited as a view by `actor` (it shows members and links). */
  async path(clusterId: string, from: AccountRef, to: AccountRef, actor: string): Promise<EvidencePath> {
    const report = await this.report(clusterId);
    let path: EvidencePath;
    try {
      path = evidencePath(report.links, from, to);
    } catch (error) {
      const members = new Set(report.members.map(accountKey));
      if (error instanceof EvidencePathError && report.linksTotal !== undefined && members.has(accountKey(from)) && members.has(accountKey(to))) {
        throw new ValidationError(
          `this cluster's report holds only ${report.links.length} of its ${report.linksTotal} links (it is too large to store whole), and none of them joins ${from.platform}/${from.account} and ${to.platform}/${to.account}: a cluster this large is usually shared infrastructure below the hub threshold, not one actor`,
        );
      }
      if (error instanceof EvidencePathError) throw new ValidationError(error.message);
      throw error;
    }
    await this.viewed(clusterId, actor, `opened the evidence path from ${from.platform}/${from.account} to ${to.platform}/${to.account}`);
    return path;
  }

  /** A cluster rendered as a file, and the export written to its log. */
  async export(clusterId: string, format: ExportFormat, actor: string): Promise<{ fileName: string; body: string }> {
    const report = await this.report(clusterId);
    const [review, notes, members, audit] = await Promise.all([
      this.deps.reviews.get(clusterId),
      this.deps.reviews.notes(clusterId),
      this.deps.members.facts(report.members),
      this.wholeAuditLog(clusterId),
    ]);
    const at = this.now().toISOString();
    const body = exportCluster({ report, review, notes, members, audit, exportedAt: at, exportedBy: actor }, format);
    await this.log(clusterId, actor, 'exported', `exported as ${format.toUpperCase()}`);
    return { fileName: exportFileName(clusterId, format), body };
  }

  /** Every entry of a cluster's audit log, newest first (an export is the record: no page of it is left out). */
  private async wholeAuditLog(clusterId: string): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.audit.list(clusterId, { limit: 500, cursor });
      entries.push(...page.entries);
      cursor = page.next ?? undefined;
    } while (cursor);
    return entries;
  }

  private async report(clusterId: string): Promise<ClusterReport> {
    const report = await this.deps.clusters.report(clusterId);
    if (!report) throw new NotFoundError(`no cluster ${clusterId}: list clusters with GET /v1/clusters`);
    return report;
  }

  private log(clusterId: string, actor: string, action: AuditAction, detail: string): Promise<void> {
    return this.deps.audit.record(clusterId, { at: this.now().toISOString(), actor, action, detail });
  }

  /** An entry of what a detection run did, written once under `key` however often its task is delivered. */
  private async logDetection(clusterId: string, action: AuditAction, detail: string, run: DetectionRun, key: string): Promise<void> {
    await this.deps.audit.recordOnce(clusterId, { at: run.startedAt, actor: DETECTION_ACTOR, action, detail }, key);
  }
}
