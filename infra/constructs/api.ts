/**
 * The HTTPS API (API Gateway HTTP API). Platform routes go to the platform-api Lambda, which checks
 * each request's HMAC signature itself (a request authorizer never sees the body, and the signature
 * covers it) and applies each platform's own rate; the stage throttles each route as a whole.
 * Investigator routes go to the investigator-api Lambda behind a JWT authorizer.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { CrosslinkFunction } from './crosslink-function.js';

/** Stage throttling of one route: steady requests a second and the burst above it. */
export interface RouteThrottle {
  rateLimit: number;
  burstLimit: number;
}

/** A route of the API and its throttle. */
export interface ApiRoute {
  method: apigwv2.HttpMethod;
  path: string;
  throttle?: RouteThrottle;
}

const { GET, POST, PATCH, DELETE } = apigwv2.HttpMethod;

/** The platform routes (lib/api/platform-routes.ts), signature-checked in the handler. */
export const PLATFORM_ROUTES: ApiRoute[] = [
  // 100 batches of 500 signals a second is 50 000 signals a second, well past the expected load.
  { method: POST, path: '/v1/signals', throttle: { rateLimit: 100, burstLimit: 200 } },
  // The account in the query: API Gateway is reported to decode a path before the Lambda sees it (docs/faults.md).
  { method: DELETE, path: '/v1/accounts', throttle: { rateLimit: 20, burstLimit: 40 } },
  { method: GET, path: '/v1/lookup', throttle: { rateLimit: 50, burstLimit: 100 } },
  // The older forms with the account in the path, kept for clients that send them.
  { method: DELETE, path: '/v1/accounts/{account}', throttle: { rateLimit: 20, burstLimit: 40 } },
  { method: GET, path: '/v1/lookup/{account}', throttle: { rateLimit: 50, burstLimit: 100 } },
];

/** The investigator and operator routes (lib/api/staff-routes.ts, lib/api/review-routes.ts), behind the JWT authorizer. */
export const STAFF_ROUTES: ApiRoute[] = [
  { method: GET, path: '/v1/status' },
  // Each call starts a whole detection run: a handful a second is already abuse.
  { method: POST, path: '/v1/detect', throttle: { rateLimit: 1, burstLimit: 5 } },
  { method: GET, path: '/v1/runs/{runId}' },
  { method: GET, path: '/v1/clusters' },
  { method: GET, path: '/v1/clusters/{id}' },
  { method: GET, path: '/v1/accounts/{platform}/{account}' },
  { method: POST, path: '/v1/keys/{keyId}/retire', throttle: { rateLimit: 1, burstLimit: 2 } },
  // Operators manage platform credentials (lib/auth/platform-admin.ts over the credentials secret).
  { method: GET, path: '/v1/platforms' },
  { method: POST, path: '/v1/platforms', throttle: { rateLimit: 1, burstLimit: 2 } },
  { method: POST, path: '/v1/platforms/{id}/rotate', throttle: { rateLimit: 1, burstLimit: 2 } },
  { method: DELETE, path: '/v1/platforms/{id}', throttle: { rateLimit: 1, burstLimit: 2 } },
  // The console's review workflow (lib/api/review-routes.ts); the queue's filters ride on GET /v1/clusters.
  { method: GET, path: '/v1/queue/counts' },
  { method: GET, path: '/v1/clusters/{id}/context' },
  { method: GET, path: '/v1/clusters/{id}/review' },
  { method: PATCH, path: '/v1/clusters/{id}/review' },
  { method: POST, path: '/v1/clusters/{id}/notes' },
  { method: GET, path: '/v1/clusters/{id}/audit' },
  { method: GET, path: '/v1/clusters/{id}/path' },
  { method: GET, path: '/v1/clusters/{id}/export' },
  { method: POST, path: '/v1/verdicts' },
];

/**
 * One JSON line per request, from the variables an HTTP API fills in (the REST API's standard formats
 * log `$context.resourcePath`, which an HTTP API leaves empty). It is the only record of a request API
 * Gateway refuses itself (401 from the JWT authorizer, 429 from throttling, 404 for an unknown route):
 * `error` says why, already quoted by API Gateway, so a message with quotes keeps the line valid JSON.
 */
