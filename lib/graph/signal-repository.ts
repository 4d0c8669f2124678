/**
 * Signal memberships and account metadata in DynamoDB: what the consumer writes and detection reads.
 * Keys make every write idempotent: the same signal stored twice is one item.
 */
import { GetCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { AccountMeta, Signal, SignalType } from '../contract/signals.js';
import type { AccountFacts, Membership } from '../detect/model.js';
import { batchWriteAll } from './batch-write.js';
import { accountPk, SK_COUNTERS, SK_META, signalPk, STAT_PK } from './keys.js';

/** What detection needs from the store: every live membership and every account's metadata. */
export interface GraphSnapshot {
  memberships: Array<Membership & { platform: string }>;
  accounts: Map<string, AccountFacts>;
}

export class SignalRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores signals of one platform. Idempotent: keyed by (type, value, platform, account). */
  async putSignals(platform: string, signals: Signal[], options: { receivedAt: string; expiresAtSeconds: number }): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      signals.map((signal) => ({
        PutRequest: {
          Item: {
            pk: signalPk(signal.type, signal.value),
            sk: accountPk(platform, signal.account),
            gsi1pk: accountPk(platform, signal.account),
            gsi1sk: signalPk(signal.type, signal.value),
            kind: 'signal',
            type: signal.type,
            value: signal.value,
            platform,
            account: signal.account,
            observedAt: signal.observedAt,
            keyId: signal.keyId,
            receivedAt: options.receivedAt,
            expiresAt: options.expiresAtSeconds,
          },
        },
      })),
    );
  }

  /**
   * Stores account metadata; a record older than the one stored (by `reportedAt`) is ignored,
   * so that redelivered or reordered messages never roll an account back.
   */
  async putAccountMeta(platform: string, accounts: AccountMeta[], reportedAt: string): Promise<void> {
    await Promise.all(
      accounts.map(async (meta) => {
        try {
          await this.db.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: accountPk(platform, meta.account), sk: SK_META },
              UpdateExpression:
                'SET kind = :kind, platform = :platform, account = :account, reportedAt = :reportedAt, createdAt = :createdAt, minorContacts7d = :minors, reports30d = :reports',
              ConditionExpression: 'attribute_not_exists(reportedAt) OR reportedAt <= :reportedAt',
              ExpressionAttributeValues: {
                ':kind': 'account',
                ':platform': platform,
                ':account': meta.account,
                ':reportedAt': reportedAt,
                ':createdAt': meta.createdAt ?? null,
                ':minors': meta.minorContacts7d ?? null,
                ':reports': meta.reports30d ?? null,
              },
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }),
    );
  }

  /** Adds to the count of signals accepted at the API. */
  async addAccepted(count: number): Promise<void> {
    if (count <= 0) return;
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: STAT_PK, sk: SK_COUNTERS },
        UpdateExpression: 'ADD signalsAccepted :n',
        ExpressionAttributeValues: { ':n': count },
      }),
    );
  }

  async acceptedCount(): Promise<number> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: STAT_PK, sk: SK_COUNTERS } }));
    return Number(result.Item?.signalsAccepted ?? 0);
  }

  /** Counts stored signal items exactly (a full scan: fine for status checks, not for hot paths). */
  async storedCount(): Promise<number> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          Select: 'COUNT',
          FilterExpression: 'kind = :signal',
          ExpressionAttributeValues: { ':signal': 'signal' },
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  /** Reads every signal membership and account record (one scan) for a detection run. */
  async snapshot(): Promise<GraphSnapshot> {
    const memberships: GraphSnapshot['memberships'] = [];
    const accounts = new Map<string, AccountFacts>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'kind IN (:signal, :account)',
          ExpressionAttributeValues: { ':signal': 'signal', ':account': 'account' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const key = `${item.platform}#${item.account}`;
        if (item.kind === 'signal') {
          memberships.push({
            account: key,
            platform: String(item.platform),
            type: item.type as SignalType,
            value: String(item.value),
            observedAtMs: Date.parse(String(item.observedAt)),
          });
        } else {
          accounts.set(key, {
            createdAtMs: item.createdAt ? Date.parse(String(item.createdAt)) : undefined,
            minorContacts7d: item.minorContacts7d ?? undefined,
            reports30d: item.reports30d ?? undefined,
          });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { memberships, accounts };
  }
}
