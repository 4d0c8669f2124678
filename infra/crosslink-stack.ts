/**
 * The Crosslink stack: one deployment of Crosslink into an operator's account, assembled from a
 * construct per concern. Each function is granted only what its handler uses.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from './config.js';
import { CrosslinkApi } from './constructs/api.js';
import { Console } from './constructs/console.js';
import { CredentialsSecret } from './constructs/credentials-secret.js';
import { CrosslinkFunction, type FunctionDefaults, type FunctionSource } from './constructs/crosslink-function.js';
import { Detection } from './constructs/detection.js';
import { GraphStore } from './constructs/graph-store.js';
import { grantInvokeFunction, grantTableData } from './constructs/grants.js';
import { Ingestion } from './constructs/ingestion.js';
import { InvestigatorIdentity } from './constructs/investigator-identity.js';
import { Monitoring } from './constructs/monitoring.js';

/** The repository root, found from this file so that synthesis works from any working folder. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Props of {@link CrosslinkStack}. */
export interface CrosslinkStackProps extends StackProps {
  config: DeploymentConfig;
  /** Where the handlers are (default: this repository's `functions/`). */
  functionSource?: FunctionSource;
}

export class CrosslinkStack extends Stack {
  readonly dataKey: kms.Key;
  readonly graph: GraphStore;
  readonly credentials: CredentialsSecret;
  readonly ingestion: Ingestion;
  readonly detection: Detection;
  readonly platformApi: CrosslinkFunction;
  readonly investigatorApi: CrosslinkFunction;
  readonly identity: InvestigatorIdentity;
  readonly api: CrosslinkApi;
  readonly console: Console;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: CrosslinkStackProps) {
    super(scope, id, props);
    const { config } = props;
    const source = props.functionSource ?? { projectRoot: PROJECT_ROOT, functionsDir: path.join(PROJECT_ROOT, 'functions') };
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    // One customer-managed key for the data at rest: table, queues, credentials secret.
    this.dataKey = new kms.Key(this, 'DataKey', {
      alias: `alias/crosslink-${config.stage}-data`,
      description: 'Crosslink: signals, graph, queues and credentials at rest',
      enableKeyRotation: true,
      // The retained table stays unreadable without it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.graph = new GraphStore(this, 'GraphStore', { key: this.dataKey });
    this.credentials = new CredentialsSecret(this, 'Credentials', { key: this.dataKey, stage: config.stage });

    const baseDefaults: FunctionDefaults = {
      source,
      logRetention,
      environment: {
        CROSSLINK_STAGE: config.stage,
        TABLE_NAME: this.graph.table.tableName,
        HUB_THRESHOLD: String(config.hubThreshold),
        // Infinity (never ageing, no merge) travels as null, which parseDetectionOptions reads back.
        ...(Object.keys(config.detectionOptions).length > 0 ? { DETECTION_OPTIONS: JSON.stringify(config.detectionOptions) } : {}),
        RETENTION_DAYS: String(config.retentionDays),
        RELEASE_THRESHOLD: String(config.releaseThreshold),
        PLATFORM_REQUESTS_PER_MINUTE: String(config.platformRequestsPerMinute),
      },
    };
    this.ingestion = new Ingestion(this, 'Ingestion', { key: this.dataKey, table: this.graph.table, functions: baseDefaults });
    const functions: FunctionDefaults = { ...baseDefaults, environment: { ...baseDefaults.environment, ...this.ingestion.environment } };

    this.detection = new Detection(this, 'Detection', {
      key: this.dataKey,
      table: this.graph.table,
      functions,
      schedule: config.detectionSchedule,
      scheduleTimeZone: config.detectionScheduleTimeZone,
    });

    this.platformApi = new CrosslinkFunction(this, 'PlatformApi', {
      defaults: functions,
      environment: { CREDENTIALS_SECRET_ARN: this.credentials.secret.secretArn },
      entry: 'platform-api.ts',
      description: 'Crosslink: platform API (signed signal submission, withdrawal, lookup)',
      serviceName: 'crosslink-platform-api',
      timeout: Duration.seconds(15),
      memorySize: 512,
    });
    this.credentials.secret.grantRead(this.platformApi.fn);
    this.ingestion.signals.queue.grantSendMessages(this.platformApi.fn);
    // Replay claims, per-platform rate counters, withdrawals and the lookup live in the table.
    grantTableData(this.graph.table, this.platformApi.fn);

    this.investigatorApi = new CrosslinkFunction(this, 'InvestigatorApi', {
      defaults: functions,
      environment: {
        CREDENTIALS_SECRET_ARN: this.credentials.secret.secretArn,
        DETECT_FUNCTION_NAME: this.detection.detect.fn.functionName,
      },
      entry: 'investigator-api.ts',
      description: 'Crosslink: investigator API (status, runs, clusters, reports)',
      serviceName: 'crosslink-investigator-api',
      timeout: Duration.seconds(25),
      memorySize: 1024,
    });
    grantTableData(this.graph.table, this.investigatorApi.fn);
    // Operators add, rotate and remove platforms through /v1/platforms, a read-modify-write of the secret.
    // Only PutSecretValue: grantWrite would add UpdateSecret and UpdateSecretVersionStage, which it never needs.
    this.credentials.secret.grantRead(this.investigatorApi.fn);
    iam.Grant.addToPrincipal({ grantee: this.investigatorApi.fn, actions: ['secretsmanager:PutSecretValue'], resourceArns: [this.credentials.secret.secretArn] });
    this.dataKey.grantEncrypt(this.investigatorApi.fn);
    grantInvokeFunction(this.detection.detect.fn, this.investigatorApi.fn);
    // GET /v1/status reads the depth of both queues.
    for (const queue of [this.ingestion.signals.queue, this.ingestion.signals.deadLetterQueue]) queue.grant(this.investigatorApi.fn, 'sqs:GetQueueAttributes');

    this.identity = new InvestigatorIdentity(this, 'Identity', { stage: config.stage, existing: config.identityProvider });
    this.console = new Console(this, 'Console', { logRetention });
    this.api = new CrosslinkApi(this, 'Api', {
      platformApi: this.platformApi,
      investigatorApi: this.investigatorApi,
      authorizer: this.identity.authorizer,
      // The console reaches the API through its own CloudFront origin; CORS is for other browser clients.
      corsOrigins: config.corsOrigins,
      logRetention,
    });
    this.console.routeApi(this.api.httpApi);
    this.console.publish(path.resolve(PROJECT_ROOT, config.consoleAssetPath), {
      apiUrl: this.api.url,
      ...(this.identity.userPool && this.identity.userPoolClient
        ? { region: this.region, userPoolId: this.identity.userPool.userPoolId, userPoolClientId: this.identity.userPoolClient.userPoolClientId }
        : { oidcIssuer: config.identityProvider?.issuer ?? '', oidcClientId: config.identityProvider?.audience[0] ?? '' }),
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: config.stage,
      alarmEmail: config.alarmEmail,
      httpApi: this.api.httpApi,
      queues: [
        { label: 'Signals', queue: this.ingestion.signals, maxAgeOfOldestMessage: Duration.minutes(15) },
        { label: 'DetectComponents', queue: this.detection.components, maxAgeOfOldestMessage: Duration.minutes(30) },
      ],
      functions: {
        PlatformApi: this.platformApi,
        InvestigatorApi: this.investigatorApi,
        ConsumeSignals: this.ingestion.consumer,
        Detect: this.detection.detect,
        DetectComponent: this.detection.componentWorker,
      },
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (platforms and investigators)' });
    new CfnOutput(this, 'ConsoleUrl', { value: this.console.url, description: 'The investigator console' });
    new CfnOutput(this, 'CredentialsSecretArn', { value: this.credentials.secret.secretArn, description: 'Secrets Manager secret holding platform secrets and the investigator token' });
    new CfnOutput(this, 'TableName', { value: this.graph.table.tableName });
    new CfnOutput(this, 'SignalDeadLetterQueueUrl', { value: this.ingestion.signals.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    if (this.identity.userPool && this.identity.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.identity.userPoolClient.userPoolClientId });
    }
  }
}
