/**
 * The audit log of a cluster: who viewed it, who changed its review, who added a note, recorded a
 * verdict or exported it, and when. Items live beside the cluster (`CLUSTER#<id>` / `AUDIT#<at>#<n>`),
 * are never rewritten, and outlive the cluster's report, so the record holds after re-detection.
 */
import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.js';
import { clusterPk } from './keys.js';

const AUDIT_PREFIX = 'AUDIT#';

/** What someone did to a cluster. */
export type AuditAction = 'viewed' | 'status-changed' | 'assigned' | 'note-added' | 'verdict-recorded' | 'exported' | 'merged';

/** One line of the audit log. */
export interface AuditEntry {
  at: string;
  /** Who did it (the staff principal's subject). */
  actor: string;
  action: AuditAction;
  /** What exactly, in words (e.g. `status new -> escalated`). */
  detail: string;
}

export class AuditRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Appends one entry; the random suffix keeps two entries of the same millisecond apart.
   *
   * @example
   * await audit.record('c-1f3a', { at: new Date().toISOString(), actor: 'investigator-token', action: 'viewed', detail: 'opened the report' });
   */
  async record(clusterId: string, entry: AuditEntry): Promise<void> {
    await this.put(clusterId, entry, randomBytes(4).toString('hex'));
  }

  /**
   * Appends one entry under `key`, once: a second call with the same `at` and `key` writes nothing and
   * answers false. For entries written by work that may run twice (a detection task SQS delivers again).
   *
   * @example
   * await audit.recordOnce('c-1f3a', { at: run.startedAt, actor: 'detection', action: 'merged', detail: 'merged into c-9b2e by run R' }, 'merged-into:R:c-9b2e');
   */
  async recordOnce(clusterId: string, entry: AuditEntry, key: string): Promise<boolean> {
    try {
      await this.put(clusterId, entry, key);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async put(clusterId: string, entry: AuditEntry, suffix: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: clusterPk(clusterId), sk: `${AUDIT_PREFIX}${entry.at}#${suffix}`, kind: 'audit', ...entry },
        // Entries are never rewritten: a key already written keeps its first entry.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /** A page of a cluster's audit log, newest first. */
  async list(clusterId: string, page: { limit: number; cursor?: string }): Promise<{ entries: AuditEntry[]; next: string | null }> {
    let startKey: Record<string, unknown> | undefined;
    if (page.cursor) {
      const sk = Buffer.from(page.cursor, 'base64url').toString('utf8');
      if (!sk.startsWith(AUDIT_PREFIX)) throw new ValidationError('cursor is not one this API gave: start again without a cursor');
      startKey = { pk: clusterPk(clusterId), sk };
    }
    const result = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': clusterPk(clusterId), ':prefix': AUDIT_PREFIX },
        ScanIndexForward: false,
        Limit: page.limit,
        ExclusiveStartKey: startKey,
      }),
    );
    const items = result.Items ?? [];
    return {
      entries: items.map((item) => ({ at: item.at, actor: item.actor, action: item.action, detail: item.detail })),
      next: result.LastEvaluatedKey ? Buffer.from(String(result.LastEvaluatedKey.sk)).toString('base64url') : null,
    };
  }
}
