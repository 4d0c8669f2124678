/**
 * An identifier in JSON Lines input written as a JSON number: JSON.parse rounds one beyond 2^53, so such
 * a value is refused with a message saying to write it as a string, where hashing it would hash another
 * identifier (a 19-digit card rounds to another card that passes the Luhn check too).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdentifierHasher } from '../../../lib/client/hash.js';
import { readRows } from '../../../lib/client/input.js';
import { signalFromRow } from '../../../lib/client/submit.js';

describe('Function: signalFromRow, identifiers written as JSON numbers', () => {
  it('refuses a 19-digit card number given as a JSON number, which JSON.parse rounds to another card, saying to write it as a string', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crosslink-gap-'));
    try {
      const path = join(dir, 'signals.jsonl');
      // Two different cards: both round to 6221260000000005000, which passes the Luhn check too.
      const rows = ['6221260000000004615', '6221260000000004623'].map(
        (digits, i) => `{"account":"acc-${i}","type":"payment","value":${digits},"observedAt":"2026-01-31T12:00:00Z"}`,
      );
      await writeFile(path, `${rows.join('\n')}\n`);
      const hasher = new IdentifierHasher('consortium-key-for-tests-only-0001');

      const built = [];
      for await (const row of readRows(path, 'jsonl')) built.push(signalFromRow(row.fields, { hasher: () => hasher, allHashed: false }));

      for (const answer of built) expect(answer).toMatchObject({ field: 'value', error: expect.stringMatching(/write the identifier as a string/) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Function: signalFromRow, small JSON numbers', () => {
  it('hashes a phone number given as a JSON number that JSON carries exactly as its digits', () => {
    const hasher = new IdentifierHasher('consortium-key-for-tests-only-0001', { defaultRegion: 'US' });
    const built = signalFromRow({ account: 'acc-1', type: 'phone', value: 4155552671, observedAt: '2026-01-31T12:00:00Z' }, { hasher: () => hasher, allHashed: false });
    expect(built).toMatchObject({ signals: [{ value: hasher.hash('phone', '+14155552671').value }] });
  });
});
