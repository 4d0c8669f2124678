/**
 * Detection runs: one item per run, and pointers to the newest run and the newest successful one.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClusterLineage } from '../detect/model.js';
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
  /** What an incremental run must share with the run before it to give a full run's answer. */
  basis?: { optionsFingerprint: string; verdictsFingerprint: string; agingStep: number };
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  timingsMs?: Record<string, number>;
  counts?: Record<string, number>;
  /** Identifiers excluded as shared infrastructure (the largest first, at most 100 listed). */
  hubs?: Array<{ type: string; value: string; accounts: number }>;
  hubsExcluded?: number;
  /** How this run's clusters relate to the previous ones: kept, born, dissolved, splits, merges. */
  lineage?: ClusterLineage;
  error?: string;
}

export class RunRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(run: RunRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: runPk(run.runId), sk: SK_RUN, gsi1pk: RUNS_INDEX_PK, gsi1sk: run.startedAt, kind: 'run', ...run },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    await this.setPointer(SK_LATEST_RUN, run.runId);
  }

  async finish(runId: string, outcome: Omit<RunRecord, 'runId' | 'trigger' | 'startedAt'>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    for (const [field, value] of Object.entries(outcome)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: runPk(runId), sk: SK_RUN },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    if (outcome.status === 'succeeded') await this.setPointer(SK_LAST_SUCCESSFUL_RUN, runId);
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: runPk(runId), sk: SK_RUN } }));
    if (!result.Item) return undefined;
    const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, kind: _kind, ...run } = result.Item;
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
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: STAT_PK, sk } }));
    return result.Item?.runId as string | undefined;
  }

  private async setPointer(sk: string, runId: string): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { pk: STAT_PK, sk, runId } }));
  }
}
