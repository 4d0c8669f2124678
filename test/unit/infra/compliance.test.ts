import { App, Stack } from 'aws-cdk-lib';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { addComplianceChecks } from '../../../infra/checks.js';
import { consoleFixture, synthesise, type Synthesised } from './synthesise.js';

// Two shapes of the stack between them reach every construct: a published console with a Cognito
// pool and alarm e-mail, and an existing identity provider with no console build and no e-mail.
let withCognito: Synthesised;
let withExistingIdp: Synthesised;
// The checks read the template, not the code: skip esbuild bundling (crosslink-stack.test.ts bundles).
const NO_BUNDLING = { [BUNDLING_STACKS]: [] };
const SYNTH_TIMEOUT_MS = 300_000;
beforeAll(() => {
  withCognito = synthesise({ ...NO_BUNDLING, stage: 'nag', alarmEmail: 'alerts@example.org', consoleAssetPath: consoleFixture() });
}, SYNTH_TIMEOUT_MS);
beforeAll(() => {
  withExistingIdp = synthesise({
    ...NO_BUNDLING,
    stage: 'nagidp',
    identityProvider: { issuer: 'https://login.example.org/realms/crosslink', audience: ['crosslink-console'] },
    consoleAssetPath: 'does-not-exist',
  });
}, SYNTH_TIMEOUT_MS);

describe('Compliance: cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding, error or warning, with the Cognito pool and a published console', () => {
    expect(withCognito.violations.map((v) => `${v.plugin} ${v.ruleName} ${v.violatingConstructs?.map((c) => c.constructPath).join(',')}`)).toEqual([]);
  });

  it('reports no unacknowledged finding with an existing identity provider and no console build', () => {
    expect(withExistingIdp.violations.map((v) => `${v.plugin} ${v.ruleName}`)).toEqual([]);
  });

  it('fails synthesis on an unacknowledged finding (the checks are live, not vacuous)', () => {
    const app = new App();
    // A queue without a dead-letter queue or TLS enforcement raises AwsSolutions-SQS3 and SQS4.
    new sqs.Queue(new Stack(app, 'Bare'), 'Queue');
    addComplianceChecks(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it('gives every AwsSolutions acknowledgement a written reason', () => {
    const acknowledgements = [...withCognito.acknowledgements, ...withExistingIdp.acknowledgements].filter((ack) => ack.id.includes('AwsSolutions-'));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const ack of acknowledgements) expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(40);
  });

  it('acknowledges no rule for the whole stack, only on the constructs that raise it', () => {
    for (const synth of [withCognito, withExistingIdp]) {
      const stackPath = synth.stack.node.path;
      expect(synth.acknowledgements.filter((ack) => ack.path === stackPath || ack.path === '')).toEqual([]);
    }
  });

  it('trusts the configured issuer and creates no user pool when an identity provider is given', () => {
    withExistingIdp.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    withExistingIdp.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://login.example.org/realms/crosslink', Audience: ['crosslink-console'] },
    });
  });

  it('creates the console bucket and distribution but publishes nothing before the console is built', () => {
    withExistingIdp.template.resourceCountIs('Custom::CDKBucketDeployment', 0);
    withExistingIdp.template.resourceCountIs('AWS::CloudFront::Distribution', 1);
  });

  it('creates no e-mail subscription without an alarm address', () => {
    withExistingIdp.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
