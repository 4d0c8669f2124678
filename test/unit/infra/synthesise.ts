/**
 * Test helper: synthesises the Crosslink stack once with the given context, with the same
 * compliance checks as `cdk synth`, into a temporary folder, and hands back what the tests read.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addComplianceChecks } from '../../../infra/checks.js';
import { readDeploymentConfig } from '../../../infra/config.js';
import { CrosslinkStack } from '../../../infra/crosslink-stack.js';

/** One finding of a validation plugin, as the cloud assembly's validation report lists it. */
export interface ReportedViolation {
  ruleName: string;
  severity: string;
  violatingConstructs?: Array<{ constructPath?: string }>;
}

/** What a synthesis gives the tests. */
export interface Synthesised {
  stack: CrosslinkStack;
  template: Template;
  /** The cloud assembly's folder (templates and bundled assets). */
  assemblyDir: string;
  /** Unsuppressed findings of every validation plugin (cdk-nag included), errors and warnings. */
  violations: Array<ReportedViolation & { plugin: string }>;
  /** Every acknowledgement in the app: rule id, reason, where. */
  acknowledgements: Array<{ id: string; reason: string; path: string }>;
}

/** A built console to publish, so that the BucketDeployment path is synthesised too. */
export function consoleFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crosslink-console-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Crosslink</title>');
  return dir;
}

export function synthesise(context: Record<string, unknown>): Synthesised {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'crosslink-cdk-'));
  const app = new App({ outdir, context });
  const config = readDeploymentConfig((key) => app.node.tryGetContext(key));
  const stack = new CrosslinkStack(app, `Crosslink-${config.stage}`, { config });
  addComplianceChecks(app);
  const assembly = app.synth();
  const reportPath = path.join(assembly.directory, 'validation-report.json');
  const report = fs.existsSync(reportPath)
    ? (JSON.parse(fs.readFileSync(reportPath, 'utf8')) as { pluginReports: Array<{ pluginName: string; violations: ReportedViolation[] }> })
    : { pluginReports: [] };
  const violations = report.pluginReports.flatMap((plugin) => plugin.violations.map((violation) => ({ ...violation, plugin: plugin.pluginName })));
  const acknowledgements = app.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ id, reason, path: construct.node.path }))),
    );
  return { stack, template: Template.fromStack(stack), assemblyDir: assembly.directory, violations, acknowledgements };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string }>;

/** The logical id of the CloudFormation resource behind a construct. */
export function logicalIdOf(stack: CrosslinkStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

/** The statements of every policy attached to the role of the function with logical id `functionId`. */
export function statementsOfFunction(template: Template, functionId: string): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> {
  const resources = template.toJSON().Resources as Resources;
  const roleRef = resources[functionId]?.Properties?.Role;
  const roleId: string | undefined = roleRef?.['Fn::GetAtt']?.[0];
  if (!roleId) throw new Error(`function ${functionId} has no role of its own`);
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy' && (resource.Properties?.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties?.PolicyDocument.Statement);
}

/** The actions the statements allow on a resource whose reference mentions `logicalId`. */
export function actionsOn(statements: ReturnType<typeof statementsOfFunction>, logicalId: string): string[] {
  return statements
    .filter((statement) => statement.Effect === 'Allow' && JSON.stringify(statement.Resource).includes(`"${logicalId}"`))
    .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
}
