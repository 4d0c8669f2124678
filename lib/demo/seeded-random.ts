/**
 * A small, fast seeded generator (mulberry32) for synthetic data: the demo population and the
 * benchmark world draw the same sequence from the same seed on every machine.
 *
 * @example
 * const random = seededRandom(42);
 * random(); // a number in [0, 1), the same on every run
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
