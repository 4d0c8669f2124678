/**
 * The one place where errors become HTTP answers: a {@link CrosslinkError} carries its status and a
 * message that says what to fix; anything else is a 500 that reveals nothing of its cause.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CrosslinkError, ThrottledError } from '../errors.js';

/** A minimal structured logger (Powertools' Logger fits this shape). */
export interface ApiLogger {
  error(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
}

export function errorResponse(error: unknown, c: Context, logger: ApiLogger): Response {
  if (error instanceof CrosslinkError) {
    if (error instanceof ThrottledError) c.header('Retry-After', String(error.retryAfterSeconds));
    if (error.status >= 500) logger.warn('dependency unavailable', { error: error.message });
    return c.json({ error: error.message }, error.status as ContentfulStatusCode);
  }
  if (isUnreachableDependency(error)) {
    logger.warn('dependency unreachable', { error: (error as Error).message });
    c.header('Retry-After', '5');
    return c.json({ error: 'a storage or queue service is unreachable: retry in a few seconds (resending the same signals is safe)' }, 503);
  }
  const requestId = crypto.randomUUID();
  logger.error('unhandled error', { requestId, error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) });
  return c.json({ error: `internal error (request ${requestId}): retry later; resending the same signals is safe` }, 500);
}

/** Connection-level failures of the AWS SDK (refused, reset, timed out): the service is down, not the request bad. */
function isUnreachableDependency(error: unknown): boolean {
  const code = (error as { code?: string; name?: string } | null)?.code ?? (error as { name?: string } | null)?.name;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'TimeoutError', 'RequestTimeout'].includes(String(code));
}
