/**
 * What the console shows about a cluster's members beyond the report: each account's metadata
 * (`ACC#..` / `META`) and the signals it was seen with (gsi1 by account), for the timeline and for
 * telling which excluded hubs touch the cluster.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from './batch-get.js';
import type { AccountRef } from '../contract/platforms.js';
import { isLiveRecord } from './account-records.js';
import { accountPk, isAccountMeta, SK_META } from './keys.js';
import { allItems } from './paginate.js';
import { GSI1 } from './table-schema.js';

/** Metadata of one member; null where the platform sent none. */
export interface MemberFactsRecord extends AccountRef {
  createdAt: string | null;
  minorContacts7d: number | null;
  reports30d: number | null;
}

/** One signal observation of one member. */
export interface MemberObservation extends AccountRef {
  type: string;
  value: string;
  observedAt: string;
}

export class MemberFactsReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Metadata of each account, in the order given. */
  async facts(refs: AccountRef[]): Promise<MemberFactsRecord[]> {
    const items = await batchGetAll(this.db, this.tableName, refs.map((ref) => ({ pk: accountPk(ref.platform, ref.account), sk: SK_META })));
    const nowS = Math.floor(Date.now() / 1000);
    const found = new Map(items.filter((item) => isAccountMeta(item) && isLiveRecord(item, nowS)).map((item) => [String(item.pk), item]));
    return refs.map((ref) => {
      const item = found.get(accountPk(ref.platform, ref.account));
      return {
        platform: ref.platform,
        account: ref.account,
        createdAt: item?.createdAt ?? null,
        minorContacts7d: item?.minorContacts7d ?? null,
        reports30d: item?.reports30d ?? null,
      };
    });
  }

  /** Every stored signal of these accounts (a few queries at a time). */
  async observations(refs: AccountRef[], concurrency = 8): Promise<MemberObservation[]> {
    const observations: MemberObservation[] = [];
    for (let start = 0; start < refs.length; start += concurrency) {
      const batch = refs.slice(start, start + concurrency);
      const results = await Promise.all(
        batch.map((ref) =>
          allItems(this.db, {
            query: {
              TableName: this.tableName,
              IndexName: GSI1.name,
              KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :sig)',
              ExpressionAttributeValues: { ':pk': accountPk(ref.platform, ref.account), ':sig': 'SIG#' },
              ProjectionExpression: '#type, #value, observedAt',
              ExpressionAttributeNames: { '#type': 'type', '#value': 'value' },
            },
          }),
        ),
      );
      results.forEach((items, n) => {
        for (const item of items) observations.push({ ...batch[n], type: String(item.type), value: String(item.value), observedAt: String(item.observedAt) });
      });
    }
    return observations;
  }
}
