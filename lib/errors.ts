/**
 * The error kinds Crosslink raises. Each carries the HTTP status it maps to (in one place:
 * lib/api/errors.ts) and a message that tells the caller what to fix. Callers catch the kind.
 *
 * @example
 * throw new ValidationError('body is not valid JSON: check the encoding and quoting');
 * // -> 400 {"error":"body is not valid JSON: check the encoding and quoting"}
 */
export class CrosslinkError extends Error {
  readonly status: number = 500;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is malformed or of the wrong shape (400). */
export class ValidationError extends CrosslinkError {
  override readonly status = 400;
}
/** The caller is not who it says, or did not say (401). */
export class AuthenticationError extends CrosslinkError {
  override readonly status = 401;
}
/** The caller is known but its role may not do this (403). */
export class ForbiddenError extends CrosslinkError {
  override readonly status = 403;
}
/** The thing asked for does not exist (404). */
export class NotFoundError extends CrosslinkError {
  override readonly status = 404;
}
/** The request conflicts with the current state, e.g. a replayed signature (409). */
export class ConflictError extends CrosslinkError {
  override readonly status = 409;
}
/** The body is larger than the contract allows (413). */
export class PayloadTooLargeError extends CrosslinkError {
  override readonly status = 413;
}
/** The caller is over its rate (429); `retryAfterSeconds` says when to try again. */
export class ThrottledError extends CrosslinkError {
  override readonly status = 429;
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message);
  }
}
/** A dependency (store, queue) failed; the caller may retry (503). */
export class UnavailableError extends CrosslinkError {
  override readonly status = 503;
}