export const ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
  `{${[
    '"requestId":"$context.requestId"',
    '"ip":"$context.identity.sourceIp"',
    '"requestTime":"$context.requestTime"',
    '"httpMethod":"$context.httpMethod"',
    '"routeKey":"$context.routeKey"',
    '"path":"$context.path"',
    '"status":"$context.status"',
    '"protocol":"$context.protocol"',
    '"responseLength":"$context.responseLength"',
    '"responseLatency":"$context.responseLatency"',
    '"integrationStatus":"$context.integrationStatus"',
    '"integrationLatency":"$context.integrationLatency"',
    '"error":$context.error.messageString',
  ].join(',')}}`,
);

/** Throttle of every route without one of its own. */
export const DEFAULT_ROUTE_THROTTLE: RouteThrottle = { rateLimit: 50, burstLimit: 100 };

/** Props of {@link CrosslinkApi}. */
export interface CrosslinkApiProps {
  platformApi: CrosslinkFunction;
  investigatorApi: CrosslinkFunction;
  authorizer: apigwv2.IHttpRouteAuthorizer;
  /** Browser origins allowed by CORS. */
  corsOrigins: string[];
  logRetention: logs.RetentionDays;
}

export class CrosslinkApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CrosslinkApiProps) {
    super(scope, id);
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Crosslink: platform signals and investigator reports',
      createDefaultStage: false,
      corsPreflight:
        props.corsOrigins.length > 0
          ? {
              allowOrigins: props.corsOrigins,
              allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST, apigwv2.CorsHttpMethod.PATCH, apigwv2.CorsHttpMethod.DELETE],
              // x-crosslink-reviewer: the reviewer's name the console sends on review calls (REVIEWER_HEADER, lib/api/review-routes.ts).
              allowHeaders: ['authorization', 'content-type', 'x-crosslink-reviewer'],
              // Headers the API sends that a browser must read: an export's file name (lib/api/review-routes.ts)
              // and how long to wait after a 429 or 503 (lib/api/errors.ts).
              exposeHeaders: ['content-disposition', 'retry-after'],
              maxAge: Duration.hours(1),
            }
          : undefined,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: DEFAULT_ROUTE_THROTTLE,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(this.accessLogs), format: ACCESS_LOG_FORMAT },
    });

    const platformIntegration = new HttpLambdaIntegration('Platform', props.platformApi.fn);
    const staffIntegration = new HttpLambdaIntegration('Investigator', props.investigatorApi.fn);
    const routes: apigwv2.HttpRoute[] = [];
    for (const route of PLATFORM_ROUTES) {
      for (const added of this.httpApi.addRoutes({ path: route.path, methods: [route.method], integration: platformIntegration })) {
        routes.push(added);
        Validations.of(added).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: 'Platform requests are authenticated by their HMAC-SHA256 signature over the body, checked in the platform-api Lambda; an API Gateway authorizer never receives the body.',
        });
        Validations.of(added).acknowledge({
          id: 'AwsSolutions-COG4',
          reason: 'Platforms are machines holding a signing secret, not Cognito users; their requests are authenticated by signature in the handler.',
        });
      }
    }
    for (const route of STAFF_ROUTES) {
      routes.push(...this.httpApi.addRoutes({ path: route.path, methods: [route.method], integration: staffIntegration, authorizer: props.authorizer }));
    }

    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    for (const route of [...PLATFORM_ROUTES, ...STAFF_ROUTES]) {
      if (route.throttle) routeSettings[`${route.method} ${route.path}`] = { ThrottlingRateLimit: route.throttle.rateLimit, ThrottlingBurstLimit: route.throttle.burstLimit };
    }
    (this.stage.node.defaultChild as apigwv2.CfnStage).routeSettings = routeSettings;
    // RouteSettings may name only routes that exist, so the stage is created after them.
    for (const route of routes) this.stage.node.addDependency(route);
  }

  /** The API's base URL, `https://<id>.execute-api.<region>.amazonaws.com`. */
  get url(): string {
    return this.stage.url;
  }
}
