/**
 * Reading a submission file: CSV with a header row, or JSON Lines, one signal (or one account's
 * metadata) per row. Streams,
 * so a file of millions of rows never sits in memory.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { ClientConfigError } from './errors.js';

/** The two input formats. */
export type InputFormat = 'csv' | 'jsonl';

/** One data row of the input: its fields, or why it could not be read at all. */
export interface InputRow {
  /** 1-based position among the data rows (the header is not a data row). */
  row: number;
  /** 1-based line of the file where the row starts, for the person fixing it. */
  line: number;
  fields: Record<string, unknown>;
  /** Set when the row could not be parsed (bad JSON, wrong column count); `fields` is then empty. */
  parseError?: string;
}

/** Columns every CSV input must have (any order, any case). */
export const REQUIRED_COLUMNS = ['account', 'type', 'value', 'observedAt'] as const;

/** The columns a kind of input file names: the required ones, and the optional ones it recognises. */
export interface ColumnSet {
  required: readonly string[];
  optional: readonly string[];
}

/** A file of signals (`crosslink submit FILE`). */
export const SIGNAL_COLUMNS: ColumnSet = { required: REQUIRED_COLUMNS, optional: ['hashed', 'keyId'] };

/** A file of account metadata (`crosslink submit --accounts FILE`). */
export const ACCOUNT_COLUMNS: ColumnSet = { required: ['account'], optional: ['createdAt', 'minorContacts7d', 'reports30d'] };

/**
 * The format of a file from its extension: `.csv` is CSV, `.jsonl`/`.ndjson`/`.json` JSON Lines.
 *
 * @throws ClientConfigError for any other extension (pass `--format`).
 */
export function formatFromPath(path: string): InputFormat {
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (['.jsonl', '.ndjson', '.json'].includes(extension)) return 'jsonl';
  throw new ClientConfigError(`cannot tell the format of "${path}" from its extension: name it .csv or .jsonl, or pass --format csv|jsonl`);
}

/**
 * The data rows of a file, in order.
 *
 * @throws ClientConfigError when a CSV header lacks a required column.
 * @example
 * for await (const row of readRows('signals.csv', 'csv')) console.log(row.row, row.fields.account);
 */
export async function* readRows(path: string, format: InputFormat, columns: ColumnSet = SIGNAL_COLUMNS): AsyncGenerator<InputRow> {
  if (format === 'jsonl') yield* readJsonLines(path, columns);
  else yield* readCsv(path, columns);
}

async function* readJsonLines(path: string, columns: ColumnSet): AsyncGenerator<InputRow> {
  const example = `{${columns.required.map((column) => `"${column}"`).join(',')}}`;
  let row = 0;
  for await (const { text, line } of physicalLines(path)) {
    if (!text.trim()) continue;
    row += 1;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        yield { row, line, fields: {}, parseError: `the line is not a JSON object: write one ${example} object per line` };
      } else {
        // Keys are read as CSV header names are (any case, `observed_at`), so that a key the CSV
        // reader would take is never silently ignored in JSON Lines.
        const fields = Object.fromEntries(Object.entries(parsed).map(([key, value]) => [canonicalColumn(key, columns), value]));
        yield { row, line, fields };
      }
    } catch {
      yield { row, line, fields: {}, parseError: 'the line is not valid JSON: check quoting and escaping' };
    }
  }
}

async function* physicalLines(path: string): AsyncGenerator<{ text: string; line: number }> {
  let carry = '';
  let line = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const parts = (carry + (chunk as string)).split('\n');
    carry = parts.pop() ?? '';
    for (const part of parts) {
      line += 1;
      yield { text: stripBom(part, line).replace(/\r$/, ''), line };
    }
  }
  if (carry) yield { text: stripBom(carry, line + 1).replace(/\r$/, ''), line: line + 1 };
}

function stripBom(text: string, line: number): string {
  return line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

async function* readCsv(path: string, columns: ColumnSet): AsyncGenerator<InputRow> {
  let header: string[] | undefined;
  let row = 0;
  for await (const record of csvRecords(path)) {
    if (record.cells.length === 1 && record.cells[0].trim() === '') continue;
    if (!header) {
      header = record.cells.map((cell) => canonicalColumn(cell.trim(), columns));
      const missing = columns.required.filter((column) => !header!.includes(column));
      if (missing.length > 0) {
        throw new ClientConfigError(
          `the CSV header of "${path}" lacks ${missing.join(', ')}: the first line must name the columns ${columns.required.join(',')} (and optionally ${columns.optional.join(', ')})`,
        );
      }
      continue;
    }
    row += 1;
    if (record.cells.length !== header.length) {
      yield { row, line: record.line, fields: {}, parseError: `has ${record.cells.length} cells but the header has ${header.length}: quote cells that contain commas` };
      continue;
    }
    const fields: Record<string, unknown> = {};
    header.forEach((column, index) => {
      fields[column] = record.cells[index];
    });
    yield { row, line: record.line, fields };
  }
}

function canonicalColumn(name: string, columns: ColumnSet): string {
  const known = [...columns.required, ...columns.optional].find((column) => column.toLowerCase() === name.toLowerCase().replace(/_/g, ''));
  return known ?? name;
}

/** RFC 4180 records: quoted cells may hold commas, doubled quotes and newlines. */
async function* csvRecords(path: string): AsyncGenerator<{ cells: string[]; line: number }> {
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let afterQuote = false;
  let line = 1;
  let recordLine = 1;
  let first = true;
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    let text = chunk as string;
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    for (const char of text) {
      if (quoted) {
        if (char === '"') {
          quoted = false;
          afterQuote = true;
        } else {
          if (char === '\n') line += 1;
          cell += char;
        }
        continue;
      }
      if (char === '"' && (afterQuote || cell.trim() === '')) {
        // A doubled quote inside a quoted cell is a literal quote.
        if (afterQuote) cell += '"';
        quoted = true;
        afterQuote = false;
        continue;
      }
      // Any other quote (inside an unquoted cell, `jo"hn`) is a character: opening a quoted
      // section there would swallow the following commas and lines, and their rows, into this cell.
      afterQuote = false;
      if (char === ',') {
        cells.push(cell);
        cell = '';
      } else if (char === '\n') {
        cells.push(cell.endsWith('\r') ? cell.slice(0, -1) : cell);
        yield { cells, line: recordLine };
        cells = [];
        cell = '';
        line += 1;
        recordLine = line;
      } else {
        cell += char;
      }
    }
  }
  if (cell !== '' || cells.length > 0) {
    cells.push(cell.endsWith('\r') ? cell.slice(0, -1) : cell);
    yield { cells, line: recordLine };
  }
}

/**
 * How many data rows a file holds, counted fast (non-empty lines, less the CSV header), for the
 * progress line's ETA. A CSV cell holding a newline makes it an over-estimate.
 */
export async function countRows(path: string, format: InputFormat): Promise<number> {
  let count = 0;
  for await (const { text } of physicalLines(path)) if (text.trim()) count += 1;
  return format === 'csv' ? Math.max(0, count - 1) : count;
}
