/**
 * "Why are these two linked?": the chain of links between two members of a cluster that rests on the
 * strongest evidence. Pure (no Node APIs), so the console runs the same code in the browser.
 *
 * A link of weight w costs 1/w: the path minimises the summed cost, so it prefers one strong link to
 * several weak ones and, among equally strong chains, the shorter (ties go to fewer hops).
 */

/** An account as reports name it. */
export interface PathAccount {
  platform: string;
  account: string;
}

/** The part of a report link a path needs. */
export interface PathLink {
  a: PathAccount;
  b: PathAccount;
  weight: number;
  types: string[];
  evidence: Array<{ type: string; weight: number; observedAt: string; value?: string; distance?: number }>;
}

/** One hop of an evidence path, oriented from `from` towards the path's end. */
export interface PathHop {
  from: PathAccount;
  to: PathAccount;
  link: PathLink;
}

/** The evidence path between two members; `hops` is empty when they are the same account. */
export interface EvidencePath {
  from: PathAccount;
  to: PathAccount;
  hops: PathHop[];
  /** Sum of 1/weight over the hops. */
  cost: number;
  /** The weakest link's weight: how strong the chain is. */
  weakestWeight: number;
}

/** Thrown when an account is not a member of the links given, or no chain of links joins the two. */
export class EvidencePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvidencePathError';
  }
}

const keyOf = (ref: PathAccount) => `${ref.platform}#${ref.account}`;

/**
 * Finds the strongest, then shortest, chain of links from one account to another.
 *
 * @throws {EvidencePathError} when either account is in no link, or the two are not connected.
 * @example
 * const path = evidencePath(report.links, { platform: 'chatapp', account: 'a-1' }, { platform: 'gamehub', account: 'g-3' });
 * path.hops.map((hop) => hop.link.types.join('+')); // ['phone', 'payment']
 */
export function evidencePath(links: readonly PathLink[], from: PathAccount, to: PathAccount): EvidencePath {
  const adjacency = new Map<string, Array<{ next: PathAccount; link: PathLink }>>();
  const connect = (x: PathAccount, y: PathAccount, link: PathLink) => {
    const list = adjacency.get(keyOf(x)) ?? [];
    list.push({ next: y, link });
    adjacency.set(keyOf(x), list);
  };
  for (const link of links) {
    if (!(link.weight > 0)) continue;
    connect(link.a, link.b, link);
    connect(link.b, link.a, link);
  }
  const start = keyOf(from);
  const goal = keyOf(to);
  for (const [ref, key] of [[from, start], [to, goal]] as const) {
    if (!adjacency.has(key)) throw new EvidencePathError(`${ref.platform}/${ref.account} has no link in this cluster: pick two members of the cluster`);
  }
  if (start === goal) return { from, to, hops: [], cost: 0, weakestWeight: Number.POSITIVE_INFINITY };

  const best = new Map<string, { cost: number; hops: number; previous?: { key: string; ref: PathAccount; link: PathLink } }>([[start, { cost: 0, hops: 0 }]]);
  const settled = new Set<string>();
  const refs = new Map<string, PathAccount>([[start, from]]);
  for (;;) {
    let current: string | undefined;
    for (const [key, entry] of best) {
      if (settled.has(key)) continue;
      const chosen = current === undefined ? undefined : best.get(current)!;
      if (!chosen || entry.cost < chosen.cost - 1e-12 || (Math.abs(entry.cost - chosen.cost) <= 1e-12 && entry.hops < chosen.hops)) current = key;
    }
    if (current === undefined) throw new EvidencePathError(`no chain of links joins ${from.platform}/${from.account} and ${to.platform}/${to.account}`);
    if (current === goal) break;
    settled.add(current);
    const here = best.get(current)!;
    for (const { next, link } of adjacency.get(current) ?? []) {
      const nextKey = keyOf(next);
      if (settled.has(nextKey)) continue;
      const cost = here.cost + 1 / link.weight;
      const hops = here.hops + 1;
      const known = best.get(nextKey);
      if (!known || cost < known.cost - 1e-12 || (Math.abs(cost - known.cost) <= 1e-12 && hops < known.hops)) {
        best.set(nextKey, { cost, hops, previous: { key: current, ref: refs.get(current)!, link } });
        refs.set(nextKey, next);
      }
    }
  }
  const hops: PathHop[] = [];
  for (let key = goal; key !== start; ) {
    const previous = best.get(key)!.previous!;
    hops.unshift({ from: previous.ref, to: refs.get(key)!, link: previous.link });
    key = previous.key;
  }
  return { from, to, hops, cost: best.get(goal)!.cost, weakestWeight: Math.min(...hops.map((hop) => hop.link.weight)) };
}
