/**
 * Generated garbage thrown at the validator: it either answers with a clear ValidationError (the
 * whole request) or sorts every item into accepted or rejected; it never crashes another way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SIGNAL_TYPES } from '../../../lib/contract/signals.js';
import { ValidationError } from '../../../lib/errors.js';
import { validateBatch } from '../../../lib/ingest/validate-batch.js';

function outcome(raw: string) {
  try {
    return { result: validateBatch(raw) };
  } catch (error) {
    return { error };
  }
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const validSignal = fc.record({
  account: fc.string({ minLength: 1, maxLength: 128 }),
  type: fc.constantFrom(...SIGNAL_TYPES),
  value: hex64,
  observedAt: fc.date({ min: new Date('2000-01-01'), max: new Date('2026-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
});
const garbageItem = fc.oneof(fc.anything(), fc.record({ account: fc.anything(), type: fc.anything(), value: fc.anything(), observedAt: fc.anything() }, { requiredKeys: [] }));

describe('validateBatch under generated input', () => {
  it('never throws anything but a ValidationError for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (raw) => {
        const { error } = outcome(raw);
        expect(error === undefined || error instanceof ValidationError).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a ValidationError for arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const { error } = outcome(JSON.stringify(value));
        expect(error === undefined || error instanceof ValidationError).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('accounts for every item: each valid one accepted, each garbage one rejected with a reason, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(validSignal.map((s) => ({ valid: true as const, item: s })), garbageItem.map((g) => ({ valid: false as const, item: g }))), { minLength: 1, maxLength: 40 }), (items) => {
        const raw = JSON.stringify({ signals: items.map((entry) => entry.item) });
        const { result, error } = outcome(raw);
        expect(error).toBeUndefined();
        // Re-parse what was sent: garbage may serialise into something valid (e.g. a record of good values).
        const sent = JSON.parse(raw).signals as unknown[];
        const rejectedIndexes = new Set(result!.rejected.map((r) => r.index));
        expect(result!.signals.length + rejectedIndexes.size).toBe(sent.length);
        items.forEach((entry, index) => {
          if (entry.valid) expect(rejectedIndexes.has(index)).toBe(false);
        });
        for (const rejection of result!.rejected) {
          expect(rejection.error.length).toBeGreaterThan(0);
          expect(rejection.field.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
