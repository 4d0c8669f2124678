/**
 * Wires the domain services over their adapters. Lambda and the local stack both call this; they
 * differ only in the clients and credentials they pass in.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ChangeLog } from '../graph/change-log.js';
import { ClusterRepository } from '../graph/cluster-repository.js';
import { ComponentLoader } from '../graph/component-loader.js';
import { RunGraphRepository } from '../graph/run-graph-repository.js';
import { RunRepository } from '../graph/run-repository.js';
import { SignalRepository } from '../graph/signal-repository.js';
import { VerdictRepository } from '../graph/verdict-repository.js';
import { AuditRepository } from '../graph/audit-repository.js';
import { MemberFactsReader } from '../graph/member-facts.js';
import { ReviewRepository } from '../graph/review-repository.js';
import { ReviewService } from '../reports/review-service.js';
import { IngestService } from '../ingest/ingest-service.js';
import { MessageStore } from '../ingest/store-message.js';
import { InvestigatorService } from '../reports/investigator-service.js';
import { DetectionRunner } from '../runs/detection-runner.js';
import { DynamoRateLimiter, DynamoReplayGuard } from './aws/dynamo-request-guards.js';
import { SqsDetectionTaskQueue } from './aws/sqs-detection-task-queue.js';
import { SqsSignalQueue } from './aws/sqs-signal-queue.js';
import type { CrosslinkConfig } from './config.js';

export interface CoreDeps {
  db: DynamoDBDocumentClient;
  sqs: SQSClient;
  config: CrosslinkConfig;
}

/** The domain services of one Crosslink deployment. */
export type Core = ReturnType<typeof buildCore>;

export function buildCore({ db, sqs, config }: CoreDeps) {
  const logger = new Logger({ serviceName: 'crosslink' });
  const changes = new ChangeLog(db, config.tableName);
  const signals = new SignalRepository(db, config.tableName, changes, config.retentionDays);
  const clusters = new ClusterRepository(db, config.tableName);
  const runs = new RunRepository(db, config.tableName);
  const verdicts = new VerdictRepository(db, config.tableName);
  const queue = new SqsSignalQueue(sqs, config.signalQueueUrl, config.signalDeadLetterQueueUrl);
  const review = new ReviewService({ reviews: new ReviewRepository(db, config.tableName), audit: new AuditRepository(db, config.tableName), members: new MemberFactsReader(db, config.tableName), verdicts, clusters, runs });
  return {
    config,
    signals,
    clusters,
    runs,
    verdicts,
    queue,
    replayGuard: new DynamoReplayGuard(db, config.tableName),
    rateLimiter: new DynamoRateLimiter(db, config.tableName),
    ingest: new IngestService(queue, signals, undefined, (error) =>
      logger.warn('signals enqueued but the accepted counter was not updated', { error: (error as Error).message }),
    ),
    changes,
    messageStore: new MessageStore(signals, changes, config.retentionDays),
    investigator: new InvestigatorService({ signals, clusters, runs, queue }),
    review,
    runner: new DetectionRunner({
      signals,
      clusters,
      runs,
      verdicts,
      changes,
      components: new ComponentLoader(db, config.tableName),
      graphs: new RunGraphRepository(db, config.tableName),
      taskQueue: config.detectTaskQueueUrl ? new SqsDetectionTaskQueue(sqs, config.detectTaskQueueUrl) : undefined,
      reviews: review,
      options: { hubThreshold: config.hubThreshold, ...config.detectionOptions },
      closureTaskMemberships: config.closureTaskMemberships,
      rankingSettleMs: config.rankingSettleMs,
    }),
  };
}
