/**
 * A browser on another origin (one of `corsOrigins`) reads only the response headers CORS exposes,
 * besides the few safelisted ones. The API sends two that such a client needs: `Content-Disposition`
 * with an export's file name (lib/api/review-routes.ts, read by web/src/api.ts), and `Retry-After`
 * with a 429 or 503 (lib/api/errors.ts).
 */
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesise, type Synthesised } from './synthesise.js';

let synth: Synthesised;
beforeAll(() => {
  // The CORS configuration is in the template: no handler needs bundling.
  synth = synthesise({ [BUNDLING_STACKS]: [], stage: 'test', corsOrigins: ['https://investigate.example.org'] });
}, 300_000);

const exposedHeaders = (): string[] => {
  const api = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Api'))[0].Properties;
  return (api.CorsConfiguration.ExposeHeaders ?? []).map((header: string) => header.toLowerCase());
};

describe('Stack: HTTP API CORS', () => {
  it('lets a browser on another origin read an export\'s file name', () => {
    expect(exposedHeaders()).toContain('content-disposition');
  });

  it('lets a browser on another origin read how long to wait after a 429 or 503', () => {
    expect(exposedHeaders()).toContain('retry-after');
  });

  it('exposes no header the API does not send', () => {
    expect(exposedHeaders().sort()).toEqual(['content-disposition', 'retry-after']);
  });
});
