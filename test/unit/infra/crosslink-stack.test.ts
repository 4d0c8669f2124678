import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_ROUTES, STAFF_ROUTES } from '../../../infra/constructs/api.js';
import { parseDetectionOptions } from '../../../lib/detect/options.js';
import { actionsOn, consoleFixture, logicalIdOf, statementsOfFunction, synthesise, type Synthesised } from './synthesise.js';

// One synthesis (it bundles every handler with esbuild) shared by the whole file.
let synth: Synthesised;
beforeAll(() => {
  synth = synthesise({
    stage: 'test',
    hubThreshold: 40,
    detectionOptions: { cpmResolution: 0.05, halfLifeDays: { payment: Infinity, ip: 7 } },
    retentionDays: 180,
    detectionSchedule: 'rate(2 hours)',
    alarmEmail: 'alerts@example.org',
    corsOrigins: ['https://investigate.example.org'],
    consoleAssetPath: consoleFixture(),
  });
  // Synthesis bundles every handler; on a busy two-core CI machine it takes a minute or more.
}, 600_000);

const ids = () => {
  const { stack } = synth;
  return {
    table: logicalIdOf(stack, stack.graph.table),
    dataKey: logicalIdOf(stack, stack.dataKey),
    signalQueue: logicalIdOf(stack, stack.ingestion.signals.queue),
    signalDlq: logicalIdOf(stack, stack.ingestion.signals.deadLetterQueue),
    componentQueue: logicalIdOf(stack, stack.detection.components.queue),
    componentDlq: logicalIdOf(stack, stack.detection.components.deadLetterQueue),
    secret: logicalIdOf(stack, stack.credentials.secret),
    platformApi: logicalIdOf(stack, stack.platformApi.fn),
    investigatorApi: logicalIdOf(stack, stack.investigatorApi.fn),
    consumer: logicalIdOf(stack, stack.ingestion.consumer.fn),
    detect: logicalIdOf(stack, stack.detection.detect.fn),
    componentWorker: logicalIdOf(stack, stack.detection.componentWorker.fn),
  };
};

