/**
 * Lambda: stores the signal messages of an SQS batch. Failed messages are reported one by one
 * (partial batch response), so one poison message never fails or blocks the others.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { MessageStore } from '../lib/ingest/store-message.js';
import { lambdaCore } from '../lib/runtime/aws/lambda-core.js';

export function createConsumeHandler(store: Pick<MessageStore, 'store'>) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord) => store.store(record.body);
  return (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, context ? { context } : undefined);
}

let handlerForEnvironment: ReturnType<typeof createConsumeHandler> | undefined;
export const handler = (event: SQSEvent, context: Context) =>
  (handlerForEnvironment ??= createConsumeHandler(lambdaCore().messageStore))(event, context);
