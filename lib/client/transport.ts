/**
 * Sending one signed batch to `POST /v1/signals`, with retries. The server stores each signal
 * once however often it arrives, so resending a batch whose answer was lost is always safe.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { z } from 'zod';
import { bodilessSigningContent, rawQueryOf, signRequest } from '../auth/signing.js';
import type { SubmitSignalsResponse } from '../contract/signals.js';
import { SubmitError } from './errors.js';

/** How hard to try before giving a batch up. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The ceiling of the first retry's random delay, in ms; it doubles with each retry. */
  baseDelayMs: number;
  /** The largest backoff delay, in ms. */
  maxDelayMs: number;
  /** The longest `Retry-After` honoured, in ms; a longer one is cut to this. */
  maxRetryAfterMs: number;
  /** How long one attempt may take before it is abandoned and retried, in ms. */
  requestTimeoutMs: number;
}

/** Defaults: about two minutes of retrying in all before a batch is given up. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 300_000,
  requestTimeoutMs: 60_000,
};

/** Where to send and as whom. */
export interface TransportOptions {
  /** The base URL of the Crosslink API, e.g. `http://localhost:8787` or an API Gateway stage URL. */
  baseUrl: string;
  platform: string;
  secret: string;
  retry?: Partial<RetryPolicy>;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Injected for tests; defaults to an abortable timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1) for the jitter; injected for tests. */
  random?: () => number;
  /** Told before each retry, e.g. to count them or show them. */
  onRetry?: (info: RetryInfo) => void;
}

/** Why and when a batch is tried again. */
export interface RetryInfo {
  attempt: number;
  delayMs: number;
  /** `429`, `503`, `network: ECONNRESET`... */
  reason: string;
}

/** The server's answer to one batch, with how many attempts it took. */
export interface BatchResult extends SubmitSignalsResponse {
  attempts: number;
}

const rejectedItemSchema = z.object({
  list: z.enum(['signals', 'accounts']).default('signals'),
  index: z.number().int().min(0),
  field: z.string().default('item'),
  error: z.string().default('rejected'),
});
const submitResponseSchema = z.object({
  accepted: z.number().int().min(0),
  accountsAccepted: z.number().int().min(0).default(0),
  rejected: z.array(rejectedItemSchema).default([]),
});

/** Statuses worth another try: throttled, a timeout, a replayed signature, the server's faults. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Posts signed batches to one Crosslink API.
 *
 * @example
 * const transport = new SignalsTransport({ baseUrl: 'http://localhost:8787', platform: 'snapchat', secret });
 * const result = await transport.send(JSON.stringify({ signals }));
 * // -> { accepted: 3, accountsAccepted: 0, rejected: [], attempts: 1 }
 */
