import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountFromRow, submitAccountsFile } from '../../../lib/client/accounts.js';
import { ClientConfigError } from '../../../lib/client/errors.js';

describe('Function: accountFromRow', () => {
  it('turns CSV text into a record: digit counts become numbers, unix seconds an ISO instant, empty cells are left out', () => {
    expect(accountFromRow({ account: 'u-1', createdAt: '1767225600', minorContacts7d: '', reports30d: ' 2 ' })).toEqual({
      record: { account: 'u-1', createdAt: '2026-01-01T00:00:00.000Z', reports30d: 2 },
    });
  });

  it('keeps JSON numbers and a numeric account id', () => {
    expect(accountFromRow({ account: 42, minorContacts7d: 3 })).toEqual({ record: { account: '42', minorContacts7d: 3 } });
  });

  it.each([
    [{ account: '' }, 'account'],
    [{ account: 'u-1', reports30d: '-1' }, 'reports30d'],
    [{ account: 'u-1', minorContacts7d: 'many' }, 'minorContacts7d'],
    [{ account: 'u-1', createdAt: 'yesterday' }, 'createdAt'],
  ])('names the field at fault in %j', (fields, field) => {
    expect(accountFromRow(fields)).toMatchObject({ field });
  });
});

describe('Function: submitAccountsFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crosslink-accounts-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('sends batches of accounts with no signals and maps the server refusals back to rows', async () => {
    const path = join(dir, 'accounts.jsonl');
    await writeFile(path, ['{"account":"a"}', '{"account":"b","reports30d":1}', 'not json', '{"account":"c"}'].join('\n'));
    const bodies: Array<{ signals: unknown[]; accounts: Array<{ account: string }> }> = [];
    const transport = {
      async send(body: string) {
        const parsed = JSON.parse(body);
        bodies.push(parsed);
        const rejected = parsed.accounts[0].account === 'c' ? [{ list: 'accounts' as const, index: 0, field: 'account', error: 'withdrawn' }] : [];
        return { accepted: 0, accountsAccepted: parsed.accounts.length - rejected.length, rejected, attempts: 1 };
      },
    };

    const summary = await submitAccountsFile({ inputPath: path, transport, maxAccountsPerBatch: 2 });

    expect(bodies).toEqual([
      { signals: [], accounts: [{ account: 'a' }, { account: 'b', reports30d: 1 }] },
      { signals: [], accounts: [{ account: 'c' }] },
    ]);
    expect(summary).toMatchObject({ rows: 4, accepted: 2, requests: 2 });
    expect(summary.rejected).toEqual([
      { row: 3, line: 3, stage: 'client', field: 'item', error: expect.stringMatching(/not valid JSON/) },
      { row: 4, line: 4, stage: 'server', field: 'account', error: 'withdrawn' },
    ]);
  });

  it('reads JSON Lines keys as it reads CSV columns (created_at, reports_30d...), never dropping them silently', async () => {
    const path = join(dir, 'accounts.jsonl');
    await writeFile(path, '{"account":"u-1","created_at":"2026-01-01T00:00:00Z","reports_30d":2,"Minor_Contacts_7d":1}\n');
    const bodies: Array<{ accounts: unknown[] }> = [];
    const transport = {
      async send(body: string) {
        bodies.push(JSON.parse(body));
        return { accepted: 0, accountsAccepted: 1, rejected: [], attempts: 1 };
      },
    };

    await submitAccountsFile({ inputPath: path, transport });

    expect(bodies[0].accounts).toEqual([{ account: 'u-1', createdAt: '2026-01-01T00:00:00Z', reports30d: 2, minorContacts7d: 1 }]);
  });

  it('refuses a CSV without an account column, naming the columns it reads', async () => {
    const path = join(dir, 'accounts.csv');
    await writeFile(path, 'user,reports30d\nu-1,2\n');

    const failure = submitAccountsFile({ inputPath: path, transport: { send: async () => ({ accepted: 0, accountsAccepted: 0, rejected: [], attempts: 1 }) } });

    await expect(failure).rejects.toBeInstanceOf(ClientConfigError);
    await expect(failure).rejects.toThrow(/lacks account: .*optionally createdAt, minorContacts7d, reports30d/);
  });
});
