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
  const requestId = crypto.randomUUID();
  logger.error('unhandled error', { requestId, error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) });
  return c.json({ error: `internal error (request ${requestId}); nothing was accepted, retry later` }, 500);
}
