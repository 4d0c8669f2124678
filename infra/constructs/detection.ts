/**
 * Detection: the detect Lambda, run on demand (the investigator API invokes it) and on a schedule
 * (EventBridge Scheduler), and the fan-out queue of per-component work with its own consumer, so
 * that no single invocation has to hold the whole graph.
 */
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { CrosslinkFunction, type FunctionDefaults } from './crosslink-function.js';
import { acknowledgeInvokeGrant, grantTableData } from './grants.js';
import { WorkQueue, type ConsumerSettings } from './ingestion.js';

/** Props of {@link Detection}. */
export interface DetectionProps {
  key: kms.IKey;
  table: dynamodb.Table;
  functions: FunctionDefaults;
  /** EventBridge Scheduler expression, e.g. `rate(1 hour)`. */
  schedule: string;
  scheduleTimeZone: string;
  /** The export of `functions/detect.ts` that takes an SQS batch of component work. */
  componentHandlerExport?: string;
  componentConsumer?: Partial<ConsumerSettings>;
}

/** One component per invocation (its work is heavy), at most 20 components in parallel. */
export const DEFAULT_COMPONENT_CONSUMER: ConsumerSettings = { batchSize: 1, maxBatchingWindow: Duration.seconds(0), maxConcurrency: 20 };

const DETECT_TIMEOUT = Duration.minutes(15);
const COMPONENT_TIMEOUT = Duration.minutes(5);

export class Detection extends Construct {
  readonly detect: CrosslinkFunction;
  readonly componentWorker: CrosslinkFunction;
  readonly components: WorkQueue;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: DetectionProps) {
    super(scope, id);
    this.components = new WorkQueue(this, 'Components', { key: props.key, consumerTimeout: COMPONENT_TIMEOUT });

    this.detect = new CrosslinkFunction(this, 'Detect', {
      defaults: props.functions,
      environment: { DETECT_COMPONENT_QUEUE_URL: this.components.queue.queueUrl },
      entry: 'detect.ts',
      description: 'Crosslink: detection run (scheduled or on demand); fans dirty components out to the component queue, or runs a lone incremental closure itself',
      serviceName: 'crosslink-detect',
      timeout: DETECT_TIMEOUT,
      // Memory buys CPU: 1769 MB is one full vCPU for the projection and Louvain.
      memorySize: 1769,
    });
    // Both callers invoke it asynchronously (the investigator API with InvocationType Event, and Scheduler),
    // and `execute` records every error on the run itself: what reaches Lambda is a timeout or running out of
    // memory, which a retry only repeats (and, for the schedule, ends the run as stale and starts another).
    this.detect.fn.configureAsyncInvoke({ retryAttempts: 0 });
    grantTableData(props.table, this.detect.fn);
    this.components.queue.grantSendMessages(this.detect.fn);

    this.componentWorker = new CrosslinkFunction(this, 'ComponentWorker', {
      defaults: props.functions,
      entry: 'detect.ts',
      handlerExport: props.componentHandlerExport ?? 'componentHandler',
      description: 'Crosslink: detection of one component taken from the component queue',
      serviceName: 'crosslink-detect-component',
      timeout: COMPONENT_TIMEOUT,
      memorySize: 1769,
    });
    grantTableData(props.table, this.componentWorker.fn);
    this.components.attachConsumer(this.componentWorker, { ...DEFAULT_COMPONENT_CONSUMER, ...props.componentConsumer });

    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Crosslink: lets EventBridge Scheduler start the scheduled detection run',
    });
    acknowledgeInvokeGrant(this.detect.fn, scheduleRole);
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Crosslink: scheduled detection run',
      schedule: scheduler.ScheduleExpression.expression(props.schedule, TimeZone.of(props.scheduleTimeZone)),
      target: new targets.LambdaInvoke(this.detect.fn, {
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        // A missed run is superseded by the next one; retrying late only piles runs up.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(5),
      }),
    });
  }
}