export class SignalsTransport {
  readonly endpoint: string;
  private readonly baseUrl: string;
  private readonly policy: RetryPolicy;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  /** The platform this transport signs as. */
  get platform(): string {
    return this.options.platform;
  }

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.endpoint = `${this.baseUrl}/v1/signals`;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }));
    this.random = options.random ?? Math.random;
  }

  /**
   * Sends one request body, signing each attempt afresh, until it is answered 2xx or cannot be.
   *
   * @throws SubmitError on an answer retrying cannot fix (400, 401, 403, 413) or when attempts run out.
   * @throws the abort reason when `signal` aborts.
   */
  async send(body: string, signal?: AbortSignal): Promise<BatchResult> {
    const answer = await this.exchange({ method: 'POST', url: this.endpoint, body, signedContent: body }, signal);
    return { ...parseAnswer(answer.text, answer.status), attempts: answer.attempts };
  }

  /**
   * Sends one bodiless platform request (`DELETE /v1/accounts?account=...`, `GET /v1/lookup?account=...`;
   * see {@link accountRequestPath}), signed over `"<METHOD> <path>?<query as sent>"` as the server
   * expects, with the same retries as {@link send}. Both routes are idempotent, so a retry after a lost
   * answer is safe.
   *
   * @throws SubmitError on an answer retrying cannot fix (400, 401, 403, 404) or when attempts run out.
   * @example
   * await transport.requestBodiless('GET', accountRequestPath('lookup', 'acc-1'))
   * // -> { account: 'acc-1', inCrossPlatformCluster: false, cluster: null }
   */
  async requestBodiless(method: 'GET' | 'DELETE', pathAndQuery: string, signal?: AbortSignal): Promise<unknown> {
    // Sign the URL as fetch will send it: parsing it once settles any escaping fetch would otherwise do itself.
    const url = new URL(`${this.baseUrl}${pathAndQuery}`).href;
    const signedContent = bodilessSigningContent(method, serverSidePath(url), rawQueryOf(url));
    const answer = await this.exchange({ method, url, signedContent }, signal);
    try {
      return JSON.parse(answer.text) as unknown;
    } catch {
      throw new SubmitError(`Crosslink answered ${answer.status} with a body that is not JSON: is --url the Crosslink API?`, answer.status);
    }
  }

  /** One request, retried until a 2xx or an answer retrying cannot fix. */
  private async exchange(
    request: { method: string; url: string; body?: string; signedContent: string | Buffer },
    signal?: AbortSignal,
  ): Promise<{ status: number; text: string; attempts: number }> {
    let lastTimestamp = 0;
    let lastProblem = '';
    for (let attempt = 1; ; attempt += 1) {
      signal?.throwIfAborted();
      // A fresh timestamp per attempt: the server refuses a signature it has already seen.
      const timestamp = Math.max(Math.floor(Date.now() / 1000), lastTimestamp + 1);
      lastTimestamp = timestamp;
      const headers = signRequest({ platform: this.options.platform, secret: this.options.secret, body: request.signedContent, nowSeconds: timestamp });
      let retryAfterMs: number | undefined;
      try {
        const timeout = AbortSignal.timeout(this.policy.requestTimeoutMs);
        const response = await this.fetchImpl(request.url, {
          method: request.method,
          headers: request.body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          body: request.body,
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        const text = await response.text();
        if (response.ok) return { status: response.status, text, attempts: attempt };
        const serverMessage = errorMessageOf(text);
        if (!isRetryableStatus(response.status)) {
          throw new SubmitError(`Crosslink answered ${response.status}: ${serverMessage}`, response.status);
        }
        lastProblem = `${response.status}${serverMessage ? ` ${serverMessage}` : ''}`;
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      } catch (error) {
        if (error instanceof SubmitError) throw error;
        if (signal?.aborted) throw signal.reason;
        lastProblem = `network: ${describeNetworkError(error)}`;
      }
      if (attempt >= this.policy.maxAttempts) {
        throw new SubmitError(`gave up after ${attempt} attempts; last problem: ${lastProblem}`, /^\d{3}/.test(lastProblem) ? Number(lastProblem.slice(0, 3)) : undefined);
      }
      const delayMs = this.delayBeforeRetry(attempt, retryAfterMs);
      this.options.onRetry?.({ attempt, delayMs, reason: lastProblem });
      await this.sleep(delayMs, signal).catch((error: unknown) => {
        throw signal?.aborted ? signal.reason : error;
      });
    }
  }

  /** Exponential backoff with full jitter, or the server's Retry-After plus a little jitter. */
  private delayBeforeRetry(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.policy.maxRetryAfterMs) + this.random() * this.policy.baseDelayMs;
    const ceilingMs = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
    return this.random() * ceilingMs;
  }
}

function parseAnswer(text: string, status: number): SubmitSignalsResponse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SubmitError(`Crosslink answered ${status} with a body that is not JSON: is --url the Crosslink API?`, status);
  }
  const parsed = submitResponseSchema.safeParse(json);
  if (!parsed.success) throw new SubmitError(`Crosslink answered ${status} without {"accepted","rejected"}: is --url the Crosslink API?`, status);
  return parsed.data;
}

/**
 * The path and query of a withdrawal (`DELETE`) or a lookup (`GET`) of one account, the account in the
 * query so that any id arrives intact whatever a gateway does with paths.
 *
 * @example
 * accountRequestPath('withdraw', 'a@b') // -> '/v1/accounts?account=a%40b'
 * accountRequestPath('lookup', 'acc 4') // -> '/v1/lookup?account=acc%204'
 */
export function accountRequestPath(request: 'withdraw' | 'lookup', account: string): string {
  return `${request === 'withdraw' ? '/v1/accounts' : '/v1/lookup'}?account=${encodeURIComponent(account)}`;
}

/**
 * The path as the server's router reports it (`c.req.path` in hono), which is what a bodiless
 * request signs: the URL's path with percent-escapes decoded as `decodeURI` does, `%25` kept.
 * A base URL with a path (an API Gateway stage) is part of it, as it is of the request.
 */
export function serverSidePath(url: string): string {
  const { pathname } = new URL(url);
  return pathname.includes('%') ? decodeURI(pathname.replace(/%25/g, '%2525')) : pathname;
}

/** The `error` of a JSON error body, else the start of the body. */
export function errorMessageOf(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: unknown };
    if (typeof json.error === 'string') return json.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200);
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    if (error.name === 'TimeoutError') return 'the request timed out';
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
