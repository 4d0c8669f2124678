/**
 * Investigators' verdicts on pairs of accounts ("same actor" / "not the same actor"), which the next
 * detection run honours. One item per unordered pair: a newer verdict on the same pair replaces the older.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { allItems } from './paginate.js';
import type { Verdict } from '../detect/model.js';
import { VERDICT_PK } from './keys.js';

export class VerdictRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(verdict: Verdict): Promise<void> {
    const [a, b] = [verdict.a, verdict.b].sort();
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: VERDICT_PK, sk: `${a}|${b}`, kind: 'verdict', a, b, verdict: verdict.kind, by: verdict.by, atMs: verdict.atMs } }),
    );
  }

  async all(): Promise<Verdict[]> {
    const items = await allItems(this.db, { query: { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': VERDICT_PK } } });
    return items.map((item) => ({ a: item.a, b: item.b, kind: item.verdict, by: item.by, atMs: item.atMs }));
  }
}
