/**
 * Ingestion: the signal queue with its dead-letter queue, both under the data key, and the
 * consumer that stores each message with partial batch responses and bounded concurrency.
 */
import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { grantTableData } from './grants.js';
import { CrosslinkFunction, type FunctionDefaults } from './crosslink-function.js';
import { MAX_RECEIVE_COUNT } from '../../lib/graph/table-schema.js';

/** A message that fails this many receives moves to the dead-letter queue. */
export { MAX_RECEIVE_COUNT };

/** How a queue's consumer takes its messages. */
export interface ConsumerSettings {
  batchSize: number;
  maxBatchingWindow: Duration;
  /** Upper bound on concurrent consumer invocations (2-1000): protects the table and the account's concurrency. */
  maxConcurrency: number;
}

/** Props of {@link WorkQueue}. */
export interface WorkQueueProps {
  key: kms.IKey;
  /** The consumer's timeout; the visibility timeout is six times it, as AWS advises for Lambda consumers. */
  consumerTimeout: Duration;
}

/** A KMS-encrypted queue with a dead-letter queue after {@link MAX_RECEIVE_COUNT} receives. */
export class WorkQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetter', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      // Reusing the data key for five minutes cuts KMS calls (and cost) on a busy queue.
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }

  /** Makes `consumer` read this queue with partial batch responses. */
  attachConsumer(consumer: CrosslinkFunction, settings: ConsumerSettings): void {
    consumer.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: settings.batchSize,
        maxBatchingWindow: settings.maxBatchingWindow,
        maxConcurrency: settings.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }
}

/** Props of {@link Ingestion}. */
export interface IngestionProps {
  key: kms.IKey;
  table: dynamodb.Table;
  functions: FunctionDefaults;
  consumerSettings?: Partial<ConsumerSettings>;
}

/** Batches of up to 100 messages gathered for up to 5 s, at most 10 consumers at once. */
export const DEFAULT_SIGNAL_CONSUMER: ConsumerSettings = { batchSize: 100, maxBatchingWindow: Duration.seconds(5), maxConcurrency: 10 };

const CONSUMER_TIMEOUT = Duration.seconds(60);

export class Ingestion extends Construct {
  readonly signals: WorkQueue;
  readonly consumer: CrosslinkFunction;
  /** The variables every handler needs to reach the queues (lib/runtime/config.ts). */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    this.signals = new WorkQueue(this, 'Signals', { key: props.key, consumerTimeout: CONSUMER_TIMEOUT });
    this.environment = { SIGNAL_QUEUE_URL: this.signals.queue.queueUrl, SIGNAL_DLQ_URL: this.signals.deadLetterQueue.queueUrl };
    this.consumer = new CrosslinkFunction(this, 'Consumer', {
      defaults: props.functions,
      environment: this.environment,
      entry: 'consume-signals.ts',
      description: 'Crosslink: stores queued signals in the graph table',
      serviceName: 'crosslink-consume-signals',
      timeout: CONSUMER_TIMEOUT,
      memorySize: 512,
    });
    this.signals.attachConsumer(this.consumer, { ...DEFAULT_SIGNAL_CONSUMER, ...props.consumerSettings });
    grantTableData(props.table, this.consumer.fn);
  }
}
