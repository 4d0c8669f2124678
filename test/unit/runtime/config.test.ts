import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_OPTIONS } from '../../../lib/detect/options.js';
import { ConfigError, detectionOptionsFrom, readConfig } from '../../../lib/runtime/config.js';

const env = (extra: Record<string, string>) => ({ TABLE_NAME: 't', SIGNAL_QUEUE_URL: 'q', SIGNAL_DLQ_URL: 'd', ...extra });

describe('Function: detectionOptionsFrom (DETECTION_OPTIONS)', () => {
  it('gives no options when the variable is unset or blank', () => {
    expect(detectionOptionsFrom({})).toEqual({});
    expect(detectionOptionsFrom({ DETECTION_OPTIONS: '  ' })).toEqual({});
  });

  it('reads options over the defaults, with null for Infinity', () => {
    expect(detectionOptionsFrom({ DETECTION_OPTIONS: '{"cpmResolution":0.05,"halfLifeDays":{"ip":7,"device":null},"clusterMergeWeight":null}' })).toEqual({
      cpmResolution: 0.05,
      halfLifeDays: { ip: 7, device: Infinity },
      clusterMergeWeight: Infinity,
    });
    expect(readConfig(env({ DETECTION_OPTIONS: '{"corroborationWeight":{"device":0.9}}' })).detectionOptions).toEqual({ corroborationWeight: { device: 0.9 } });
  });

  it.each([
    ['not JSON', '{cpmResolution:0.05}', /DETECTION_OPTIONS: detection options must be JSON/],
    ['not an object', '[0.05]', /DETECTION_OPTIONS: detection options must be a JSON object/],
    ['a misspelt option', '{"cpmResolutoin":0.05}', /unknown detection option "cpmResolutoin" \(known: hubThreshold, /],
    ['an unknown signal type', '{"typeWeights":{"fax":1}}', /typeWeights has unknown signal type "fax" \(known: email, phone/],
    ['a per-type option given as a number', '{"halfLifeDays":30}', /halfLifeDays must be an object of signal types to numbers/],
    ['a value out of range', '{"corroborationWeight":{"device":2}}', /corroborationWeight.device must be between 0 and 1, got 2/],
  ])('refuses %s at start-up, saying what to fix', (_, raw, message) => {
    expect(() => readConfig(env({ DETECTION_OPTIONS: raw }))).toThrow(ConfigError);
    expect(() => readConfig(env({ DETECTION_OPTIONS: raw }))).toThrow(message);
  });

  it('leaves every default in place that the operator did not name', () => {
    const options = detectionOptionsFrom({ DETECTION_OPTIONS: '{"typeWeights":{"ip":0.02}}' });
    expect(options.typeWeights).toEqual({ ip: 0.02 });
    expect(DEFAULT_DETECTION_OPTIONS.typeWeights.ip).toBe(0.01);
  });
});
