/**
 * Lambda: runs detection. Invoked with `{ runId }` by the investigator API (on demand), or with
 * `{ trigger: "schedule" }` by EventBridge Scheduler, in which case it records the run itself.
 */
import type { DetectionRunner } from '../lib/runs/detection-runner.js';
import { lambdaCore } from '../lib/runtime/aws/lambda-core.js';

export type DetectEvent = { runId: string } | { trigger: 'schedule' };

export function createDetectHandler(runner: Pick<DetectionRunner, 'start' | 'execute'>) {
  return async (event: DetectEvent) => {
    if ('runId' in event) return runner.execute(event.runId);
    // A scheduled run is a full one: it also catches what only a full run sees (ageing, expiry, hubs fading).
    const { runId, alreadyRunning } = await runner.start('schedule', 'full');
    return alreadyRunning ? { runId, alreadyRunning } : runner.execute(runId);
  };
}

let handlerForEnvironment: ReturnType<typeof createDetectHandler> | undefined;
export const handler = (event: DetectEvent) => (handlerForEnvironment ??= createDetectHandler(lambdaCore().runner))(event);
