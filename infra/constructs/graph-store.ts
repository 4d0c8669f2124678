/**
 * The graph store: the one DynamoDB table of docs/ARCHITECTURE.md. On demand, point-in-time
 * recovery, a customer-managed key, TTL on `expiresAt` for retention, deletion protection, and
 * retained when the stack is deleted (it is the evidence).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { GSI1 as TABLE_GSI1, PARTITION_KEY, RANKING_INDEX, SORT_KEY, TTL_ATTRIBUTE } from '../../lib/graph/table-schema.js';

/** Props of {@link GraphStore}. */
export interface GraphStoreProps {
  /** Encrypts the table and its backups. */
  key: kms.IKey;
}

/** The name of the secondary index that lists an account's signals and the runs by start time. */
export const GSI1 = TABLE_GSI1.name;
/** The TTL attribute: epoch seconds after which DynamoDB deletes the item. */
export { TTL_ATTRIBUTE };

export class GraphStore extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: GraphStoreProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: GSI1,
      partitionKey: { name: TABLE_GSI1.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_GSI1.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Sparse: only current clusters' reports carry its keys (see RANKING_INDEX).
    this.table.addGlobalSecondaryIndex({
      indexName: RANKING_INDEX.name,
      partitionKey: { name: RANKING_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: RANKING_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...RANKING_INDEX.attributes],
    });
  }
}
