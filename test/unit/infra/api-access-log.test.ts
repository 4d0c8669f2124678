/**
 * The API access log is the only record of a request API Gateway refuses itself (401 from the JWT
 * authorizer, 429 from the stage throttle, 404 for an unknown route), and docs/operations.md sends
 * operators to it for the status per request. It must use the variables an HTTP API fills in: the
 * REST API's standard formats (`AccessLogFormat.jsonWithStandardFields()`, `clf()`) name
 * `$context.resourcePath`, which HTTP APIs do not have, so no line would say which route was called.
 */
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesise, type Synthesised } from './synthesise.js';

// The variables of https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
// that an API without IAM authorization, Lambda authorizers or mutual TLS can fill in.
const HTTP_API_LOG_VARIABLES = new Set([
  'accountId',
  'apiId',
  'awsEndpointRequestId',
  'dataProcessed',
  'domainName',
  'domainPrefix',
  'error.message',
  'error.messageString',
  'error.responseType',
  'extendedRequestId',
  'httpMethod',
  'identity.sourceIp',
  'identity.userAgent',
  'integration.error',
  'integration.integrationStatus',
  'integration.latency',
  'integration.requestId',
  'integration.status',
  'integrationErrorMessage',
  'integrationLatency',
  'integrationStatus',
  'path',
  'protocol',
  'requestId',
  'requestTime',
  'requestTimeEpoch',
  'responseLatency',
  'responseLength',
  'routeKey',
  'stage',
  'status',
]);

let synth: Synthesised;
beforeAll(() => {
  // The log format is in the template: no handler needs bundling.
  synth = synthesise({ [BUNDLING_STACKS]: [], stage: 'test' });
}, 300_000);

const accessLogFormat = (): string => Object.values(synth.template.findResources('AWS::ApiGatewayV2::Stage'))[0].Properties.AccessLogSettings.Format;
const variablesOf = (format: string) => [...format.matchAll(/\$context\.([A-Za-z.]+[A-Za-z])/g)].map((match) => match[1]);

describe('Stack: API access log', () => {
  it('uses only variables an HTTP API fills in', () => {
    expect(variablesOf(accessLogFormat()).filter((variable) => !HTTP_API_LOG_VARIABLES.has(variable))).toEqual([]);
  });

  it('says which route and path each request took, its status, and why API Gateway refused it', () => {
    expect(variablesOf(accessLogFormat())).toEqual(expect.arrayContaining(['requestId', 'routeKey', 'path', 'status', 'error.messageString']));
  });

  it('writes every line as one JSON object, whatever the values', () => {
    const line = accessLogFormat().replace(/\$context\.error\.messageString/g, '"Unauthorized"').replace(/\$context\.[A-Za-z.]+[A-Za-z]/g, '-');
    expect(JSON.parse(line)).toMatchObject({ routeKey: '-', status: '-', error: 'Unauthorized' });
  });
});
