/**
 * Who investigators are: a Cognito user pool the stack creates (no self sign-up, MFA required,
 * Plus tier threat protection, groups `investigators` and `operators`), or an existing OIDC identity
 * provider named in the configuration. Either way the API gets one JWT authorizer.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer, HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { ExistingIdentityProvider } from '../config.js';

/** The Cognito groups lib/api/auth.ts maps to roles. */
export const STAFF_GROUPS = { investigators: 'Read clusters and reports, run detection', operators: 'Manage platform credentials and keys, read status' } as const;

/** Props of {@link InvestigatorIdentity}. */
export interface InvestigatorIdentityProps {
  stage: string;
  /** When given, trust it and create no user pool. */
  existing?: ExistingIdentityProvider;
}

export class InvestigatorIdentity extends Construct {
  readonly authorizer: apigwv2.IHttpRouteAuthorizer;
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: InvestigatorIdentityProps) {
    super(scope, id);
    if (props.existing) {
      this.authorizer = new HttpJwtAuthorizer('InvestigatorJwt', props.existing.issuer, { jwtAudience: props.existing.audience });
      return;
    }
    const userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `crosslink-${props.stage}-investigators`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 14, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const [groupName, description] of Object.entries(STAFF_GROUPS)) {
      new cognito.CfnUserPoolGroup(this, `Group-${groupName}`, { userPoolId: userPool.userPoolId, groupName, description });
    }
    const userPoolClient = userPool.addClient('ConsoleClient', {
      userPoolClientName: 'crosslink-console',
      generateSecret: false,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
    });
    this.userPool = userPool;
    this.userPoolClient = userPoolClient;
    this.authorizer = new HttpUserPoolAuthorizer('InvestigatorJwt', userPool, { userPoolClients: [userPoolClient] });
  }
}
