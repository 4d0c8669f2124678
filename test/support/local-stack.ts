/** Starts a throwaway local stack (real dynalite and local-aws-sqs) in a temporary folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../lib/runtime/local/local-stack.js';

export async function startTestStack(options: Partial<LocalStackOptions> = {}): Promise<LocalStack & { cleanup(): Promise<void> }> {
  const home = mkdtempSync(join(tmpdir(), 'crosslink-test-'));
  const stack = await startLocalStack({ home, port: 0, quietDetectMs: 0, visibilityTimeoutSeconds: 2, logLevel: (process.env.CROSSLINK_TEST_LOG_LEVEL as 'SILENT' | undefined) ?? 'ERROR', ...options });
  return Object.assign(stack, {
    async cleanup() {
      await stack.stop();
      rmSync(home, { recursive: true, force: true });
    },
  });
}

export function investigatorHeaders(stack: LocalStack): Record<string, string> {
  return { authorization: `Bearer ${stack.credentials.investigatorToken}` };
}
