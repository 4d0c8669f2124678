/**
 * The CDK app (`cdk.json`: `npx tsx infra/app.ts`): reads the deployment configuration from context
 * and builds one Crosslink stack, `Crosslink-<stage>`. The stack is environment-agnostic unless the
 * CLI knows an account and region, so `cdk synth` needs no AWS credentials.
 */
import { App } from 'aws-cdk-lib';
import { addComplianceChecks } from './checks.js';
import { readDeploymentConfig } from './config.js';
import { CrosslinkStack } from './crosslink-stack.js';

const app = new App();
const config = readDeploymentConfig((key) => app.node.tryGetContext(key));
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
new CrosslinkStack(app, `Crosslink-${config.stage}`, {
  config,
  env: account && region ? { account, region } : undefined,
  description: `Crosslink (${config.stage}): cross-platform account linkage signals, graph and cluster reports`,
  tags: { application: 'crosslink', stage: config.stage },
});
addComplianceChecks(app);
app.synth();
