/** Starts a detection run's work by invoking the detect Lambda asynchronously. */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { DetectionDispatcher } from '../../runs/detection-dispatcher.js';

export class LambdaDetectionDispatcher implements DetectionDispatcher {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionName: string,
  ) {}

  async dispatch(runId: string): Promise<void> {
    await this.lambda.send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ runId })) }));
  }
}
