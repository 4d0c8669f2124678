/**
 * Lambda: stores the signal messages of an SQS batch. Failed messages are reported one by one
 * (partial batch response), so one poison message never fails or blocks the others.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logStoreFailure, type MessageStore, type StoreFailureLogger } from '../lib/ingest/store-message.js';
import { lambdaCore } from '../lib/runtime/aws/lambda-core.js';

export function createConsumeHandler(store: Pick<MessageStore, 'store'>, logger: StoreFailureLogger = new Logger({ serviceName: 'crosslink' })) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord) => {
    try {
      return await store.store(record.body);
    } catch (error) {
      logStoreFailure(logger, { messageId: record.messageId, receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0) }, error);
      throw error;
    }
  };
  return (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, context ? { context } : undefined);
}

let handlerForEnvironment: ReturnType<typeof createConsumeHandler> | undefined;
export const handler = (event: SQSEvent, context: Context) =>
  (handlerForEnvironment ??= createConsumeHandler(lambdaCore().messageStore))(event, context);
