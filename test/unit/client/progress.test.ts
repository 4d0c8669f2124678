import { describe, expect, it } from 'vitest';
import { formatProgress, terminalProgress } from '../../../lib/client/progress.js';
import type { SubmitProgress } from '../../../lib/client/submit.js';

function progress(overrides: Partial<SubmitProgress> = {}): SubmitProgress {
  return { rowsAcknowledged: 21_000, rowsTotal: 50_000, rowsAtStart: 0, accepted: 20_990, rejected: 10, retries: 0, elapsedMs: 6000, ...overrides };
}

describe('Function: formatProgress', () => {
  it('shows the share done, the rate and the time left', () => {
    expect(formatProgress(progress())).toBe(' 42% 21,000/50,000 rows · 3,500 rows/s · ETA 0:09 · 20,990 accepted · 10 rejected');
  });

  it('measures the rate over this run only when resuming', () => {
    expect(formatProgress(progress({ rowsAtStart: 18_000, retries: 2 }))).toBe(' 42% 21,000/50,000 rows · 500 rows/s · ETA 0:58 · 20,990 accepted · 10 rejected · 2 retries');
  });

  it('shows no ETA before anything was acknowledged', () => {
    expect(formatProgress(progress({ rowsAcknowledged: 0, elapsedMs: 0 }))).toContain('ETA --:--');
  });
});

describe('Function: terminalProgress', () => {
  it('draws in place on a terminal and ends the line when finished', () => {
    const written: string[] = [];
    const reporter = terminalProgress({ isTTY: true, write: (text) => written.push(text) }, 0);

    reporter.update(progress());
    reporter.finish();

    expect(written[0]).toMatch(/^\r\x1b\[2K 42%/);
    expect(written.at(-1)).toBe('\n');
  });

  it('writes nothing when stderr is not a terminal', () => {
    const written: string[] = [];
    const reporter = terminalProgress({ isTTY: false, write: (text) => written.push(text) }, 0);

    reporter.update(progress());
    reporter.finish();

    expect(written).toEqual([]);
  });
});
