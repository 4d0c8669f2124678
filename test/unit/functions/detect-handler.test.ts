import { describe, expect, it } from 'vitest';
import { createDetectHandler } from '../../../functions/detect.js';
import type { RunMode } from '../../../lib/runs/detection-runner.js';

function recordingRunner(alreadyRunning = false) {
  const calls: string[] = [];
  return {
    calls,
    runner: {
      async start(trigger: string, mode?: RunMode) {
        calls.push(`start ${trigger} ${mode}`);
        return { runId: 'r-1', alreadyRunning };
      },
      async execute(runId: string) {
        calls.push(`execute ${runId}`);
        return { runId, status: 'succeeded' as const, trigger: 'schedule' as const, startedAt: '2026-11-29T00:00:00Z' };
      },
    },
  };
}

describe('Function: detect', () => {
  it('coordinates the run it is given when the investigator API invokes it with a runId', async () => {
    const { calls, runner } = recordingRunner();
    await createDetectHandler(runner)({ runId: 'given' });
    expect(calls).toEqual(['execute given']);
  });

  it('records and runs a full run when the schedule invokes it', async () => {
    const { calls, runner } = recordingRunner();
    await createDetectHandler(runner)({ trigger: 'schedule' });
    expect(calls).toEqual(['start schedule full', 'execute r-1']);
  });

  it('joins a run in progress instead of starting a second one', async () => {
    const { calls, runner } = recordingRunner(true);
    expect(await createDetectHandler(runner)({ trigger: 'schedule' })).toEqual({ runId: 'r-1', alreadyRunning: true });
    expect(calls).toEqual(['start schedule full']);
  });
});
