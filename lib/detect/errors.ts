/**
 * The ways detection refuses to run; callers catch the kind.
 *
 * @example
 * try {
 *   detectIncremental(state, closure, { nowMs });
 * } catch (error) {
 *   if (error instanceof FullRunRequiredError) runFullDetection();
 *   else throw error;
 * }
 */
import { CrosslinkError } from '../errors.js';

/** Base of detection's own errors. */
export class DetectionError extends CrosslinkError {}

/** An incremental run cannot equal a full run (options or the ageing step changed): run a full detection. */
export class FullRunRequiredError extends DetectionError {}

/** The touched closure given to an incremental run is incomplete; the message names what is missing. */
export class IncrementalClosureError extends DetectionError {}
