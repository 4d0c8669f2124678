/** The SQS adapter of the detection task queue: one message per component task. */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { UnavailableError } from '../../errors.js';
import type { DetectionTaskQueue } from '../../runs/detection-runner.js';

export class SqsDetectionTaskQueue implements DetectionTaskQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(runId: string, taskNos: number[]): Promise<void> {
    for (let start = 0; start < taskNos.length; start += 10) {
      const entries = taskNos.slice(start, start + 10).map((taskNo) => ({ Id: String(taskNo), MessageBody: JSON.stringify({ runId, taskNo }) }));
      const result = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      if (result.Failed?.length) throw new UnavailableError(`the detection task queue refused ${result.Failed.length} tasks of run ${runId}`);
    }
  }
}
