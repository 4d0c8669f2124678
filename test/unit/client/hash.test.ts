import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClientConfigError, NormalisationError } from '../../../lib/client/errors.js';
import { checkHashedValue, hasherFromEnv, hmacIdentifier, IdentifierHasher, MIN_HASH_KEY_LENGTH } from '../../../lib/client/hash.js';

const KEY = 'consortium-key-for-tests-only-0001';

/** The expected value, computed here with node:crypto over a literal canonical string. */
function expectedHmac(key: string, canonical: string): string {
  return createHmac('sha256', key).update(canonical).digest('hex');
}

describe('Class: IdentifierHasher', () => {
  const hasher = new IdentifierHasher(KEY, { defaultRegion: 'GB' });

  it.each([
    ['email', 'Foo.Bar+x@gmail.com', 'foobar@gmail.com'],
    ['email', 'foo.bar@GoogleMail.com', 'foobar@gmail.com'],
    ['phone', '020 7946 0958', '+442079460958'],
    ['ip', '::ffff:192.0.2.1', '192.0.2.1'],
    ['ip', '2001:0DB8::0001', '2001:db8::1'],
    ['device', '{6F9619FF-8B86-D011-B42D-00C04FC964FF}', '6f9619ff8b86d011b42d00c04fc964ff'],
    ['username', '@John_Doe', 'johndoe'],
    ['payment', '4111 1111 1111 1111', '4111111111111111'],
  ] as const)('hashes %s %j as the HMAC-SHA256 of %j under the consortium key', (type, raw, canonical) => {
    const hashed = hasher.hash(type, raw);

    expect(hashed.normalised).toBe(canonical);
    expect(hashed.value).toBe(expectedHmac(KEY, canonical));
    expect(hashed.value).toMatch(/^[0-9a-f]{64}$/);
  });

  it('matches known answers computed once with openssl dgst -sha256 -hmac', () => {
    expect(hasher.hash('email', 'Foo.Bar+x@gmail.com').value).toBe('0df3184dc68605d0bce942a17b04163e11a57c3d8b3c01c87723c75222b31c34');
    expect(hmacIdentifier('key-of-sixteen-c', 'abc')).toBe('02e17e2c3730170952d61b82039fbfb9ece93ef74872fbb963de07a51a2ae8d0');
  });

  it('gives the same hash for the variants of one person and different hashes under different keys', () => {
    const other = new IdentifierHasher(`${KEY}-other`);

    expect(hasher.hash('email', 'FOOBAR@gmail.com').value).toBe(hasher.hash('email', 'f.o.o.b.a.r+tag@googlemail.com').value);
    expect(other.hash('email', 'foobar@gmail.com').value).not.toBe(hasher.hash('email', 'foobar@gmail.com').value);
  });

  it('passes a PDQ hash through lowercased instead of hashing it again', () => {
    const pdq = 'AB'.repeat(32);

    expect(hasher.hash('photo_pdq', pdq)).toEqual({ type: 'photo_pdq', normalised: 'ab'.repeat(32), value: 'ab'.repeat(32) });
  });

  it('throws a NormalisationError for a value it cannot normalise', () => {
    expect(() => hasher.hash('email', 'not an email')).toThrow(NormalisationError);
    expect(() => hasher.hash('photo_pdq', 'abc')).toThrow(/64 hex characters/);
  });

  it('refuses a key shorter than the minimum', () => {
    expect(() => new IdentifierHasher('x'.repeat(MIN_HASH_KEY_LENGTH - 1))).toThrow(ClientConfigError);
  });

  it('keeps the key out of its JSON form', () => {
    expect(JSON.stringify(hasher)).not.toContain(KEY);
  });
});

describe('Function: hasherFromEnv', () => {
  it('throws naming CROSSLINK_HASH_KEY when it is not set', () => {
    expect(() => hasherFromEnv({})).toThrow(/CROSSLINK_HASH_KEY is not set/);
  });

  it('hashes under the key from the environment', () => {
    expect(hasherFromEnv({ CROSSLINK_HASH_KEY: KEY }).hash('username', 'Alice').value).toBe(expectedHmac(KEY, 'alice'));
  });
});

describe('Function: checkHashedValue', () => {
  it('lowercases a 64-hex value', () => {
    expect(checkHashedValue('email', ` ${'AB'.repeat(32)} `)).toBe('ab'.repeat(32));
  });

  it('refuses a raw identifier marked as hashed', () => {
    expect(() => checkHashedValue('email', 'foo@example.com')).toThrow(/marked as already hashed/);
  });
});
