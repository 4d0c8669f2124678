/**
 * Lambda: detection. `handler` coordinates a run: invoked with `{ runId }` by the investigator API (on
 * demand) or with `{ trigger: "schedule" }` by EventBridge Scheduler (a full run it records itself); it
 * fans the run out as component tasks. `componentHandler` takes those tasks from the component queue.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
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

const taskMessageSchema = z.object({ runId: z.string().min(1), taskNo: z.number().int().min(0) });

export function createComponentHandler(runner: Pick<DetectionRunner, 'runTask'>) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord) => {
    const task = taskMessageSchema.parse(JSON.parse(record.body));
    await runner.runTask(task.runId, task.taskNo);
  };
  return (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => processPartialResponse(event, recordHandler, processor, context ? { context } : undefined);
}

let detectForEnvironment: ReturnType<typeof createDetectHandler> | undefined;
export const handler = (event: DetectEvent) => (detectForEnvironment ??= createDetectHandler(lambdaCore().runner))(event);

let componentsForEnvironment: ReturnType<typeof createComponentHandler> | undefined;
export const componentHandler = (event: SQSEvent, context: Context) => (componentsForEnvironment ??= createComponentHandler(lambdaCore().runner))(event, context);
