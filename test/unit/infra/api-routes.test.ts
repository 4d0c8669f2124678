/**
 * Every route the investigator Lambda's app serves must exist on the HTTP API: API Gateway answers
 * 404 itself for a route key it does not know, so the Lambda never sees the request.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, type ApiDeps } from '../../../lib/api/app.js';
import { REVIEWER_HEADER } from '../../../lib/api/review-routes.js';
import { consoleFixture, synthesise, type Synthesised } from './synthesise.js';

let synth: Synthesised;
beforeAll(() => {
  synth = synthesise({ stage: 'test', corsOrigins: ['https://investigate.example.org'], consoleAssetPath: consoleFixture() });
}, 600_000);

/** The routes the deployed investigator-api Lambda registers (lib/runtime/aws/lambda-api.ts wires `review` and `platformAdmin`). */
function investigatorRouteKeys(): string[] {
  return routeKeysOf('investigator');
}

function routeKeysOf(surface: 'investigator' | 'platform'): string[] {
  const stub = {} as never;
  const deps = {
    platform: stub,
    staff: { staffAuthenticator: async () => ({}), investigator: stub, detection: stub, dispatcher: stub, platformAdmin: {}, signals: stub },
    review: { review: stub },
    logger: stub,
  } as unknown as ApiDeps;
  const app = createApi(deps, surface);
  const keys = app.routes
    .filter((route) => route.path.startsWith('/v1/') && route.method !== 'ALL')
    .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
  return [...new Set(keys)].sort();
}

describe('Stack: HTTP API routes match the investigator app', () => {
  it('has a JWT-protected API Gateway route for every route the investigator Lambda serves', () => {
    const deployed = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route')).map((route) => route.Properties.RouteKey as string);
    const missing = investigatorRouteKeys().filter((key) => !deployed.includes(key));
    expect(missing).toEqual([]);
    for (const key of investigatorRouteKeys()) {
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'JWT', AuthorizerId: Match.anyValue() });
    }
  });

  it('has an API Gateway route, without the JWT authorizer (platforms sign their requests), for every route the platform Lambda serves', () => {
    const routes = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route')).map((route) => route.Properties);
    for (const key of routeKeysOf('platform')) {
      const route = routes.find((candidate) => candidate.RouteKey === key);
      expect(route, key).toBeDefined();
      expect(route!.AuthorizationType ?? 'NONE', key).toBe('NONE');
    }
  });

  it('allows every method and header the investigator app (and the console served elsewhere) uses in CORS', () => {
    const api = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Api'))[0].Properties;
    const methods = [...new Set(investigatorRouteKeys().map((key) => key.split(' ')[0]))];
    expect(methods.filter((method) => !api.CorsConfiguration.AllowMethods.includes(method))).toEqual([]);
    // web/src/api.ts sends it on every review call once the investigator has named themselves.
    expect(api.CorsConfiguration.AllowHeaders).toContain(REVIEWER_HEADER);
  });
});
