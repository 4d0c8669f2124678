/**
 * The console bucket is versioned, so every deploy (CDK's BucketDeployment syncs the build and
 * deletes files no longer in it) leaves the old files behind as noncurrent versions. Without a
 * lifecycle rule they are kept, and paid for, forever.
 */
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { logicalIdOf, synthesise, type Synthesised } from './synthesise.js';

let synth: Synthesised;
beforeAll(() => {
  // Bucket properties are in the template: no handler needs bundling.
  synth = synthesise({ [BUNDLING_STACKS]: [], stage: 'test' });
}, 300_000);

interface LifecycleRule {
  Status: string;
  ExpirationInDays?: number;
  NoncurrentVersionExpiration?: { NoncurrentDays: number };
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
}

type BucketProperties = { VersioningConfiguration?: { Status: string }; LifecycleConfiguration?: { Rules: LifecycleRule[] } };

const bucketProperties = (logicalId: string): BucketProperties => synth.template.toJSON().Resources[logicalId].Properties;
const enabledRules = (properties: BucketProperties): LifecycleRule[] => (properties.LifecycleConfiguration?.Rules ?? []).filter((rule) => rule.Status === 'Enabled');

describe('Stack: console buckets', () => {
  it('expires the console bucket\'s noncurrent versions after 30 days', () => {
    const rules = enabledRules(bucketProperties(logicalIdOf(synth.stack, synth.stack.console.bucket)));
    expect(rules.map((rule) => rule.NoncurrentVersionExpiration?.NoncurrentDays)).toContain(30);
  });

  it('aborts the console bucket\'s incomplete multipart uploads', () => {
    const rules = enabledRules(bucketProperties(logicalIdOf(synth.stack, synth.stack.console.bucket)));
    expect(rules.some((rule) => rule.AbortIncompleteMultipartUpload !== undefined)).toBe(true);
  });

  it('expires noncurrent versions in every versioned bucket of the stack', () => {
    const buckets = synth.template.findResources('AWS::S3::Bucket') as Record<string, { Properties: BucketProperties }>;
    const keepingForever = Object.entries(buckets)
      .filter(([, bucket]) => bucket.Properties.VersioningConfiguration?.Status === 'Enabled')
      .filter(([, bucket]) => !enabledRules(bucket.Properties).some((rule) => rule.NoncurrentVersionExpiration))
      .map(([logicalId]) => logicalId);
    expect(keepingForever).toEqual([]);
  });

  it('keeps the access logs 90 days, as before', () => {
    const rules = enabledRules(bucketProperties(logicalIdOf(synth.stack, synth.stack.console.logBucket)));
    expect(rules.map((rule) => rule.ExpirationInDays)).toEqual([90]);
  });
});
