import { describe, expect, it } from 'vitest';
import { evidencePath, EvidencePathError, type PathLink } from '../../../lib/reports/evidence-path.js';

const ref = (key: string) => ({ platform: key.split('/')[0], account: key.split('/')[1] });
const link = (a: string, b: string, weight: number, type = 'device'): PathLink => ({ a: ref(a), b: ref(b), weight, types: [type], evidence: [{ type, weight, observedAt: '2026-11-01T00:00:00Z' }] });
const route = (path: ReturnType<typeof evidencePath>) => [path.from, ...path.hops.map((hop) => hop.to)].map((r) => `${r.platform}/${r.account}`);

describe('Function: evidencePath', () => {
  it('prefers one strong link to a chain of weak ones', () => {
    const links = [link('x/a', 'x/b', 0.1), link('x/b', 'x/c', 0.1), link('x/a', 'x/c', 0.9, 'payment')];
    expect(route(evidencePath(links, ref('x/a'), ref('x/c')))).toEqual(['x/a', 'x/c']);
  });

  it('prefers two strong links to one very weak one', () => {
    const links = [link('x/a', 'x/b', 0.9), link('x/b', 'x/c', 0.9), link('x/a', 'x/c', 0.05, 'ip')];
    const path = evidencePath(links, ref('x/a'), ref('x/c'));
    expect(route(path)).toEqual(['x/a', 'x/b', 'x/c']);
    expect(path.weakestWeight).toBe(0.9);
  });

  it('orients each hop from the start towards the end, whichever way the link was stored', () => {
    const path = evidencePath([link('x/b', 'x/a', 0.5), link('x/c', 'x/b', 0.5)], ref('x/a'), ref('x/c'));
    expect(path.hops.map((hop) => `${hop.from.account}>${hop.to.account}`)).toEqual(['a>b', 'b>c']);
  });

  it('takes the shorter of two equally strong chains', () => {
    const links = [link('x/a', 'x/d', 0.25), link('x/a', 'x/b', 0.5), link('x/b', 'x/d', 0.5)];
    expect(route(evidencePath(links, ref('x/a'), ref('x/d')))).toEqual(['x/a', 'x/d']);
  });

  it('throws for an account in no link, and for two accounts no chain joins', () => {
    const links = [link('x/a', 'x/b', 0.5), link('x/c', 'x/d', 0.5)];
    expect(() => evidencePath(links, ref('x/a'), ref('x/z'))).toThrow(EvidencePathError);
    expect(() => evidencePath(links, ref('x/a'), ref('x/d'))).toThrow(/no chain of links joins x\/a and x\/d/);
  });

  it('answers no hops for the same account twice', () => {
    expect(evidencePath([link('x/a', 'x/b', 0.5)], ref('x/a'), ref('x/a')).hops).toEqual([]);
  });
});
