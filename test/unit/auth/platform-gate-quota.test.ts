/**
 * A platform's rate quota is spent only by requests the gate admits: a replay of a captured request
 * (409) or a request that fails authentication (401) must not lock the platform out (found in review:
 * the quota was taken before the replay check, so replays answered 409 used it up).
 */
import { describe, expect, it } from 'vitest';
import { DocumentCredentialStore } from '../../../lib/auth/credentials.js';
import { PlatformGate, type RateLimiter, type ReplayGuard } from '../../../lib/auth/platform-gate.js';
import { signRequest, PLATFORM_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../../lib/auth/signing.js';

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

/** A signed POST of `body`, as the gate sees it. */
function signedPost(body: string, timestamp: number, secret = platform.secret) {
  const headers = signRequest({ platform: platform.id, secret, body, nowSeconds: timestamp });
  return { platform: headers[PLATFORM_HEADER], timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER], rawBody: Buffer.from(body), mutating: true };
}

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

  it('lets a request refused for the rate be sent again as it was once the window allows', async () => {
    const { gate, rateLimiter } = aGate();
    for (let i = 0; i < LIMIT; i++) await gate.admit(signedPost('{"signals":[]}', NOW + i));
    const throttled = signedPost('{"signals":[1]}', NOW + 10);
    expect(await outcome(gate.admit(throttled))).toBe('ThrottledError');

    rateLimiter.taken.clear(); // the next minute window
    expect(await outcome(gate.admit(throttled))).toBe('admitted');
  });
});
