import { describe, expect, it } from 'vitest';
import { diagnoseDeadLetter } from '../../../lib/ingest/dead-letters.js';
import { aSignal } from '../../support/factories.js';

const aMessageBody = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, platform: 'p1', requestId: 'req-1:0', receivedAt: '2026-11-01T10:00:00Z', signals: [aSignal(), aSignal({ account: 'acct-2' })], accounts: [], ...overrides });

describe('Function: diagnoseDeadLetter', () => {
  it('calls a body that is not JSON poison', () => {
    expect(diagnoseDeadLetter('{"v":1,')).toEqual({ verdict: 'poison', reason: 'the body is not JSON' });
  });

  it('calls a body of the wrong shape poison and names the field the schema refused', () => {
    expect(diagnoseDeadLetter(aMessageBody({ signals: [aSignal({ type: 'mail' as never })] }))).toEqual({
      verdict: 'poison',
      reason: expect.stringMatching(/^not an ingest message: signals\.0\.type must be one of email, phone/),
      requestId: 'req-1:0',
    });
  });

  it('calls a valid ingest message storable, with its request id and signal count', () => {
    expect(diagnoseDeadLetter(aMessageBody())).toEqual({ verdict: 'storable', reason: expect.stringMatching(/redrive it/), requestId: 'req-1:0', signals: 2 });
  });

  it('never echoes the body in its reason', () => {
    const body = aMessageBody({ v: 2 });
    const { reason } = diagnoseDeadLetter(body);
    expect(reason).not.toContain(aSignal().value);
    expect(reason).toMatch(/^not an ingest message: v /);
  });
});
