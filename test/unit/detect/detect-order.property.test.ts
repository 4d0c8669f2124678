import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectClusters } from '../../../lib/detect/detect.js';
import { resolveVerdicts } from '../../../lib/detect/verdicts.js';
import type { Membership, Verdict } from '../../../lib/detect/model.js';
import { DAY_MS, hashed, NOW_MS } from './fixtures.js';

const TYPES = ['phone', 'email', 'device', 'username', 'ip', 'payment'] as const;
const account = (i: number) => `${['snap', 'insta', 'wa'][i % 3]}#a${i}`;
const membershipArb = fc.record({ acc: fc.integer({ min: 0, max: 9 }), type: fc.constantFrom(...TYPES), v: fc.integer({ min: 0, max: 4 }), days: fc.integer({ min: -3, max: 900 }) });
const verdictArb = fc.record({ a: fc.integer({ min: 0, max: 10 }), b: fc.integer({ min: 0, max: 10 }), same: fc.boolean(), t: fc.integer({ min: 0, max: 3 }) });

function shuffle<T>(list: T[], seed: number): T[] {
  const out = [...list];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('Function: detectClusters, input order', () => {
  it('honours cannot-links and must-links in force, and does not depend on input order', () => {
    fc.assert(
      fc.property(
        fc.array(membershipArb, { minLength: 2, maxLength: 40 }),
        fc.array(verdictArb, { maxLength: 8 }),
        fc.integer(),
        fc.constantFrom(0.3, 0.04, Infinity),
        (ms, vs, seed, clusterMergeWeight) => {
          const memberships: Membership[] = ms.map((m) => ({ account: account(m.acc), type: m.type, value: hashed(`${m.type}:${m.v}`), observedAtMs: NOW_MS - m.days * DAY_MS }));
          const verdicts: Verdict[] = vs.map((v) => ({ a: account(v.a), b: account(v.b), kind: v.same ? 'same-actor' : 'not-same-actor', by: 'x', atMs: NOW_MS - 10 * DAY_MS + v.t }));
          const options = { idSeed: 's', clusterMergeWeight, typeWeights: { ip: 0.2 } } as never;
          const result = detectClusters({ memberships, accounts: new Map(), nowMs: NOW_MS, verdicts }, options);
          const clusterOf = new Map<string, string>();
          for (const c of result.clusters) for (const m of c.members) clusterOf.set(m, c.id);
          const plan = resolveVerdicts(verdicts);
          for (const v of plan.cannotLink) if (clusterOf.has(v.a)) expect(clusterOf.get(v.a)).not.toBe(clusterOf.get(v.b));
          for (const v of plan.mustLink) {
            expect(clusterOf.get(v.a)).toBeDefined();
            expect(clusterOf.get(v.a)).toBe(clusterOf.get(v.b));
          }
          for (const c of result.clusters) for (const l of c.links) {
            expect(Number.isFinite(l.weight)).toBe(true);
            for (const e of l.evidence) expect(Number.isFinite(e.weight)).toBe(true);
          }
          const again = detectClusters({ memberships: shuffle(memberships, seed), accounts: new Map(), nowMs: NOW_MS, verdicts: shuffle(verdicts, seed ^ 0x5bd1) }, options);
          const strip = (r: typeof result) => r.clusters.map((c) => ({ ...c, links: c.links.map((l) => ({ ...l, evidence: [...l.evidence].sort((x, y) => (x.value < y.value ? -1 : 1)) })) }));
          expect(strip(again)).toEqual(strip(result));
          expect(again.verdictConflicts).toEqual(result.verdictConflicts);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
