/**
 * Reading an account's record (its `META` item: behavioural metadata a platform sent) as detection and
 * the investigator's view take it: the facts it holds, and whether it is still live.
 */
import type { StoredFacts } from '../runs/run-graph.js';

/**
 * Whether an account record is live at `nowS`: not past its `expiresAt` (DynamoDB's TTL deletes lazily,
 * so readers check). A record stored before records expired has none and stays live until replaced.
 */
export function isLiveRecord(item: Record<string, unknown>, nowS: number): boolean {
  return typeof item.expiresAt !== 'number' || item.expiresAt > nowS;
}

/** The facts an account record holds, with when it expires. */
export function factsOfItem(item: Record<string, any>): StoredFacts {
  return {
    createdAtMs: item.createdAt ? Date.parse(String(item.createdAt)) : undefined,
    minorContacts7d: item.minorContacts7d ?? undefined,
    reports30d: item.reports30d ?? undefined,
    ...(typeof item.expiresAt === 'number' ? { expiresAtS: item.expiresAt } : {}),
  };
}
