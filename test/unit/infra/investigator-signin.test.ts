/**
 * The console's sign-in on AWS: the user pool's hosted domain and the console's app client
 * (authorization code with PKCE, no secret, callbacks to the console's own address), synthesised
 * from the two constructs alone with the same cdk-nag checks as `cdk synth`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { addComplianceChecks } from '../../../infra/checks.js';
import { Console } from '../../../infra/constructs/console.js';
import { InvestigatorIdentity } from '../../../infra/constructs/investigator-identity.js';

function synthesiseSignIn(context: Record<string, unknown> = {}, props: Partial<ConstructorParameters<typeof InvestigatorIdentity>[2]> = {}) {
  const app = new App({ context });
  const stack = new Stack(app, 'SignIn');
  const identity = new InvestigatorIdentity(stack, 'Identity', { stage: 'test', ...props });
  const console = new Console(stack, 'Console', { logRetention: logs.RetentionDays.THREE_MONTHS });
  addComplianceChecks(app);
  const assembly = app.synth();
  return { stack, identity, console, template: Template.fromStack(stack), assembly };
}

const consoleUrl = (stack: Stack, console: Console) => ({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [stack.getLogicalId(console.distribution.node.defaultChild as never), 'DomainName'] }, '/']] });

describe('Construct: InvestigatorIdentity (console sign-in)', () => {
  it('gives the console a public app client with the authorization code grant and the OpenID scopes', () => {
    const { template } = synthesiseSignIn();
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'crosslink-console',
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: Match.arrayEquals(['openid', 'email', 'profile']),
      SupportedIdentityProviders: ['COGNITO'],
    });
  });

  it('sends investigators back to the console, and only there, after sign-in and sign-out', () => {
    const { template, stack, console } = synthesiseSignIn();
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0].Properties;
    expect(client.CallbackURLs).toEqual([consoleUrl(stack, console)]);
    expect(client.LogoutURLs).toEqual([consoleUrl(stack, console)]);
  });

  it('adds the configured browser origins as further callback URLs', () => {
    const { template, stack, console } = synthesiseSignIn({ corsOrigins: ['http://localhost:5173'] });
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0].Properties;
    expect(client.CallbackURLs).toEqual([consoleUrl(stack, console), 'http://localhost:5173/']);
  });

  it('creates a hosted sign-in domain named after the stage and the stack id by default', () => {
    const { template } = synthesiseSignIn();
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['-', ['crosslink-test', Match.objectLike({ 'Fn::Select': [0, Match.anyValue()] })]] },
      ManagedLoginVersion: 1,
    });
    expect(JSON.stringify(template.findResources('AWS::Cognito::UserPoolDomain'))).toContain('AWS::StackId');
  });

  it('takes the domain prefix from the signInDomainPrefix context key', () => {
    const { template } = synthesiseSignIn({ signInDomainPrefix: 'acme-crosslink' });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-crosslink' });
  });

  it('refuses a domain prefix Cognito would refuse, naming the key', () => {
    expect(() => synthesiseSignIn({ signInDomainPrefix: 'my-cognito' })).toThrow(/signInDomainPrefix.*aws, amazon or cognito/);
  });

  it('raises no cdk-nag finding, error or warning', () => {
    // An error fails app.synth(); warnings and errors both land in the validation report.
    const { assembly } = synthesiseSignIn();
    const reportPath = path.join(assembly.directory, 'validation-report.json');
    const report = fs.existsSync(reportPath) ? JSON.parse(fs.readFileSync(reportPath, 'utf8')) : { pluginReports: [] };
    expect(report.pluginReports.flatMap((plugin: { violations: Array<{ ruleName: string }> }) => plugin.violations.map((v) => v.ruleName))).toEqual([]);
  });

  it('adds no domain or client when an existing identity provider is trusted', () => {
    const { template } = synthesiseSignIn({}, { existing: { issuer: 'https://login.example.org/realms/crosslink', audience: ['crosslink-console'] } });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
  });
});