describe('Stack: CrosslinkStack', () => {
  describe('graph store', () => {
    it('is one on-demand table with pk/sk, gsi1, the sparse ranking index and TTL on expiresAt', () => {
      synth.template.resourceCountIs('AWS::DynamoDB::Table', 1);
      synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'ranking',
            KeySchema: [
              { AttributeName: 'rankPk', KeyType: 'HASH' },
              { AttributeName: 'rankSk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['id', 'size', 'platforms', 'platformCount', 'risk', 'members', 'fingerprint', 'detectedAt'] },
          },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
    });

    it('has point-in-time recovery, deletion protection and the customer-managed key, and is retained', () => {
      synth.template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [ids().dataKey, 'Arn'] } },
        }),
      });
    });

    it('encrypts with a rotating key that outlives the stack', () => {
      synth.template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ EnableKeyRotation: true }) });
    });
  });

  describe('ingestion', () => {
    it('moves a message to the dead-letter queue after five receives', () => {
      synth.template.hasResourceProperties('AWS::SQS::Queue', {
        KmsMasterKeyId: { 'Fn::GetAtt': [ids().dataKey, 'Arn'] },
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [ids().signalDlq, 'Arn'] }, maxReceiveCount: 5 },
        // Six times the consumer's 60 s timeout.
        VisibilityTimeout: 360,
      });
    });

    it('encrypts both dead-letter queues with the data key and keeps their messages 14 days', () => {
      for (const dlq of [ids().signalDlq, ids().componentDlq]) {
        expect(synth.template.toJSON().Resources[dlq].Properties).toMatchObject({
          KmsMasterKeyId: { 'Fn::GetAtt': [ids().dataKey, 'Arn'] },
          MessageRetentionPeriod: 14 * 24 * 3600,
        });
      }
    });

    it('refuses queue access without TLS', () => {
      synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: ids().signalQueue }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });

    it('feeds the consumer in batches with partial batch responses and bounded concurrency', () => {
      synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: ids().consumer },
        EventSourceArn: { 'Fn::GetAtt': [ids().signalQueue, 'Arn'] },
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 5,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 10 },
      });
    });
  });

  describe('detection', () => {
    it('runs on the configured schedule with the schedule trigger and no retries', () => {
      synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(2 hours)',
        ScheduleExpressionTimezone: 'UTC',
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [ids().detect, 'Arn'] },
          Input: JSON.stringify({ trigger: 'schedule' }),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }),
        }),
      });
    });

    it('fans component work out through its own queue to one component per invocation', () => {
      synth.template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [ids().componentDlq, 'Arn'] }, maxReceiveCount: 5 },
        VisibilityTimeout: 6 * 300,
      });
      synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: ids().componentWorker },
        EventSourceArn: { 'Fn::GetAtt': [ids().componentQueue, 'Arn'] },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 20 },
      });
      const worker = synth.template.toJSON().Resources[ids().componentWorker].Properties;
      expect(worker.Handler).toBe('index.componentHandler');
      expect(synth.template.toJSON().Resources[ids().detect].Properties.Environment.Variables.DETECT_COMPONENT_QUEUE_URL).toEqual({ Ref: ids().componentQueue });
    });
  });

  describe('functions', () => {
    it('runs every Crosslink function on Node.js 22, arm64, with source maps and Powertools settings', () => {
      for (const id of ['platformApi', 'investigatorApi', 'consumer', 'detect', 'componentWorker'] as const) {
        const fn = synth.template.toJSON().Resources[ids()[id]].Properties;
        expect(fn.Runtime, id).toBe('nodejs22.x');
        expect(fn.Architectures, id).toEqual(['arm64']);
        expect(fn.Environment.Variables, id).toMatchObject({
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: expect.stringMatching(/^crosslink-/),
          POWERTOOLS_METRICS_NAMESPACE: 'Crosslink',
          TABLE_NAME: { Ref: ids().table },
          SIGNAL_QUEUE_URL: { Ref: ids().signalQueue },
          SIGNAL_DLQ_URL: { Ref: ids().signalDlq },
          HUB_THRESHOLD: '40',
          RETENTION_DAYS: '180',
        });
        // The Lambda reads them back as the operator wrote them (Infinity travels as null).
        expect(parseDetectionOptions(fn.Environment.Variables.DETECTION_OPTIONS), id).toEqual({ cpmResolution: 0.05, halfLifeDays: { payment: Infinity, ip: 7 } });
        expect(fn.LoggingConfig?.LogGroup, `${id} logs to its own group`).toBeDefined();
      }
    });

    it('bundles each handler into an ES module that loads outside Lambda and exports the configured handler', async () => {
      const resources = synth.template.toJSON().Resources;
      for (const id of ['platformApi', 'investigatorApi', 'consumer', 'detect', 'componentWorker'] as const) {
        const fn = resources[ids()[id]];
        // The code's S3 key is the asset hash; the assembly stages the bundle as asset.<hash>.
        const assetHash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
        const bundle = path.join(synth.assemblyDir, `asset.${assetHash}`, 'index.mjs');
        const handlerExport = String(fn.Properties.Handler).replace(/^index\./, '');
        const loaded = (await import(pathToFileURL(bundle).href)) as Record<string, unknown>;
        expect(typeof loaded[handlerExport], `${id} exports ${handlerExport}`).toBe('function');
      }
    });

    it('tells the APIs where the credentials are and the investigator API which function detects', () => {
      const resources = synth.template.toJSON().Resources;
      expect(resources[ids().platformApi].Properties.Environment.Variables.CREDENTIALS_SECRET_ARN).toEqual({ Ref: ids().secret });
      expect(resources[ids().investigatorApi].Properties.Environment.Variables.DETECT_FUNCTION_NAME).toEqual({ Ref: ids().detect });
    });
  });

  describe('least privilege', () => {
    it('lets the platform API send to the signal queue and read the credentials, and nothing on the other queues', () => {
      const statements = statementsOfFunction(synth.template, ids().platformApi);
      expect(actionsOn(statements, ids().signalQueue)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
      expect(actionsOn(statements, ids().signalQueue)).not.toContain('sqs:ReceiveMessage');
      expect(actionsOn(statements, ids().secret)).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue']));
      expect(actionsOn(statements, ids().componentQueue)).toEqual([]);
      expect(actionsOn(statements, ids().detect)).toEqual([]);
    });

    it('lets the consumer receive and delete signal messages and write the table, but not send', () => {
      const statements = statementsOfFunction(synth.template, ids().consumer);
      expect(actionsOn(statements, ids().signalQueue)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
      expect(actionsOn(statements, ids().signalQueue)).not.toContain('sqs:SendMessage');
      expect(actionsOn(statements, ids().table)).toEqual(expect.arrayContaining(['dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:Query']));
      expect(actionsOn(statements, ids().secret)).toEqual([]);
    });

    it('lets the investigator API invoke detection, read queue depths and put new credential versions, but not enqueue', () => {
      const statements = statementsOfFunction(synth.template, ids().investigatorApi);
      expect(actionsOn(statements, ids().detect)).toEqual(['lambda:InvokeFunction']);
      expect(actionsOn(statements, ids().signalQueue)).toEqual(['sqs:GetQueueAttributes']);
      expect(actionsOn(statements, ids().signalDlq)).toEqual(['sqs:GetQueueAttributes']);
      expect(actionsOn(statements, ids().secret).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    });

    it('lets only the investigator API (operator routes) change the credentials secret', () => {
      for (const id of ['platformApi', 'consumer', 'detect', 'componentWorker'] as const) {
        expect(actionsOn(statementsOfFunction(synth.template, ids()[id]), ids().secret), id).not.toContain('secretsmanager:PutSecretValue');
      }
    });

    it('lets detection enqueue component work and only the component worker consume it', () => {
      expect(actionsOn(statementsOfFunction(synth.template, ids().detect), ids().componentQueue)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
      expect(actionsOn(statementsOfFunction(synth.template, ids().detect), ids().signalQueue)).toEqual([]);
      expect(actionsOn(statementsOfFunction(synth.template, ids().componentWorker), ids().componentQueue)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage']));
    });

    it('names a resource in every statement of every Crosslink function', () => {
      for (const id of ['platformApi', 'investigatorApi', 'consumer', 'detect', 'componentWorker'] as const) {
        for (const statement of statementsOfFunction(synth.template, ids()[id])) expect(statement.Resource, `${id}: ${JSON.stringify(statement.Action)}`).not.toBe('*');
      }
    });

    it('keeps the credentials in a secret under the data key, created with a generated investigator token', () => {
      synth.template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: 'crosslink/test/credentials',
        KmsKeyId: { 'Fn::GetAtt': [ids().dataKey, 'Arn'] },
        GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"platforms":[]}', GenerateStringKey: 'investigatorToken' }),
      });
    });
  });

  describe('api', () => {
    it('routes platform traffic to the platform API without an authorizer: the handler checks the signature', () => {
      for (const route of PLATFORM_ROUTES) {
        synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${route.method} ${route.path}`, AuthorizationType: 'NONE' });
      }
    });

    it('puts every investigator route behind the JWT authorizer of the Cognito user pool', () => {
      for (const route of STAFF_ROUTES) {
        synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${route.method} ${route.path}`, AuthorizationType: 'JWT', AuthorizerId: Match.anyValue() });
      }
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: Match.objectLike({ Issuer: Match.anyValue(), Audience: [{ Ref: Match.stringLikeRegexp('ConsoleClient') }] }),
      });
    });

    it('throttles each platform route at the stage and writes an access log', () => {
      const stage = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Stage'))[0].Properties;
      expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
      expect(stage.RouteSettings['POST /v1/signals']).toEqual({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
      expect(stage.RouteSettings['POST /v1/detect']).toEqual({ ThrottlingRateLimit: 1, ThrottlingBurstLimit: 5 });
      expect(stage.AccessLogSettings.DestinationArn).toBeDefined();
    });

    it('allows exactly the configured origins in CORS', () => {
      const api = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Api'))[0].Properties;
      expect(api.CorsConfiguration.AllowOrigins).toEqual(['https://investigate.example.org']);
    });
  });

  describe('identity', () => {
    it('creates an invitation-only user pool with MFA and the two staff groups', () => {
      synth.template.hasResourceProperties('AWS::Cognito::UserPool', {
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        MfaConfiguration: 'ON',
        UserPoolTier: 'PLUS',
      });
      for (const group of ['investigators', 'operators']) synth.template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: group });
    });
  });

  describe('console', () => {
    it('serves a private, encrypted bucket through CloudFront origin access control', () => {
      synth.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always' }) });
      synth.template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: Match.anyValue(),
        VersioningConfiguration: { Status: 'Enabled' },
      });
      synth.template.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({ DefaultRootObject: 'index.html', DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }) }),
      });
    });

    it('proxies /v1/* to the API on the console origin, forwarding Authorization and Accept-Encoding and caching nothing by default', () => {
      const config = Object.values(synth.template.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
      const apiBehavior = config.CacheBehaviors.find((behavior: { PathPattern: string }) => behavior.PathPattern === '/v1/*');
      expect(apiBehavior).toMatchObject({ ViewerProtocolPolicy: 'https-only', AllowedMethods: expect.arrayContaining(['POST', 'DELETE']) });
      expect(JSON.stringify(config.Origins)).toContain(logicalIdOf(synth.stack, synth.stack.api.httpApi));
      synth.template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
        CachePolicyConfig: Match.objectLike({
          DefaultTTL: 0,
          ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({ HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Authorization'] }, EnableAcceptEncodingGzip: true }),
        }),
      });
      expect(config.CustomErrorResponses).toBeUndefined();
    });

    it('publishes the built console when it exists', () => {
      synth.template.resourceCountIs('Custom::CDKBucketDeployment', 1);
    });

    it('publishes a config.json naming the user pool and the console client, which the console signs in with', () => {
      const deployment = Object.values(synth.template.findResources('Custom::CDKBucketDeployment'))[0].Properties;
      const markers = Object.values(Object.assign({}, ...deployment.SourceMarkers)) as Array<{ Ref: string }>;
      const refs = markers.map((marker) => marker.Ref);
      expect(refs).toEqual(expect.arrayContaining(['AWS::Region', logicalIdOf(synth.stack, synth.stack.identity.userPool!), logicalIdOf(synth.stack, synth.stack.identity.userPoolClient!)]));
    });

    it('lets the console sign in with the authorization code grant, back to its own address', () => {
      const client = Object.values(synth.template.findResources('AWS::Cognito::UserPoolClient'))[0].Properties;
      expect(client).toMatchObject({ AllowedOAuthFlows: ['code'], GenerateSecret: false });
      const distribution = logicalIdOf(synth.stack, synth.stack.console.distribution);
      expect(client.CallbackURLs).toEqual([{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution, 'DomainName'] }, '/']] }, 'https://investigate.example.org/']);
      synth.template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    });
  });

  describe('alarms and dashboard', () => {
    const alarmsOn = (metricName: string) =>
      Object.values(synth.template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) => alarm.Properties.MetricName === metricName);

    it('alarms when either dead-letter queue holds a message', () => {
      const deadLetterAlarms = alarmsOn('ApproximateNumberOfMessagesVisible');
      expect(deadLetterAlarms.map((alarm) => alarm.Properties.Dimensions[0].Value['Fn::GetAtt'][0]).sort()).toEqual([ids().componentDlq, ids().signalDlq].sort());
      for (const alarm of deadLetterAlarms) expect(alarm.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    });

    it('alarms when the oldest signal is 15 minutes old', () => {
      const ageAlarms = alarmsOn('ApproximateAgeOfOldestMessage');
      expect(ageAlarms).toHaveLength(2);
      expect(ageAlarms.find((alarm) => alarm.Properties.Dimensions[0].Value['Fn::GetAtt'][0] === ids().signalQueue)?.Properties.Threshold).toBe(900);
    });

    it('alarms on errors and throttles of every function', () => {
      const functionsWatched = (metric: string) => alarmsOn(metric).map((alarm) => alarm.Properties.Dimensions[0].Value.Ref).sort();
      const all = [ids().platformApi, ids().investigatorApi, ids().consumer, ids().detect, ids().componentWorker].sort();
      expect(functionsWatched('Errors')).toEqual(all);
      expect(functionsWatched('Throttles')).toEqual(all);
    });

    it('sends every alarm to the encrypted topic that e-mails the configured address', () => {
      const topicId = logicalIdOf(synth.stack, synth.stack.monitoring.topic);
      for (const alarm of Object.values(synth.template.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      synth.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      synth.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'alerts@example.org', TopicArn: { Ref: topicId } });
    });

    it('builds a dashboard', () => {
      synth.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Crosslink-test' });
    });
  });
});
