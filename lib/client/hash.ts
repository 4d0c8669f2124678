/**
 * Keyed hashing of normalised identifiers: HMAC-SHA256 under the consortium key that the
 * platforms share and Crosslink never sees. The key stays on the platform's side: nothing in the
 * client puts it in a request, a file or a log line.
 */
import { createHmac } from 'node:crypto';
import type { SignalType } from '../contract/signals.js';
import { ClientConfigError, NormalisationError } from './errors.js';
import { normaliseIdentifier, normalisePdqHash, type NormaliseOptions } from './normalise.js';

/** The environment variable holding the consortium hashing key. */
export const HASH_KEY_ENV = 'CROSSLINK_HASH_KEY';
/** The environment variable holding the key being retired, during a hashing-key rotation. */
export const PREVIOUS_HASH_KEY_ENV = 'CROSSLINK_HASH_KEY_PREVIOUS';
/** The shortest key accepted, in characters: a short key makes the hashes guessable by brute force. */
export const MIN_HASH_KEY_LENGTH = 16;

/** One identifier in its canonical form and as it is sent. */
export interface HashedIdentifier {
  type: SignalType;
  /** The canonical form the HMAC was taken over (never sent). */
  normalised: string;
  /** What goes in the signal's `value`: 64 lowercase hex characters. */
  value: string;
}

/**
 * The lowercase hex HMAC-SHA256 of a normalised identifier; the key is used as its UTF-8 bytes.
 *
 * @example
 * hmacIdentifier(key, 'foobar@gmail.com') // '3f1c...' (64 hex)
 */
export function hmacIdentifier(key: string, normalised: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(normalised, 'utf8').digest('hex');
}

/**
 * Checks a value a platform hashed itself: 64 hex characters, lowercased for the wire.
 *
 * @throws NormalisationError when it is not 64 hex characters.
 * @example
 * checkHashedValue('email', 'AB12...') // 'ab12...'
 */
export function checkHashedValue(type: SignalType, value: string): string {
  const text = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new NormalisationError(type, `is marked as already hashed but is not 64 hex characters (got ${text.length} characters): hash it with the client, or drop the hashed flag`);
  }
  return text;
}

/**
 * Normalises and hashes raw identifiers under one consortium key.
 *
 * @example
 * const hasher = new IdentifierHasher(process.env.CROSSLINK_HASH_KEY!, { defaultRegion: 'GB' });
 * hasher.hash('email', 'Foo.Bar+x@gmail.com'); // { type: 'email', normalised: 'foobar@gmail.com', value: '…64 hex…' }
 */
export class IdentifierHasher {
  readonly #key: string;

  constructor(key: string, private readonly options: NormaliseOptions = {}) {
    if (key.length < MIN_HASH_KEY_LENGTH) {
      throw new ClientConfigError(`the consortium hashing key is ${key.length} characters long: it must be at least ${MIN_HASH_KEY_LENGTH} (use the key your consortium shares)`);
    }
    this.#key = key;
  }

  /**
   * The canonical form and the hashed value of one raw identifier. A PDQ hash is validated and
   * passed through, not hashed again.
   *
   * @throws NormalisationError when the raw value cannot be normalised.
   */
  hash(type: SignalType, raw: string): HashedIdentifier {
    if (type === 'photo_pdq') {
      const pdq = normalisePdqHash(raw);
      return { type, normalised: pdq, value: pdq };
    }
    const normalised = normaliseIdentifier(type, raw, this.options);
    return { type, normalised, value: hmacIdentifier(this.#key, normalised) };
  }

  /** Keeps the key out of logs and `console.log(hasher)`. */
  toJSON(): Record<string, unknown> {
    return { key: '[redacted]', options: this.options };
  }
}

/**
 * A hasher with the key from `CROSSLINK_HASH_KEY` (or another variable, such as
 * `CROSSLINK_HASH_KEY_PREVIOUS` during a rotation).
 *
 * @throws ClientConfigError when the variable is unset or too short.
 * @example
 * const hasher = hasherFromEnv(process.env, { defaultRegion: process.env.CROSSLINK_DEFAULT_REGION });
 */
export function hasherFromEnv(env: Record<string, string | undefined>, options: NormaliseOptions = {}, variable = HASH_KEY_ENV): IdentifierHasher {
  const key = env[variable];
  if (!key) {
    throw new ClientConfigError(`${variable} is not set: export the consortium hashing key (it is never sent to Crosslink)`);
  }
  return new IdentifierHasher(key, options);
}
