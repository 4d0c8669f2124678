/**
 * Who investigators are: a Cognito user pool the stack creates (no self sign-up, MFA required,
 * Plus tier threat protection, groups `investigators` and `operators`), or an existing OIDC identity
 * provider named in the configuration. Either way the API gets one JWT authorizer.
 * With the pool comes a hosted sign-in domain and the console's app client (authorization code with
 * PKCE, no secret), whose callback and sign-out URLs are the console's own address.
 */
import { Aws, Duration, Fn, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer, HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { readDeploymentConfig, type ExistingIdentityProvider } from '../config.js';
import { Console } from './console.js';

/** The Cognito groups lib/api/auth.ts maps to roles. */
export const STAFF_GROUPS = { investigators: 'Read clusters and reports, run detection', operators: 'Manage platform credentials and keys, read status' } as const;

/** Props of {@link InvestigatorIdentity}. */
export interface InvestigatorIdentityProps {
  stage: string;
  /** When given, trust it and create no user pool. */
  existing?: ExistingIdentityProvider;
  /**
   * Prefix of the hosted sign-in domain. Default: the `signInDomainPrefix` context key, else
   * `crosslink-<stage>-<first 8 characters of the stack's id>` (unique per deployment, known to no one in advance).
   */
  domainPrefix?: string;
  /**
   * Browser origins besides the console's CloudFront address that may sign in (e.g. `http://localhost:5173`).
   * Default: the `corsOrigins` context key, the origins already allowed to call the API from a browser.
   */
  extraSignInOrigins?: string[];
}

export class InvestigatorIdentity extends Construct {
  readonly authorizer: apigwv2.IHttpRouteAuthorizer;
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;
  readonly domain?: cognito.UserPoolDomain;
  private readonly signInOrigins = new Set<string>();

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
    const settings = readDeploymentConfig((key) => this.node.tryGetContext(key));
    this.domain = userPool.addDomain('SignInDomain', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? settings.signInDomainPrefix ?? defaultDomainPrefix(props.stage) },
      // The classic hosted UI needs no branding resource; the console only redirects to it.
      managedLoginVersion: cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI,
    });
    for (const origin of props.extraSignInOrigins ?? settings.corsOrigins) this.allowSignInFrom(origin);
    // Resolved at synthesis, so the console (created after this construct) is included.
    const signInUrls = Lazy.list({ produce: () => this.signInUrls() });
    const userPoolClient = userPool.addClient('ConsoleClient', {
      userPoolClientName: 'crosslink-console',
      // A browser cannot keep a secret: a public client, protected by PKCE.
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: signInUrls,
        logoutUrls: signInUrls,
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
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

  /**
   * Lets a console served at `origin` sign in: `<origin>/` becomes a callback and sign-out URL of the
   * console's app client. The stack's own {@link Console} is added without asking.
   *
   * @example
   * identity.allowSignInFrom('https://investigate.example.org');
   */
  allowSignInFrom(origin: string): void {
    this.signInOrigins.add(origin.replace(/\/+$/, ''));
  }

  /** The hosted sign-in address, `https://<prefix>.auth.<region>.amazoncognito.com`, when the stack created the pool. */
  get signInUrl(): string | undefined {
    return this.domain?.baseUrl();
  }

  private signInUrls(): string[] {
    const consoles = Stack.of(this)
      .node.findAll()
      .filter((construct): construct is Console => construct instanceof Console)
      .map((console) => console.url);
    // The console's redirect_uri is its origin and a slash: Cognito compares the URL exactly.
    return [...new Set([...consoles, ...this.signInOrigins])].map((origin) => `${origin}/`);
  }
}

// The stack id's GUID is unique per deployment; its first 8 hex digits make the global prefix unlikely to collide.
function defaultDomainPrefix(stage: string): string {
  return Fn.join('-', ['crosslink', stage, Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))))]);
}
