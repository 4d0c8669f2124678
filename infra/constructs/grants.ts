/**
 * Grants whose CDK-generated policies carry wildcards that cdk-nag reports, each granted and
 * acknowledged in one place with the reason the wildcard is already scoped.
 */
import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

function logicalId(resource: IConstruct): string {
  return Stack.of(resource).getLogicalId(resource.node.defaultChild as CfnResource);
}

/** The grantee's role: acknowledgements go on it so that they cover its default policy. */
function roleOf(grantee: iam.IGrantable & IConstruct): IConstruct {
  const role = (grantee as Partial<lambda.IFunction>).role;
  return role ?? grantee;
}

/**
 * Lets `grantee` read and write the items of `table` (and its indexes), and use the table's key for it.
 * @example grantTableData(table, consumer.fn);
 */
export function grantTableData(table: dynamodb.Table, grantee: iam.IGrantable & IConstruct): void {
  table.grantReadWriteData(grantee);
  const target = roleOf(grantee);
  Validations.of(target).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId(table)}.Arn>/index/*]`,
    reason: 'Queries the graph table\'s own secondary indexes (gsi1, ranking); the wildcard covers the indexes of this one table only.',
  });
  if (table.encryptionKey) {
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      Validations.of(target).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `DynamoDB needs ${action} on the table's customer-managed key to read and write encrypted items; the statement names that one key.`,
      });
    }
  }
}

/**
 * Acknowledges the `:*` resource of an invoke grant made elsewhere (e.g. by a scheduler target).
 * @example acknowledgeInvokeGrant(detect.fn, scheduleRole);
 */
export function acknowledgeInvokeGrant(fn: lambda.IFunction & IConstruct, granteeRole: IConstruct): void {
  Validations.of(granteeRole).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`,
    reason: 'Invokes one function; the :* suffix that CDK adds covers that function\'s own versions and aliases, nothing else.',
  });
}

/**
 * Lets `grantee` invoke `fn`.
 * @example grantInvokeFunction(detect.fn, investigatorApi.fn);
 */
export function grantInvokeFunction(fn: lambda.IFunction & IConstruct, grantee: iam.IGrantable & IConstruct): void {
  fn.grantInvoke(grantee);
  acknowledgeInvokeGrant(fn, roleOf(grantee));
}
