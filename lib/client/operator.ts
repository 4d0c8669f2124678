/**
 * The operator's calls: manage platform credentials (`/v1/platforms`) and retire a hashing key id
 * (`/v1/keys/{keyId}/retire`), with a bearer token. Used by `crosslink platform ...` and
 * `crosslink key retire`; works the same against the local stack and a deployment.
 *
 * Unlike batches of signals these calls are never retried on their own: adding or rotating twice
 * is not harmless (a second rotation would make the secret just handed over the "previous" one).
 */
import { z } from 'zod';
import { OperatorRequestError } from './errors.js';
import { errorMessageOf } from './transport.js';

const platformSummarySchema = z.object({ id: z.string(), rotating: z.boolean(), requestsPerMinute: z.number().optional() });
const listAnswerSchema = z.object({ platforms: z.array(platformSummarySchema) });
const addAnswerSchema = z.object({ id: z.string(), secret: z.string() });
const rotateAnswerSchema = addAnswerSchema.extend({ previousSecretExpiresAt: z.string() });
const retireAnswerSchema = z.object({ keyId: z.string(), signalsDeleted: z.number() });

/** One platform as `GET /v1/platforms` lists it (never its secret). */
export type PlatformSummary = z.infer<typeof platformSummarySchema>;
/** A platform's new secret, shown once. */
export type IssuedSecret = z.infer<typeof addAnswerSchema>;
/** A rotated secret; the previous one works until `previousSecretExpiresAt`. */
export type RotatedSecret = z.infer<typeof rotateAnswerSchema>;
/** What retiring a hashing key id removed. */
export type RetiredKey = z.infer<typeof retireAnswerSchema>;

/** Where and as whom. */
export interface OperatorClientOptions {
  /** The Crosslink API base URL (on AWS: the investigator API, where operator routes live). */
  baseUrl: string;
  /** The operator's bearer token. */
  token: string;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** How long one call may take, in ms (default 30 s). */
  timeoutMs?: number;
}

/** What to check, by status, added after the server's own message. */
const STATUS_HINTS: Record<number, string> = {
  401: 'the operator token was not accepted: check --token, CROSSLINK_OPERATOR_TOKEN or the credentials file (on AWS: sign in again, ID tokens expire)',
  403: 'this token does not carry the operator role (on AWS: the user must be in the "operators" group)',
};

const MISSING_ROUTE_HINT = 'this API has no operator routes: on AWS pass the investigator API URL as --url';

/**
 * Calls the operator routes of one Crosslink API.
 *
 * @example
 * const operator = new OperatorClient({ baseUrl: 'http://localhost:8787', token });
 * const { secret } = await operator.addPlatform('newapp', { requestsPerMinute: 600 });
 */
export class OperatorClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: OperatorClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Every platform, with whether a rotation's grace period is running. */
  async listPlatforms(): Promise<PlatformSummary[]> {
    return (await this.call('GET', '/v1/platforms', listAnswerSchema)).platforms;
  }

  /** Adds a platform; the answer holds its secret, which Crosslink never shows again. */
  async addPlatform(id: string, options: { requestsPerMinute?: number } = {}): Promise<IssuedSecret> {
    return this.call('POST', '/v1/platforms', addAnswerSchema, { id, ...options });
  }

  /** Issues a new secret; the previous one keeps working until `previousSecretExpiresAt`. */
  async rotatePlatform(id: string): Promise<RotatedSecret> {
    return this.call('POST', `/v1/platforms/${encodeURIComponent(id)}/rotate`, rotateAnswerSchema);
  }

  /** Removes a platform: its signatures are refused from then on; its stored signals stay. */
  async removePlatform(id: string): Promise<void> {
    await this.call('DELETE', `/v1/platforms/${encodeURIComponent(id)}`);
  }

  /** Deletes every signal stamped with a retired hashing key id. */
  async retireKey(keyId: string): Promise<RetiredKey> {
    return this.call('POST', `/v1/keys/${encodeURIComponent(keyId)}/retire`, retireAnswerSchema);
  }

  private async call(method: string, path: string): Promise<void>;
  private async call<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T>;
  private async call<T>(method: string, path: string, schema?: z.ZodType<T>, body?: unknown): Promise<T | void> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const reason = (error as Error).name === 'TimeoutError' ? 'no answer in time' : (cause?.code ?? (error as Error).message);
      throw new OperatorRequestError(`cannot reach ${this.baseUrl} (${reason}): check --url`, undefined, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      const serverMessage = errorMessageOf(text);
      // A 404 for the route itself (not for a platform) means --url is not where operator routes live.
      const hint = response.status === 404 && serverMessage.startsWith('no route') ? MISSING_ROUTE_HINT : STATUS_HINTS[response.status];
      const message = `${response.status} ${response.statusText || 'refused'}: ${serverMessage}`;
      throw new OperatorRequestError(hint ? `${message}\n${hint}` : message, response.status);
    }
    if (!schema) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new OperatorRequestError(`${method} ${path} answered ${response.status} with a body that is not JSON: is --url the Crosslink API?`, response.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new OperatorRequestError(`${method} ${path} answered ${response.status} with an unexpected body: is --url the Crosslink API?`, response.status);
    return parsed.data;
  }
}
