/**
 * A platform's rate quota is spent only by requests the gate admits, once per signed request: a replay
 * of a captured request (409, or for a read answered again) or a request that fails authentication (401)
 * must not lock the platform out (found in review: the quota was taken before the replay check, so
 * replays answered 409 used it up; later, that every replayed read still spent it).
 */
import { describe, expect, it } from 'vitest';
import { DocumentCredentialStore } from '../../../lib/auth/credentials.js';
import { PlatformGate, type RateLimiter, type ReplayGuard } from '../../../lib/auth/platform-gate.js';
import { bodilessSigningContent, signRequest, PLATFORM_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../../lib/auth/signing.js';

const NOW = 1_800_000_000;
const LIMIT = 3;
const platform = { id: 'chatapp', secret: 'chatapp-secret-of-some-length' };

/** One fixed window, as DynamoRateLimiter's within a minute. */
class WindowRateLimiter implements RateLimiter {
  readonly taken = new Map<string, number>();
  async take(key: string, limitPerMinute: number) {
    const used = this.taken.get(key) ?? 0;
    if (used >= limitPerMinute) return { allowed: false, retryAfterSeconds: 30 };
    this.taken.set(key, used + 1);
    return { allowed: true, retryAfterSeconds: 0 };
  }
}

class MemoryReplayGuard implements ReplayGuard {
  readonly seen = new Set<string>();
  async claim(fingerprint: string) {
    if (this.seen.has(fingerprint)) return false;
    this.seen.add(fingerprint);
    return true;
  }
  async release(fingerprint: string) {
    this.seen.delete(fingerprint);
  }
}

function aGate() {
  const rateLimiter = new WindowRateLimiter();
  const replayGuard = new MemoryReplayGuard();
  const credentials = new DocumentCredentialStore(async () => ({ platforms: [platform], investigatorToken: 'i'.repeat(32) }), () => NOW * 1000);
  const gate = new PlatformGate({ credentials, replayGuard, rateLimiter, defaultRequestsPerMinute: LIMIT, nowSeconds: () => NOW });
  return { gate, rateLimiter, replayGuard };
}

/** A signed request carrying `content` (the body, or a read's method and path), as the gate sees it. */
function signed(content: Buffer, timestamp: number, mutating: boolean, secret = platform.secret) {
  const headers = signRequest({ platform: platform.id, secret, body: content, nowSeconds: timestamp });
  return { platform: headers[PLATFORM_HEADER], timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER], rawBody: content, mutating };
}
const signedPost = (body: string, timestamp: number, secret?: string) => signed(Buffer.from(body), timestamp, true, secret);
const signedGet = (path: string, timestamp: number) => signed(bodilessSigningContent('GET', path), timestamp, false);

const outcome = (admitting: Promise<unknown>) => admitting.then(() => 'admitted', (error: Error) => error.name);

describe('PlatformGate: what spends a platform quota', () => {
  it('does not spend the quota on replays of a captured request', async () => {
    const { gate } = aGate();
    const captured = signedPost('{"signals":[]}', NOW);
    expect(await outcome(gate.admit(captured))).toBe('admitted');
    for (let replay = 0; replay < 10; replay++) expect(await outcome(gate.admit(captured))).toBe('ConflictError');

    // The platform's own fresh requests still get the rest of its quota.
    const fresh = [1, 2].map((i) => outcome(gate.admit(signedPost('{"signals":[]}', NOW + i))));
    expect(await Promise.all(fresh)).toEqual(['admitted', 'admitted']);
  });

  it('does not spend the quota on requests with a bad signature', async () => {
    const { gate, rateLimiter } = aGate();
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(await outcome(gate.admit(signedPost('{"signals":[]}', NOW + attempt, 'a-guessed-secret-of-some-length')))).toBe('AuthenticationError');
    }
    expect(rateLimiter.taken.size).toBe(0);
    expect(await outcome(gate.admit(signedPost('{"signals":[]}', NOW)))).toBe('admitted');
  });

  it('admits replays of a signed read without spending the quota again', async () => {
    const { gate, rateLimiter } = aGate();
    const read = signedGet('/v1/lookup/u-1', NOW);
    for (let repeat = 0; repeat < 10; repeat++) expect(await outcome(gate.admit(read))).toBe('admitted');
    expect(rateLimiter.taken.get(`platform:${platform.id}`)).toBe(1);
  });

  it.each([
    { kind: 'change', throttledRequest: () => signedPost('{"signals":[1]}', NOW + 10) },
    { kind: 'read', throttledRequest: () => signedGet('/v1/lookup/u-1', NOW + 10) },
  ])('lets a $kind refused for the rate be sent again as it was once the window allows, and counts it then', async ({ throttledRequest }) => {
    const { gate, rateLimiter } = aGate();
    for (let i = 0; i < LIMIT; i++) await gate.admit(signedPost('{"signals":[]}', NOW + i));
    const throttled = throttledRequest();
    expect(await outcome(gate.admit(throttled))).toBe('ThrottledError');
    expect(await outcome(gate.admit(throttled))).toBe('ThrottledError'); // no free pass as a replay

    rateLimiter.taken.clear(); // the next minute window
    expect(await outcome(gate.admit(throttled))).toBe('admitted');
    expect(rateLimiter.taken.get(`platform:${platform.id}`)).toBe(1);
  });
});
