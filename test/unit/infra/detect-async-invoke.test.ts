/**
 * The detect coordinator is only ever invoked asynchronously: by the investigator API
 * (lib/runtime/aws/lambda-detection-dispatcher.ts, InvocationType "Event") and by EventBridge
 * Scheduler (which invokes Lambda asynchronously). Lambda retries an asynchronous invocation that
 * ends in a function error (a timeout or running out of memory: `execute` records every other
 * failure itself) twice by default, which re-runs a coordinator that just died, or, for the
 * schedule, ends its run as stale and starts another full one. The schedule target's
 * `retryAttempts: 0` covers only Scheduler's delivery, not these retries.
 */
import { beforeAll, describe, it } from 'vitest';
import { logicalIdOf, synthesise, type Synthesised } from './synthesise.js';

let synth: Synthesised;
beforeAll(() => {
  synth = synthesise({ stage: 'test' });
}, 600_000);

describe('Stack: detect coordinator invocation', () => {
  it('does not let Lambda retry a failed asynchronous invocation of the coordinator', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalIdOf(synth.stack, synth.stack.detection.detect.fn) },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
    });
  });
});
