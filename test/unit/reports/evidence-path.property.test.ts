import { describe, expect, it } from 'vitest';
import { evidencePath, type PathLink } from '../../../lib/reports/evidence-path.js';

function rng(seed: number) { return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648); }
const ref = (i: number) => ({ platform: i % 2 ? 'p1' : 'p2', account: `a${i}` });

function brute(links: PathLink[], from: number, to: number, n: number) {
  let best: { cost: number; hops: number } | undefined;
  const visit = (at: number, seen: Set<number>, cost: number, hops: number) => {
    if (at === to) { if (!best || cost < best.cost - 1e-9 || (Math.abs(cost - best.cost) <= 1e-9 && hops < best.hops)) best = { cost, hops }; return; }
    for (const l of links) {
      if (!(l.weight > 0)) continue;
      for (const [x, y] of [[l.a, l.b], [l.b, l.a]]) {
        if (x.account !== `a${at}`) continue;
        const next = Number(y.account.slice(1));
        if (seen.has(next)) continue;
        seen.add(next); visit(next, seen, cost + 1 / l.weight, hops + 1); seen.delete(next);
      }
    }
  };
  visit(from, new Set([from]), 0, 0);
  return best;
}

describe('evidencePath against brute force', () => {
  it('finds the cheapest, then shortest, chain on random graphs, hops chained from -> to', () => {
    const r = rng(7);
    for (let t = 0; t < 400; t++) {
      const n = 2 + Math.floor(r() * 6);
      const links: PathLink[] = [];
      const m = Math.floor(r() * 10);
      for (let k = 0; k < m; k++) {
        const a = Math.floor(r() * n), b = Math.floor(r() * n);
        if (a === b) continue;
        const weight = [0.25, 0.5, 1, 0.2, 0.1, 0][Math.floor(r() * 6)]!;
        links.push({ a: ref(a), b: ref(b), weight, types: ['phone'], evidence: [] });
      }
      const from = Math.floor(r() * n), to = Math.floor(r() * n);
      const expected = brute(links, from, to, n);
      let got;
      try { got = evidencePath(links, ref(from), ref(to)); } catch { got = undefined; }
      if (from === to) continue;
      if (!expected) { expect(got).toBeUndefined(); continue; }
      expect(got, JSON.stringify({ links, from, to })).toBeDefined();
      expect(got!.cost).toBeCloseTo(expected.cost, 9);
      expect(got!.hops.length).toBe(expected.hops);
      let at = ref(from);
      for (const hop of got!.hops) {
        expect(hop.from).toEqual(at);
        const ends = [hop.link.a, hop.link.b].map((x) => x.account);
        expect(ends).toContain(hop.from.account); expect(ends).toContain(hop.to.account);
        at = hop.to;
      }
      expect(at).toEqual(ref(to));
      expect(got!.weakestWeight).toBe(Math.min(...got!.hops.map((h) => h.link.weight)));
    }
  });
});
