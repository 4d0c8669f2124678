import { describe, expect, it } from 'vitest';
import { detectClusters } from '../../../lib/detect/detect.js';
import { resolveVerdicts } from '../../../lib/detect/verdicts.js';
import { DAY_MS, input, memberSets, NOW_MS, seen, verdict } from './fixtures.js';

describe('Function: resolveVerdicts, order', () => {
  it('applies must-links oldest first by the time of the verdict in force, not of the pair\'s first verdict', () => {
    // a and c are not the same actor. (b,c) same-actor at t2; (a,b) first not-same at t1, then same-actor at t3.
    // Oldest first: (b,c)@t2 applies, (a,b)@t3 conflicts with cannot(a,c).
    const t = (d: number) => NOW_MS - 10 * DAY_MS + d * DAY_MS;
    const verdicts = [
      verdict('snap#a', 'snap#c', 'not-same-actor', t(0)),
      verdict('snap#a', 'snap#b', 'not-same-actor', t(1)),
      verdict('snap#b', 'snap#c', 'same-actor', t(2)),
      verdict('snap#a', 'snap#b', 'same-actor', t(3)),
    ];
    const plan = resolveVerdicts(verdicts);
    expect(plan.mustLink).toEqual([verdicts[2]]);
    expect(plan.conflicts).toEqual([verdicts[3]]);
    const result = detectClusters(input([seen('snap#x', 'email', 'x')], { verdicts }));
    expect(memberSets(result)).toEqual([['snap#b', 'snap#c']]);
  });

  it('gives the same clusters whatever the order of two verdicts on one pair recorded at the same instant', () => {
    const memberships = [seen('snap#a', 'phone', 'p'), seen('snap#b', 'phone', 'p'), seen('snap#a', 'email', 'e'), seen('snap#b', 'email', 'e')];
    const same = verdict('snap#a', 'snap#b', 'same-actor', NOW_MS - DAY_MS);
    const notSame = verdict('snap#a', 'snap#b', 'not-same-actor', NOW_MS - DAY_MS);
    const one = memberSets(detectClusters(input(memberships, { verdicts: [same, notSame] })));
    const other = memberSets(detectClusters(input(memberships, { verdicts: [notSame, same] })));
    expect(one).toEqual(other);
  });

  it('refuses the same must-link whatever the input order of must-links recorded at the same instant', () => {
    const at = NOW_MS - DAY_MS;
    const cannot = verdict('snap#a', 'snap#c', 'not-same-actor', at - DAY_MS);
    const ab = verdict('snap#a', 'snap#b', 'same-actor', at);
    const bc = verdict('snap#b', 'snap#c', 'same-actor', at);
    const one = detectClusters(input([seen('snap#x', 'email', 'x')], { verdicts: [cannot, ab, bc] }));
    const other = detectClusters(input([seen('snap#x', 'email', 'x')], { verdicts: [cannot, bc, ab] }));
    expect(memberSets(one)).toEqual(memberSets(other));
  });
});

describe('Function: resolveVerdicts, at scale', () => {
  it('resolves 20,000 same-actor verdicts on one account into one group, and refuses a must-link across a cannot-link between its ends (each merge rebuilt the group: 12 s before)', () => {
    const at = NOW_MS - DAY_MS;
    const star = Array.from({ length: 20_000 }, (_, n) => verdict('snap#hub', `wa#m${n}`, 'same-actor', at + n));
    const chain = Array.from({ length: 5_000 }, (_, n) => verdict(`fb#c${n}`, `fb#c${n + 1}`, 'same-actor', at + n));
    const cannot = verdict('wa#m7', 'fb#c4000', 'not-same-actor', at - DAY_MS);
    const joining = verdict('wa#m19999', 'fb#c0', 'same-actor', at + 30_000);
    const plan = resolveVerdicts([...star, ...chain, cannot, joining]);
    expect(plan.mustLink).toHaveLength(star.length + chain.length);
    expect(plan.conflicts).toEqual([joining]);
  }, 3_000);
});

