/**
 * A cluster too large to store whole, as detection would give one glued by shared infrastructure: the
 * members in a chain of weak links, and strong links among the even-numbered members only, each link
 * with evidence of its own (hashes compress badly). Keeping only the strongest links would cut the
 * odd-numbered members off; a report must keep a chain to each.
 */
import { createHash } from 'node:crypto';
import type { DetectedCluster } from '../../lib/detect/model.js';

export function gluedCluster(id: string, members: readonly string[], risk = 40): DetectedCluster {
  const link = (a: string, b: string, weight: number, n: number) => ({
    a,
    b,
    weight,
    evidence: [0, 1].map((k) => ({ type: 'device' as const, value: createHash('sha256').update(`${id}.${n}.${k}`).digest('hex'), weight: weight / 2, observedAtMs: Date.parse('2026-11-01T00:00:00Z') })),
  });
  const links: DetectedCluster['links'] = members.slice(1).map((b, i) => link(members[i], b, 0.1 + (i % 97) / 10_000, i));
  for (const step of [2, 4, 6, 8]) {
    for (let i = 0; i + step < members.length; i += 2) links.push(link(members[i], members[i + step], 0.5 + ((links.length * 7919) % 4_000) / 10_000, links.length));
  }
  const platforms = [...new Set(members.map((member) => member.slice(0, member.indexOf('#'))))].sort();
  return { id, members: [...members], platforms, links, risk: { score: risk, reasons: [] }, verdicts: [] };
}

/** Whether `links` join every one of `members` into one part. */
export function joinsAll(members: readonly string[], links: ReadonlyArray<{ a: string; b: string }>): boolean {
  const next = new Map<string, string[]>();
  for (const { a, b } of links) {
    next.set(a, [...(next.get(a) ?? []), b]);
    next.set(b, [...(next.get(b) ?? []), a]);
  }
  const reached = new Set([members[0]]);
  const queue = [members[0]];
  while (queue.length > 0) for (const other of next.get(queue.pop()!) ?? []) if (!reached.has(other)) reached.add(other), queue.push(other);
  return members.every((member) => reached.has(member));
}
