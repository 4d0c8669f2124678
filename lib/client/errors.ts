/**
 * The errors the platform client raises. Callers catch the kind, never the message.
 *
 * @example
 * try { normaliseIdentifier('email', 'not-an-address') }
 * catch (error) { if (error instanceof NormalisationError) console.error(error.signalType, error.message) }
 * // -> email  not an email address: expected local-part@domain, e.g. name@example.com
 */
import { CrosslinkError, ValidationError } from '../errors.js';

/**
 * A raw identifier cannot be put in canonical form (not an email address, an impossible phone
 * number...). Thrown by the normalisers; `crosslink submit` turns it into a rejected row.
 *
 * @example
 * normaliseIdentifier('phone', '12') // throws NormalisationError: not a valid phone number ...
 */
export class NormalisationError extends ValidationError {
  constructor(
    /** The signal type whose rules refused the value. */
    readonly signalType: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The client is not configured to run: no hashing key, no credentials, an unreadable input.
 * The message names the flag or environment variable to set.
 *
 * @example
 * hasherFromEnv({}) // throws ClientConfigError: CROSSLINK_HASH_KEY is not set: ...
 */
export class ClientConfigError extends CrosslinkError {}

/**
 * Crosslink refused a whole batch for a reason retrying cannot fix (401, 403, 400, 413), or kept
 * failing after every retry. Carries the HTTP status when there was one.
 *
 * @example
 * // a wrong platform secret:
 * // SubmitError: Crosslink answered 401: x-crosslink-signature does not match ... (status 401)
 */
export class SubmitError extends CrosslinkError {
  constructor(
    message: string,
    /** The HTTP status of the last answer, or undefined after a network failure. */
    readonly httpStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The run was stopped (Ctrl-C, an abort signal) before the whole file was acknowledged. What was
 * acknowledged is in the checkpoint; running the same command again sends only the rest.
 */
export class SubmitInterruptedError extends CrosslinkError {
  constructor(
    message: string,
    /** Data rows acknowledged so far, counted from the start of the file. */
    readonly rowsAcknowledged: number,
  ) {
    super(message);
  }
}

/**
 * Crosslink refused an operator request (`crosslink platform ...`, `crosslink key retire`). The
 * message is the server's, with what to check for the status (a wrong token, a token without
 * the operator role, an unknown platform, a platform that exists already).
 *
 * @example
 * await operator.addPlatform('chatapp');
 * // OperatorRequestError: 409 Conflict: platform chatapp exists already: rotate its secret instead
 */
export class OperatorRequestError extends CrosslinkError {
  constructor(
    message: string,
    /** The HTTP status, or undefined when the server could not be reached. */
    readonly httpStatus?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
