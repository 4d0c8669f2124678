/**
 * When an `auto` run can continue from the previous one, and the reason it says when it cannot: the
 * incremental answer equals a full one only over the same options, verdicts and ageing step.
 */
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../lib/graph/run-repository.js';
import { whyNotIncremental } from '../../../lib/runs/detection-runner.js';

const basis = { optionsFingerprint: 'options-1', verdictsFingerprint: 'verdicts-1', agingStep: 20_421 };
const previous = (over: Partial<RunRecord['basis']> | undefined): RunRecord => ({
  runId: 'run-7',
  status: 'succeeded',
  trigger: 'on-demand',
  startedAt: '2026-11-29T10:00:00.000Z',
  ...(over === undefined ? {} : { basis: { ...basis, ...over } }),
});

describe('whyNotIncremental', () => {
  it('lets a run continue from a previous run on the same basis', () => {
    expect(whyNotIncremental(previous({}), basis)).toBeUndefined();
  });

  it('says what differs, naming the previous run', () => {
    expect(whyNotIncremental(undefined, basis)).toBe('no previous successful run to build on');
    expect(whyNotIncremental(previous(undefined), basis)).toBe('no previous successful run to build on');
    expect(whyNotIncremental(previous({ optionsFingerprint: 'options-0' }), basis)).toBe('the previous run (run-7) ran on other detection options');
    expect(whyNotIncremental(previous({ verdictsFingerprint: 'verdicts-0' }), basis)).toBe('verdicts changed since the previous run (run-7)');
    expect(whyNotIncremental(previous({ agingStep: 20_420 }), basis)).toBe('a new ageing step began since the previous run (run-7)');
  });
});
