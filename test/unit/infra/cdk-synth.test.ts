import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../infra/crosslink-stack.js';

describe('CLI: npx cdk synth', () => {
  it('synthesises the stack from cdk.json with no AWS credentials or account', () => {
    const output = fs.mkdtempSync(path.join(os.tmpdir(), 'crosslink-cli-'));
    // Strip every AWS variable so that nothing can lend the CLI an account or credentials.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|CDK_DEFAULT_)/.test(name)));
    execFileSync('npx', ['cdk', 'synth', '--quiet', '--output', output, '-c', 'stage=ci'], { cwd: PROJECT_ROOT, env: { ...env, CI: 'true' }, stdio: 'pipe', timeout: 540_000 });
    const template = JSON.parse(fs.readFileSync(path.join(output, 'Crosslink-ci.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = new Set(Object.values(template.Resources).map((resource) => resource.Type));
    for (const type of ['AWS::ApiGatewayV2::Api', 'AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::Scheduler::Schedule']) expect(types).toContain(type);
  }, 600_000);
});
