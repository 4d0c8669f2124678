/**
 * The checks a platform's request passes before any work: known platform, valid signature (current or,
 * during a rotation, previous secret), not a replay of a request already taken, and within its rate.
 * Only the first admission of a signed request spends the platform's rate quota: neither a forged nor a
 * replayed request can use it up, a replayed read included (floods of those are bounded by the API's
 * stage throttling).
 */
import { createHash } from 'node:crypto';
import { AuthenticationError, ConflictError, ThrottledError } from '../errors.js';
import type { CredentialStore } from './credentials.js';
import { canonicalSignature, PLATFORM_HEADER, SIGNATURE_PROBLEM_MESSAGES, SIGNATURE_WINDOW_SECONDS, verifySignature, type SignatureProblem } from './signing.js';

/** Remembers signatures seen inside the timestamp window. */
export interface ReplayGuard {
  /** True when the fingerprint was not seen before (and is now remembered until `expiresAtSeconds`). */
  claim(fingerprint: string, expiresAtSeconds: number): Promise<boolean>;
  /** Forgets a fingerprint, so that a request that failed on our side can be retried as it was. */
  release(fingerprint: string): Promise<void>;
}

/** Counts requests per key per minute. */
export interface RateLimiter {
  take(key: string, limitPerMinute: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

/** What a platform request carries for the gate to check. */
export interface SignedRequest {
  platform: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer;
  /**
   * Whether the request changes state (a submission, a withdrawal). Only those are refused as replays:
   * a read sent again as it was within the signature window (an idempotent GET retried) is answered,
   * but spends the rate quota only the first time.
   */
  mutating: boolean;
}

/** A request that passed the gate; `release` undoes the replay claim when the work then fails. */
export interface AdmittedRequest {
  platform: string;
  release(): Promise<void>;
}

export class PlatformGate {
  constructor(
    private readonly deps: {
      credentials: CredentialStore;
      replayGuard: ReplayGuard;
      rateLimiter: RateLimiter;
      defaultRequestsPerMinute: number;
      nowSeconds?: () => number;
    },
  ) {}

  /**
   * @throws {AuthenticationError} unknown platform or bad signature (401)
   * @throws {ThrottledError} over the platform's rate (429)
   * @throws {ConflictError} the same signed request seen before inside the window (409)
   */
  async admit(request: SignedRequest): Promise<AdmittedRequest> {
    const { platform } = request;
    if (!platform) throw new AuthenticationError(`missing ${PLATFORM_HEADER} header: send your platform id`);
    const secrets = await this.deps.credentials.platformSecrets(platform);
    if (secrets.length === 0) throw new AuthenticationError(`unknown platform "${platform}": check ${PLATFORM_HEADER} against the id the operator issued`);
    const nowSeconds = this.deps.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
    let problem: SignatureProblem | null = 'signature-mismatch';
    for (const secret of secrets) {
      problem = verifySignature({ secret, timestampHeader: request.timestamp, signatureHeader: request.signature, rawBody: request.rawBody, nowSeconds });
      if (problem !== 'signature-mismatch') break;
    }
    if (problem) throw new AuthenticationError(SIGNATURE_PROBLEM_MESSAGES[problem]);

    // Replays are checked before the rate is counted: a captured request sent again must not spend the
    // quota of the platform that signed it (and so lock it out). A replayed change is refused; a replayed
    // read is answered without counting again.
    // The signature as verified, not as written: two spellings of one header are one request.
    const fingerprint = createHash('sha256').update(`${platform}\n${canonicalSignature(request.signature)}`).digest('hex');
    const firstSeen = await this.deps.replayGuard.claim(fingerprint, nowSeconds + 2 * SIGNATURE_WINDOW_SECONDS);
    if (!firstSeen) {
      if (request.mutating) {
        throw new ConflictError('this signed request was received before (replay): sign every request afresh, with a new timestamp; resending the same signals that way is safe');
      }
      return { platform, release: async () => undefined };
    }
    const release = () => this.deps.replayGuard.release(fingerprint);

    try {
      const limit = (await this.deps.credentials.platformRequestsPerMinute(platform)) ?? this.deps.defaultRequestsPerMinute;
      const rate = await this.deps.rateLimiter.take(`platform:${platform}`, limit);
      if (!rate.allowed) throw new ThrottledError(`platform ${platform} is over its ${limit} requests per minute: retry after ${rate.retryAfterSeconds} s`, rate.retryAfterSeconds);
    } catch (error) {
      // Refused before any work: the same signed request may come again once the rate allows.
      await release().catch(() => undefined);
      throw error;
    }
    return { platform, release };
  }
}
