/**
 * Detection runs: one item per run, and pointers to the newest run and the newest successful one.
 */
import { hash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from './batch-write.js';
import { allItems } from './paginate.js';
import { appendAll } from '../append-all.js';
import type { ClusterLineage } from '../detect/model.js';
import type { ChangeLogSeen } from './change-log.js';
import { RUNS_INDEX_PK, runPk, SK_LAST_SUCCESSFUL_RUN, SK_LATEST_RUN, SK_RUN, STAT_PK } from './keys.js';

export type RunStatus = 'running' | 'succeeded' | 'failed';

/** A detection run as the API reports it. */
export interface RunRecord {
  runId: string;
  status: RunStatus;
  trigger: 'on-demand' | 'quiet-ingest' | 'schedule';
  /** What was asked for; `mode` is what ran. */
  requestedMode?: 'full' | 'incremental' | 'auto';
  mode?: 'full' | 'incremental';
  /** Why an `auto` run ran in full (no previous successful run, or it ran on other options, verdicts or ageing step). */
  fullBecause?: string;
  /** What an incremental run must share with the run before it to give a full run's answer. */
  basis?: { optionsFingerprint: string; verdictsFingerprint: string; agingStep: number };
  startedAt: string;
  /** The run that was newest when this one was created (the newest-run pointer moves only from it to this one). */
  after?: string;
  finishedAt?: string;
  durationMs?: number;
  timingsMs?: Record<string, number>;
  counts?: Record<string, number>;
  /**
   * An incremental run from a kept graph: the change-log items it saw from its start less the log's
   * margin, which the next run skips when it finds exactly them again (ChangeLog.detailSince).
   */
  changeLog?: ChangeLogSeen;
  /** Identifiers excluded as shared infrastructure (the largest first, at most 100 listed). */
  hubs?: Array<{ type: string; value: string; accounts: number }>;
  hubsExcluded?: number;
  /**
   * How this run's clusters relate to the previous ones: its splits and merges. On the record only for a
   * run without tasks, or one an earlier version finished: a fanned-out run keeps each task's splits and
   * merges in items beside the record ({@link RunRepository.lineage}), which would outgrow a DynamoDB
   * item at scale (`counts.clusterMerges` and `counts.clusterSplits` say how many). The lists of kept,
   * born and dissolved ids stay empty (a dissolved cluster's report says which run removed it), so a
   * cluster page cannot tell born from kept yet.
   */
  lineage?: ClusterLineage;
  error?: string;
  /** A fanned-out run: how many component tasks, and how many are done or failed. */
  tasksTotal?: number;
  tasksDone?: number;
  tasksFailed?: number;
}

/** One component task of a fanned-out run: the accounts and identifiers its closure starts from. */
export interface DetectionTask {
  accounts: string[];
  identifiers: string[];
  /** For an incremental task: when the run it builds on started. */
  since?: string;
}

/** What a component task reports when it ends. */
export interface TaskOutcome {
  failed: boolean;
  error?: string;
  /** Added to the run's counts (the run must have been created with these counts at 0). */
  counts: Record<string, number>;
  merges: ClusterLineage['merges'];
  splits: ClusterLineage['splits'];
}

/** Bytes in one stored part of a task (gzipped): under DynamoDB's 400 KB item limit. */
const TASK_PART_BYTES = 350_000;

/** Counts a fanned-out run sums over its tasks. */
export const TASK_COUNTS = [
  'accounts',
  'memberships',
  'links',
  'clusters',
  'crossPlatformClusters',
  'clustersWritten',
  'clustersUnchanged',
  'clustersRemoved',
  // Written clusters whose report holds part of its links (too large for one item whole).
  'clustersTrimmed',
  // DynamoDB items the save put or deleted (ClusterRepository.applyRun).
  'itemsWritten',
  'closureQueries',
  // Milliseconds summed over tasks, per phase: where a run's time goes.
  'taskLoadMs',
  'taskDetectMs',
  'taskSaveMs',
  // How many merges and splits of clusters the tasks recorded (the lists: RunRepository.lineage).
  'clusterMerges',
  'clusterSplits',
] as const;

const EMPTY_LINEAGE: ClusterLineage = { kept: [], born: [], dissolved: [], merges: [], splits: [] };
/** Finished runs whose lineage a repository keeps in memory (it never changes once the run ended). */
const LINEAGES_KEPT = 8;

/**
 * Items holding `bytes` in parts of at most {@link TASK_PART_BYTES}, keyed `<prefix><part>` under the run.
 * Each part carries the digest of the whole, so that a reader tells the parts of one write from those an
 * earlier write of the same key left (a task delivered again may store a lineage of fewer parts).
 */
function partItems(runId: string, prefix: string, kind: string, bytes: Buffer, extra: Record<string, unknown> = {}) {
  const parts = Math.max(1, Math.ceil(bytes.length / TASK_PART_BYTES));
  const digest = hash('sha256', bytes, 'base64');
  return Array.from({ length: parts }, (_, part) => ({
    PutRequest: { Item: { pk: runPk(runId), sk: `${prefix}${String(part).padStart(4, '0')}`, kind, parts, digest, body: bytes.subarray(part * TASK_PART_BYTES, (part + 1) * TASK_PART_BYTES), ...extra } },
  }));
}

/**
 * The JSON that parts written by {@link partItems} hold, read back in key order; `what` names it when no
 * write's parts are all there. Parts left by an earlier write under the same keys are passed over: the
 * write whose parts are all stored is read (parts an earlier version wrote have no digest: one write).
 */
function joinParts(items: Array<Record<string, unknown>>, what: string): unknown {
  const byWrite = new Map<unknown, Array<Record<string, unknown>>>();
  for (const item of items) {
    const write = byWrite.get(item.digest);
    if (write) write.push(item);
    else byWrite.set(item.digest, [item]);
  }
  const whole = [...byWrite.values()].find((write) => write.length === write[0].parts);
  if (!whole) throw new Error(`${what} has ${items.length} of its ${items[0].parts} parts stored`);
  return JSON.parse(gunzipSync(Buffer.concat(whole.map((item) => item.body as Uint8Array))).toString('utf8'));
}

const lineageSk = (taskNo: number) => `LINEAGE#${String(taskNo).padStart(6, '0')}#`;

export class RunRepository {
  /** The lineage of runs that ended, newest last ({@link lineage}). */
  private readonly lineages = new Map<string, ClusterLineage>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Records a new run and makes it the newest, provided the newest is still `expectedLatest` (no run at
   * all when undefined): two starts that saw the same newest run cannot both begin one. Answers false,
   * leaving nothing behind, when another run became the newest first.
   */
  async create(run: RunRecord, expectedLatest: string | undefined): Promise<boolean> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: runPk(run.runId), sk: SK_RUN, gsi1pk: RUNS_INDEX_PK, gsi1sk: run.startedAt, kind: 'run', ...run },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: STAT_PK, sk: SK_LATEST_RUN, runId: run.runId },
          ConditionExpression: expectedLatest === undefined ? 'attribute_not_exists(pk)' : 'runId = :expected',
          ExpressionAttributeValues: expectedLatest === undefined ? undefined : { ':expected': expectedLatest },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: runPk(run.runId), sk: SK_RUN } }));
      return false;
    }
  }

  /** Updates a running run; a run that has ended (succeeded, failed, or ended as stale) is left as it is. */
  async finish(runId: string, outcome: Omit<RunRecord, 'runId' | 'trigger' | 'startedAt'>): Promise<void> {
    const names: Record<string, string> = { '#current': 'status' };
    const values: Record<string, unknown> = { ':running': 'running' };
    const sets: string[] = [];
    for (const [field, value] of Object.entries(outcome)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: runPk(runId), sk: SK_RUN },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: '#current = :running',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
    if (outcome.status === 'succeeded') await this.setPointer(SK_LAST_SUCCESSFUL_RUN, runId);
  }

  /**
   * Stores a fanned-out run's tasks, each gzipped whole and cut into parts of at most
   * {@link TASK_PART_BYTES}, so that no item nears DynamoDB's 400 KB however large the task.
   */
  async putTasks(runId: string, tasks: Array<DetectionTask & { memberships?: unknown[] }>): Promise<void> {
    const expiresAt = Math.floor(Date.now() / 1000) + 7 * 86_400;
    const items = tasks.flatMap((task, n) => partItems(runId, `TASK#${n}#`, 'task', gzipSync(JSON.stringify(task), { level: 1 }), { expiresAt }));
    await batchWriteAll(this.db, this.tableName, items);
  }

  async getTask(runId: string, taskNo: number): Promise<(DetectionTask & { memberships?: unknown[] }) | undefined> {
    const items = await allItems(this.db, {
      query: { TableName: this.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :task)', ExpressionAttributeValues: { ':pk': runPk(runId), ':task': `TASK#${taskNo}#` } },
    });
    if (items.length === 0) return undefined;
    return joinParts(items, `task ${taskNo} of run ${runId}`) as DetectionTask & { memberships?: unknown[] };
  }

  /**
   * A run's splits and merges, in task order: from the items its tasks stored beside it, or from the
   * record (a run without tasks, or one an earlier version finished). A finished run's is kept in memory.
   */
  async lineage(run: RunRecord): Promise<ClusterLineage> {
    const known = this.lineages.get(run.runId);
    if (known) return known;
    const items = await allItems(this.db, {
      query: { TableName: this.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :lineage)', ExpressionAttributeValues: { ':pk': runPk(run.runId), ':lineage': 'LINEAGE#' } },
    });
    let lineage = run.lineage ?? EMPTY_LINEAGE;
    if (items.length > 0) {
      const merges: ClusterLineage['merges'] = [];
      const splits: ClusterLineage['splits'] = [];
      const taskOf = (item: Record<string, unknown>) => String(item.sk).slice(0, lineageSk(0).length);
      // The query answers in key order: each task's parts lie together, tasks in order.
      for (let first = 0, end = 0; first < items.length; first = end) {
        const task = taskOf(items[first]);
        while (end < items.length && taskOf(items[end]) === task) end++;
        const stored = joinParts(items.slice(first, end), `the lineage of ${task} in run ${run.runId}`) as Pick<ClusterLineage, 'merges' | 'splits'>;
        appendAll(merges, stored.merges);
        appendAll(splits, stored.splits);
      }
      lineage = { ...lineage, merges: [...lineage.merges, ...merges], splits: [...lineage.splits, ...splits] };
    }
    if (run.status !== 'running') {
      if (this.lineages.size >= LINEAGES_KEPT) this.lineages.delete(this.lineages.keys().next().value!);
      this.lineages.set(run.runId, lineage);
    }
    return lineage;
  }

  /**
   * Adds one task's outcome to its run, atomically and once per task (a task delivered again is not
   * counted again); the task that completes the run finishes it (succeeded, or failed when any task
   * failed). Returns the run as that task left it.
   */
  async completeTask(runId: string, taskNo: number, outcome: TaskOutcome, finishedAt: string): Promise<RunRecord> {
    // Beside the record, before the task counts as done: the run's last task finds every task's there.
    // A task delivered again writes its lineage again: the same, or another when it found its clusters
    // as its first delivery saved them (a reader takes the write whose parts are all stored).
    if (outcome.merges.length > 0 || outcome.splits.length > 0) {
      const bytes = gzipSync(JSON.stringify({ merges: outcome.merges, splits: outcome.splits }), { level: 1 });
      await batchWriteAll(this.db, this.tableName, partItems(runId, lineageSk(taskNo), 'lineage', bytes));
    }
    const counts: Record<string, number> = { ...outcome.counts, clusterMerges: outcome.merges.length, clusterSplits: outcome.splits.length };
    const names: Record<string, string> = { '#counts': 'counts', '#done': outcome.failed ? 'tasksFailed' : 'tasksDone', '#completed': 'tasksCompleted' };
    const values: Record<string, unknown> = { ':one': 1, ':zero': 0, ':taskNo': taskNo, ':taskSet': new Set([taskNo]) };
    const sets: string[] = [];
    for (const name of TASK_COUNTS) {
      names[`#c_${name}`] = name;
      values[`:c_${name}`] = counts[name] ?? 0;
      // A run an earlier version created may lack a count added since.
      sets.push(`#counts.#c_${name} = if_not_exists(#counts.#c_${name}, :zero) + :c_${name}`);
    }
    if (outcome.error) {
      names['#error'] = 'error';
      values[':error'] = outcome.error;
      sets.push('#error = :error');
    }
    let updated;
    try {
      updated = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: runPk(runId), sk: SK_RUN },
          UpdateExpression: `SET ${sets.join(', ')} ADD #done :one, #completed :taskSet`,
          ConditionExpression: 'attribute_not_exists(#completed) OR NOT contains(#completed, :taskNo)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return (await this.get(runId))!;
    }
    const run = updated.Attributes as RunRecord;
    const finished = (run.tasksDone ?? 0) + (run.tasksFailed ?? 0);
    if (run.status === 'running' && finished === run.tasksTotal) {
      await this.finish(runId, { status: run.tasksFailed ? 'failed' : 'succeeded', finishedAt, durationMs: Date.parse(finishedAt) - Date.parse(run.startedAt) });
    }
    return (await this.get(runId))!;
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    // Strongly consistent, as the pointers are: a run just finished is never read as still running
    // (a start would join it instead of beginning a new one).
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: runPk(runId), sk: SK_RUN }, ConsistentRead: true }));
    if (!result.Item) return undefined;
    const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, kind: _kind, taskMerges: _m, taskSplits: _s, tasksCompleted: _c, ...run } = result.Item;
    return run as RunRecord;
  }

  /** The newest run, whatever its status. */
  async latest(): Promise<RunRecord | undefined> {
    const runId = await this.pointer(SK_LATEST_RUN);
    return runId ? this.get(runId) : undefined;
  }

  /** The id of the newest run that succeeded: the one whose clusters the API serves. */
  async lastSuccessfulRunId(): Promise<string | undefined> {
    return this.pointer(SK_LAST_SUCCESSFUL_RUN);
  }

  private async pointer(sk: string): Promise<string | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: STAT_PK, sk }, ConsistentRead: true }));
    return result.Item?.runId as string | undefined;
  }

  private async setPointer(sk: string, runId: string): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { pk: STAT_PK, sk, runId } }));
  }
}
