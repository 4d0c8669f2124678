import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, DeploymentConfigError, readDeploymentConfig } from '../../../infra/config.js';

const fromContext = (context: Record<string, unknown>) => readDeploymentConfig((key) => context[key]);

describe('Function: readDeploymentConfig', () => {
  it('gives the defaults for an empty context', () => {
    expect(fromContext({})).toEqual(DEFAULT_CONFIG);
  });

  it('reads numbers given as strings on the command line (-c hubThreshold=80)', () => {
    expect(fromContext({ hubThreshold: '80', retentionDays: '30' })).toMatchObject({ hubThreshold: 80, retentionDays: 30 });
  });

  it('reads CORS origins as a JSON array or a comma-separated list', () => {
    expect(fromContext({ corsOrigins: ['https://a.example.org'] }).corsOrigins).toEqual(['https://a.example.org']);
    expect(fromContext({ corsOrigins: 'https://a.example.org, http://localhost:5173' }).corsOrigins).toEqual(['https://a.example.org', 'http://localhost:5173']);
  });

  it('reads an identity provider given as JSON text, with a single audience', () => {
    expect(fromContext({ identityProvider: '{"issuer":"https://idp.example.org","audience":"console"}' }).identityProvider).toEqual({
      issuer: 'https://idp.example.org',
      audience: ['console'],
    });
  });

  it('reads detection options given as JSON text on the command line or as an object in cdk.json', () => {
    expect(fromContext({ detectionOptions: '{"cpmResolution":0.05,"halfLifeDays":{"ip":7}}' }).detectionOptions).toEqual({ cpmResolution: 0.05, halfLifeDays: { ip: 7 } });
    expect(fromContext({ detectionOptions: { typeWeights: { device: 0.6 } } }).detectionOptions).toEqual({ typeWeights: { device: 0.6 } });
  });

  it('treats an empty value (-c alarmEmail=) as absent', () => {
    expect(fromContext({ alarmEmail: '' }).alarmEmail).toBeUndefined();
  });

  it.each([
    ['hubThreshold', 'many', /hubThreshold.*whole number/],
    ['retentionDays', 0, /retentionDays.*at least 1/],
    ['stage', 'Prod_1', /stage.*lowercase/],
    ['detectionSchedule', 'every hour', /detectionSchedule.*rate\(1 hour\)/],
    ['alarmEmail', 'ops-at-example', /alarmEmail.*e-mail/],
    ['corsOrigins', ['https://example.org/console'], /corsOrigins.*without a path/],
    ['identityProvider', { issuer: 'http://idp.example.org', audience: ['x'] }, /identityProvider.*https/],
    ['logRetentionDays', 45, /logRetentionDays.*one of/],
    ['detectionOptions', '{"cpmResolutoin":0.05}', /detectionOptions.*unknown detection option "cpmResolutoin"/],
    ['detectionOptions', { cpmResolution: -1 }, /detectionOptions.*cpmResolution must be a finite number > 0/],
  ])('names the key when %s is %j', (key, value, message) => {
    expect(() => fromContext({ [key]: value })).toThrow(DeploymentConfigError);
    expect(() => fromContext({ [key]: value })).toThrow(message);
  });

  it.each(['aws-test', 'amazonia', 'mycognito'])('refuses the stage %j while the sign-in domain prefix is the default one holding it', (stage) => {
    expect(() => fromContext({ stage })).toThrow(DeploymentConfigError);
    expect(() => fromContext({ stage })).toThrow(/stage.*sign-in domain prefix.*Cognito refuses.*set signInDomainPrefix/);
    expect(fromContext({ stage, signInDomainPrefix: 'example-investigators' }).stage).toBe(stage);
  });
});
