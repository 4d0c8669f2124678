/**
 * Alarms and the dashboard. Every alarm goes to one SNS topic (encrypted, TLS only) with an optional
 * e-mail subscriber: dead-letter queues holding anything, queues whose oldest message is getting old,
 * any function error or throttle, and API server errors.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { CrosslinkFunction } from './crosslink-function.js';
import { MAX_RECEIVE_COUNT, type WorkQueue } from './ingestion.js';

/** A queue to watch and how old its oldest message may get before someone is told. */
export interface WatchedQueue {
  label: string;
  queue: WorkQueue;
  maxAgeOfOldestMessage: Duration;
}

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  stage: string;
  alarmEmail?: string;
  queues: WatchedQueue[];
  functions: Record<string, CrosslinkFunction>;
  httpApi: apigwv2.HttpApi;
}

const FIVE_MINUTES = Duration.minutes(5);

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    // A key of its own: CloudWatch must be allowed to use it, and nothing else should share that.
    const topicKey = new kms.Key(this, 'TopicKey', { description: 'Crosslink alarm topic', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY, pendingWindow: Duration.days(7) });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: `Crosslink ${props.stage} alarms`, masterKey: topicKey, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);

    const alarm = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };

    for (const watched of props.queues) {
      alarm(
        `${watched.label}DeadLetters`,
        watched.queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        1,
        `${watched.label}: messages failed ${MAX_RECEIVE_COUNT} times and wait in the dead-letter queue; see docs/operations.md "Redrive the dead-letter queue"`,
      );
      alarm(
        `${watched.label}OldestMessage`,
        watched.queue.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        watched.maxAgeOfOldestMessage.toSeconds(),
        `${watched.label}: the oldest message is over ${watched.maxAgeOfOldestMessage.toHumanString()} old; the consumer is failing or cannot keep up`,
      );
    }
    for (const [label, fn] of Object.entries(props.functions)) {
      alarm(`${label}Errors`, fn.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, `${label}: the function failed; read its log group ${fn.logGroup.logGroupName}`);
      alarm(`${label}Throttles`, fn.fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, `${label}: invocations were throttled; the account's concurrency is exhausted`);
    }
    const serverErrors = props.httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' });
    alarm('ApiServerErrors', serverErrors, 5, 'API: five or more 5xx answers in five minutes');

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `Crosslink-${props.stage}`, defaultInterval: Duration.hours(24) });
    const functionEntries = Object.entries(props.functions);
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Crosslink ${props.stage}\nSignals flow API → signal queue → consumer → table; detection reads the table. Alarms: ${this.alarms.length}, to the SNS topic. See docs/operations.md, "Read the dashboard".`,
        width: 24,
        height: 2,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [props.httpApi.metricCount({ period: FIVE_MINUTES, statistic: 'Sum', label: 'requests' })],
        right: [props.httpApi.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum', label: '4xx' }), serverErrors],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (p50, p99)',
        left: [props.httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p50', label: 'p50' }), props.httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p99', label: 'p99' })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      ...props.queues.map(
        (watched) =>
          new cloudwatch.GraphWidget({
            title: `${watched.label} queue`,
            left: [
              watched.queue.queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum', label: 'waiting' }),
              watched.queue.queue.metricApproximateNumberOfMessagesNotVisible({ period: FIVE_MINUTES, statistic: 'Maximum', label: 'in flight' }),
              watched.queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum', label: 'dead letters' }),
            ],
            right: [watched.queue.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum', label: 'oldest (s)' })],
            width: 12,
          }),
      ),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Invocations',
        left: functionEntries.map(([label, fn]) => fn.fn.metricInvocations({ period: FIVE_MINUTES, statistic: 'Sum', label })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors and throttles',
        left: functionEntries.map(([label, fn]) => fn.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label: `${label} errors` })),
        right: functionEntries.map(([label, fn]) => fn.fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum', label: `${label} throttles` })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration p99 (ms)',
        left: functionEntries.map(([label, fn]) => fn.fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label })),
        width: 8,
      }),
    );
  }
}
