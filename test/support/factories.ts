/** Small factories for test fixtures: hashed values, signals, signed requests. */
import { createHash } from 'node:crypto';
import { bodilessSigningContent, signRequest } from '../../lib/auth/signing.js';
import type { SignalType } from '../../lib/contract/signals.js';

/** A stand-in for a keyed hash: 64 lowercase hex chars derived from a readable label. */
export const hashed = (label: string) => createHash('sha256').update(label).digest('hex');

export const OBSERVED_AT = '2026-11-01T10:00:00Z';

export function aSignal(overrides: Partial<{ account: string; type: SignalType; value: string; observedAt: string }> = {}) {
  return { account: 'acct-1', type: 'email' as SignalType, value: hashed('someone@example.com'), observedAt: OBSERVED_AT, ...overrides };
}

/** Sends a request signed as the platform (by default a POST of `body` to /v1/signals), with header overrides. */
export async function postSigned(
  baseUrl: string,
  platform: { id: string; secret: string },
  body: string,
  headerOverrides: Record<string, string | undefined> = {},
  options: { method?: string; path?: string; nowSeconds?: number } = {},
): Promise<Response> {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/v1/signals';
  const signed = method === 'POST' ? body : bodilessSigningContent(method, path);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...signRequest({ platform: platform.id, secret: platform.secret, body: signed, nowSeconds: options.nowSeconds }),
  };
  for (const [name, value] of Object.entries(headerOverrides)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return fetch(`${baseUrl}${path}`, { method, headers, body: method === 'GET' || method === 'DELETE' ? undefined : body });
}

/** Polls `probe` until it returns a value other than undefined, or fails at the deadline. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
