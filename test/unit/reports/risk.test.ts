import { describe, expect, it } from 'vitest';
import { scoreClusterRisk } from '../../../lib/reports/risk.js';

const DAY_MS = 86_400_000;
const factorsOf = (score: ReturnType<typeof scoreClusterRisk>) => score.reasons.map((reason) => reason.factor).sort();

describe('Function: scoreClusterRisk', () => {
  it('scores more platforms higher, with the platforms named in the reason', () => {
    const one = scoreClusterRisk(['snap#a', 'snap#b'], new Map());
    const three = scoreClusterRisk(['snap#a', 'insta#b', 'wa#c'], new Map());

    expect(three.score).toBeGreaterThan(one.score);
    expect(three.reasons.find((r) => r.factor === 'platforms')?.detail).toBe('spans 3 platforms (insta, snap, wa)');
  });

  it('counts a creation burst only when enough accounts were created close together', () => {
    const burst = new Map(['a', 'b', 'c'].map((name, i) => [`snap#${name}`, { createdAtMs: 1e12 + i * DAY_MS }]));
    const spread = new Map(['a', 'b', 'c'].map((name, i) => [`snap#${name}`, { createdAtMs: 1e12 + i * 30 * DAY_MS }]));

    expect(factorsOf(scoreClusterRisk(['snap#a', 'snap#b', 'snap#c'], burst))).toContain('creation-burst');
    expect(factorsOf(scoreClusterRisk(['snap#a', 'snap#b', 'snap#c'], spread))).not.toContain('creation-burst');
  });

  it('adds minors contacted and reports, summed over the members', () => {
    const facts = new Map([
      ['snap#a', { minorContacts7d: 5, reports30d: 1 }],
      ['insta#b', { minorContacts7d: 10, reports30d: 2 }],
    ]);

    const score = scoreClusterRisk(['snap#a', 'insta#b'], facts);

    expect(score.reasons.find((r) => r.factor === 'minor-contacts')?.detail).toBe('15 minors contacted in the last 7 days');
    expect(score.reasons.find((r) => r.factor === 'reports')?.detail).toBe('3 user reports in the last 30 days');
  });

  it('is the sum of its reasons, never above 100', () => {
    const members = Array.from({ length: 64 }, (_, i) => `p${i % 8}#acct${i}`);
    const facts = new Map(members.map((member) => [member, { minorContacts7d: 100, reports30d: 50, createdAtMs: 1e12 }]));

    const score = scoreClusterRisk(members, facts);

    expect(score.score).toBe(100);
    expect(score.reasons.reduce((sum, r) => sum + r.points, 0)).toBeCloseTo(100, 3);
  });
});
