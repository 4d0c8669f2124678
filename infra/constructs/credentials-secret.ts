/**
 * The credentials document in Secrets Manager: `{"platforms":[{"id","secret"}],"investigatorToken"}`,
 * the same shape as the local stack's credentials.json (lib/auth/credentials.ts). The stack creates it
 * with no platforms and a generated investigator token; operators add platforms as in docs/operations.md.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Props of {@link CredentialsSecret}. */
export interface CredentialsSecretProps {
  key: kms.IKey;
  stage: string;
}

export class CredentialsSecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: CredentialsSecretProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: `crosslink/${props.stage}/credentials`,
      description: 'Crosslink credentials document: platform signing secrets and the investigator token',
      encryptionKey: props.key,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ platforms: [] }),
        generateStringKey: 'investigatorToken',
        passwordLength: 48,
        excludePunctuation: true,
      },
      // Platforms hold copies of these secrets; deleting the stack must not strand them without notice.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Each platform holds a copy of its signing secret, so a rotation Lambda cannot change it unilaterally; rotation is an operator procedure coordinated with the platform (docs/operations.md, "Rotate secrets").',
    });
  }
}
