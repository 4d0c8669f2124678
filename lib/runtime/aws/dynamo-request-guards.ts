/**
 * DynamoDB adapters of the platform gate's replay guard and rate limiter: conditional writes, so they
 * hold across every Lambda instance. Items expire through the table's TTL.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter, ReplayGuard } from '../../auth/platform-gate.js';

const WINDOW_SECONDS = 60;

export class DynamoReplayGuard implements ReplayGuard {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(fingerprint: string, expiresAtSeconds: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `REPLAY#${fingerprint}`, sk: 'REPLAY', kind: 'replay', expiresAt: expiresAtSeconds },
          // TTL deletes lazily, so an expired marker counts as absent.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async release(fingerprint: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: `REPLAY#${fingerprint}`, sk: 'REPLAY' } }));
  }
}

/** A fixed one-minute window per key. */
export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async take(key: string, limitPerMinute: number): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const nowSeconds = Math.floor(this.nowMs() / 1000);
    const windowStart = nowSeconds - (nowSeconds % WINDOW_SECONDS);
    const retryAfterSeconds = Math.max(1, windowStart + WINDOW_SECONDS - nowSeconds);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `RATE#${key}`, sk: String(windowStart) },
          UpdateExpression: 'ADD requests :one SET expiresAt = :expires, kind = :kind',
          ConditionExpression: 'attribute_not_exists(requests) OR requests < :limit',
          ExpressionAttributeValues: { ':one': 1, ':limit': limitPerMinute, ':expires': windowStart + 2 * WINDOW_SECONDS, ':kind': 'rate' },
        }),
      );
      return { allowed: true, retryAfterSeconds: 0 };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { allowed: false, retryAfterSeconds };
      throw error;
    }
  }
}
