/**
 * Every log the stack writes is kept for `logRetentionDays`, no longer. A Lambda function given no
 * log group of its own writes to `/aws/lambda/<name>`, which Lambda creates on first use with no
 * retention: CDK's BucketDeployment handler, which copies the console at each deploy, did.
 */
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { consoleFixture, synthesise, type Synthesised } from './synthesise.js';

// Not the default (90), so that a retention set anywhere by hand shows.
const LOG_RETENTION_DAYS = 30;

let synth: Synthesised;
beforeAll(() => {
  // Log groups and logging configuration are in the template: no handler needs bundling. The console
  // fixture makes the stack publish a console, so the BucketDeployment handler is synthesised too.
  synth = synthesise({ [BUNDLING_STACKS]: [], stage: 'test', logRetentionDays: LOG_RETENTION_DAYS, consoleAssetPath: consoleFixture() });
}, 300_000);

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
const resourcesOfType = (type: string): Resources => synth.template.findResources(type) as Resources;

describe('Stack: log retention', () => {
  it('publishes the console, so the deployment handler is among the functions checked', () => {
    expect(Object.keys(synth.template.findResources('Custom::CDKBucketDeployment'))).toHaveLength(1);
  });

  it('sends every Lambda function\'s logs to a log group of the stack', () => {
    const logGroupIds = Object.keys(resourcesOfType('AWS::Logs::LogGroup'));
    const withoutOwnLogGroup = Object.entries(resourcesOfType('AWS::Lambda::Function'))
      .filter(([, fn]) => !logGroupIds.includes(fn.Properties.LoggingConfig?.LogGroup?.Ref))
      .map(([logicalId]) => logicalId);
    expect(withoutOwnLogGroup).toEqual([]);
  });

  it('keeps every log group for the configured logRetentionDays', () => {
    const retentions = Object.entries(resourcesOfType('AWS::Logs::LogGroup')).map(([logicalId, group]) => [logicalId, group.Properties.RetentionInDays]);
    expect(retentions.filter(([, days]) => days !== LOG_RETENTION_DAYS)).toEqual([]);
  });
});
