/** Starts a throwaway local stack (real dynalite and local-aws-sqs) in a temporary folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
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

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;

/**
 * One test stack for a test file: started before its tests, cleaned up after them. Read `stack`,
 * `platform` (the first platform's credentials) and `platformId` inside the tests.
 *
 * @example
 * const local = useTestStack({ visibilityTimeoutSeconds: 1 });
 * it('stores it', async () => { await local.stack.core.messageStore.store(body); });
 */
export function useTestStack(options: Partial<LocalStackOptions> = {}): { readonly stack: TestStack; readonly platform: { id: string; secret: string }; readonly platformId: string } {
  let started: TestStack | undefined;
  beforeAll(async () => {
    started = await startTestStack(options);
  });
  afterAll(async () => started?.cleanup());
  return {
    get stack() {
      if (!started) throw new Error('the test stack is not started yet: read it inside a test or hook');
      return started;
    },
    /** The first platform's credentials, to sign its requests. */
    get platform() {
      return this.stack.credentials.platforms[0]!;
    },
    get platformId() {
      return this.platform.id;
    },
  };
}

/** Starts a detection run in `mode` on the stack's runner, waits for it, and checks that it succeeded. */
export async function runDetection(stack: TestStack, mode: 'auto' | 'full') {
  const { runId } = await stack.core.runner.start('on-demand', mode);
  await stack.core.runner.execute(runId);
  const record = await stack.waitForRun(runId);
  expect(record.status, record.error).toBe('succeeded');
  return record;
}

export function investigatorHeaders(stack: LocalStack): Record<string, string> {
  return { authorization: `Bearer ${stack.credentials.investigatorToken}` };
}
