/**
 * The graph store: the one DynamoDB table of docs/ARCHITECTURE.md. On demand, point-in-time
 * recovery, a customer-managed key, TTL on `expiresAt` for retention, deletion protection, and
 * retained when the stack is deleted (it is the evidence).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Props of {@link GraphStore}. */
export interface GraphStoreProps {
  /** Encrypts the table and its backups. */
  key: kms.IKey;
}

/** The name of the secondary index that lists an account's signals and the runs by start time. */
export const GSI1 = 'gsi1';
/** The TTL attribute: epoch seconds after which DynamoDB deletes the item. */
export const TTL_ATTRIBUTE = 'expiresAt';

export class GraphStore extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: GraphStoreProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
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
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
