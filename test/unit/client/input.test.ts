import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT_COLUMNS, readRows, type InputRow } from '../../../lib/client/input.js';

const OBSERVED_AT = '2026-01-31T12:00:00Z';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crosslink-input-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rowsOf(name: string, text: string, columns = undefined as undefined | typeof ACCOUNT_COLUMNS): Promise<InputRow[]> {
  const path = join(dir, name);
  await writeFile(path, text);
  const rows: InputRow[] = [];
  for await (const row of readRows(path, name.endsWith('.csv') ? 'csv' : 'jsonl', columns)) rows.push(row);
  return rows;
}

describe('Function: readRows', () => {
  it('reads a quote inside an unquoted CSV cell as a character, never merging the rows after it into that cell', async () => {
    const rows = await rowsOf(
      'stray-quote.csv',
      [
        'account,type,value,observedAt',
        `a1,username,jo"hn,${OBSERVED_AT}`,
        `a2,email,x@example.com,${OBSERVED_AT}`,
        `a3,username,ma"ry,${OBSERVED_AT}`,
        `a4,email,y@example.com,${OBSERVED_AT}`,
        '',
      ].join('\n'),
    );

    expect(rows.map((row) => [row.row, row.line, row.fields.account, row.fields.value])).toEqual([
      [1, 2, 'a1', 'jo"hn'],
      [2, 3, 'a2', 'x@example.com'],
      [3, 4, 'a3', 'ma"ry'],
      [4, 5, 'a4', 'y@example.com'],
    ]);
  });

  it('still reads quoted cells with doubled quotes, commas and line breaks', async () => {
    const rows = await rowsOf('quoted.csv', `account,type,value,observedAt\n"a,1",username,"say ""hi""\nthere",${OBSERVED_AT}\na2,email,x@example.com,${OBSERVED_AT}\n`);

    expect(rows.map((row) => [row.row, row.line, row.fields.account, row.fields.value])).toEqual([
      [1, 2, 'a,1', 'say "hi"\nthere'],
      [2, 4, 'a2', 'x@example.com'],
    ]);
  });
});
