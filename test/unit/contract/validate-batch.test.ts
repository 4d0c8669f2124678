import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { validateBatch } from '../../../lib/ingest/validate-batch.js';
import { aSignal, hashed } from '../../support/factories.js';

const body = (value: unknown) => JSON.stringify(value);

describe('validateBatch', () => {
  it('accepts a well-formed batch and keeps every valid signal and account record', () => {
    const result = validateBatch(
      body({
        signals: [aSignal(), aSignal({ type: 'photo_pdq', value: hashed('photo') })],
        accounts: [{ account: 'acct-1', createdAt: '2026-10-01T00:00:00Z', minorContacts7d: 3, reports30d: 1 }],
      }),
    );
    expect(result.rejected).toEqual([]);
    expect(result.signals).toHaveLength(2);
    expect(result.accounts).toEqual([{ account: 'acct-1', createdAt: '2026-10-01T00:00:00Z', minorContacts7d: 3, reports30d: 1 }]);
  });

  it('rejects malformed JSON as a whole, saying so', () => {
    expect(() => validateBatch('{"signals": [')).toThrow(ValidationError);
    expect(() => validateBatch('{"signals": [')).toThrow(/not valid JSON/);
  });

  it.each([
    ['an array', '[]', /JSON object/],
    ['a string', '"hello"', /JSON object/],
    ['no signals field', '{}', /signals/],
    ['signals not an array', '{"signals":{}}', /array of signals/],
    ['an empty batch', '{"signals":[]}', /at least one/],
    ['501 signals', body({ signals: Array.from({ length: 501 }, () => aSignal()) }), /more than 500 signals/],
  ])('rejects %s as a whole', (_name, raw, message) => {
    expect(() => validateBatch(raw)).toThrow(message);
  });

  it('takes exactly 500 signals', () => {
    expect(validateBatch(body({ signals: Array.from({ length: 500 }, () => aSignal()) })).signals).toHaveLength(500);
  });

  it('rejects invalid items one by one and keeps the valid ones', () => {
    const result = validateBatch(
      body({
        signals: [
          aSignal({ account: 'good-1' }),
          aSignal({ type: 'fax' as never }),
          aSignal({ value: 'someone@example.com' }),
          aSignal({ value: hashed('x').toUpperCase() }),
          aSignal({ value: 'abc123' }),
          aSignal({ observedAt: 'yesterday' }),
          aSignal({ account: '' }),
          aSignal({ account: 'x'.repeat(129) }),
          42,
          aSignal({ account: 'good-2' }),
        ],
      }),
    );
    expect(result.signals.map((s) => s.account)).toEqual(['good-1', 'good-2']);
    const byIndex = Object.fromEntries(result.rejected.map((r) => [r.index, r]));
    expect(byIndex[1]).toMatchObject({ list: 'signals', field: 'type', error: expect.stringMatching(/one of email, phone/) });
    expect(byIndex[2]).toMatchObject({ field: 'value', error: expect.stringMatching(/raw identifier.*crosslink hash/) });
    expect(byIndex[3]).toMatchObject({ field: 'value', error: expect.stringMatching(/lowercase/) });
    expect(byIndex[4]).toMatchObject({ field: 'value', error: expect.stringMatching(/64 lowercase hex characters.*got 6/) });
    expect(byIndex[5]).toMatchObject({ field: 'observedAt', error: expect.stringMatching(/ISO-8601/) });
    expect(byIndex[6]).toMatchObject({ field: 'account', error: expect.stringMatching(/empty/) });
    expect(byIndex[7]).toMatchObject({ field: 'account', error: expect.stringMatching(/128/) });
    expect(byIndex[8]).toMatchObject({ field: 'item', error: 'must be an object, got number' });
    expect(result.rejected).toHaveLength(8);
  });

  it('refuses an account id that is not well-formed text (a lone surrogate), which UTF-8 and so DynamoDB cannot hold', () => {
    const result = validateBatch(body({ signals: [aSignal({ account: 'ab\ud800' }), aSignal({ account: 'ok-\u{1F600}' })], accounts: [{ account: '\udc00x' }] }));

    expect(result.signals.map((signal) => signal.account)).toEqual(['ok-\u{1F600}']);
    expect(result.rejected).toEqual([
      { list: 'signals', index: 0, field: 'account', error: 'has a lone surrogate (U+D800) at character 3: send the id as well-formed text (each surrogate escape in a pair)' },
      { list: 'accounts', index: 0, field: 'account', error: 'has a lone surrogate (U+DC00) at character 1: send the id as well-formed text (each surrogate escape in a pair)' },
    ]);
  });

  it('says a missing field is required', () => {
    const { rejected } = validateBatch(body({ signals: [{ account: 'a', type: 'email', value: hashed('v') }] }));
    expect(rejected).toEqual([{ list: 'signals', index: 0, field: 'observedAt', error: 'is required' }]);
  });

  it('refuses an observation time far in the future', () => {
    const { rejected } = validateBatch(body({ signals: [aSignal({ observedAt: '2999-01-01T00:00:00Z' })] }));
    expect(rejected[0]).toMatchObject({ field: 'observedAt', error: expect.stringMatching(/future/) });
  });

  it('rejects bad account records by their own list and index', () => {
    const { rejected, accounts } = validateBatch(
      body({ signals: [aSignal()], accounts: [{ account: 'a', minorContacts7d: -1 }, { account: 'b', reports30d: 1.5 }, { account: 'c' }] }),
    );
    expect(accounts.map((a) => a.account)).toEqual(['c']);
    expect(rejected).toEqual([
      { list: 'accounts', index: 0, field: 'minorContacts7d', error: 'must not be negative' },
      { list: 'accounts', index: 1, field: 'reports30d', error: 'must be a whole number' },
    ]);
  });

  it('refuses a bad keyId once per signal, saying the form a key id takes', () => {
    const { rejected } = validateBatch(
      body({ signals: [{ ...aSignal(), keyId: '' }, { ...aSignal(), keyId: 'k'.repeat(33) }, { ...aSignal(), keyId: 2 }, { ...aSignal(), keyId: 'k 1' }] }),
    );
    const form = "must be a hashing key id of 1-32 letters, digits, dot, dash or underscore (the client's --key-id option), or left out";
    expect(rejected).toEqual([0, 1, 2, 3].map((index) => ({ list: 'signals', index, field: 'keyId', error: form })));
  });
});
