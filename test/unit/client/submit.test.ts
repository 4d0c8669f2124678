import { createHmac } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointPathFor, readCheckpoint } from '../../../lib/client/checkpoint.js';
import { ClientConfigError, SubmitError, SubmitInterruptedError } from '../../../lib/client/errors.js';
import { IdentifierHasher } from '../../../lib/client/hash.js';
import { submitFile, type RejectedRow, type SubmitOptions } from '../../../lib/client/submit.js';
import { SignalsTransport } from '../../../lib/client/transport.js';
import { startFakeCrosslink, type FakeCrosslink, type FakeCrosslinkOptions } from './fake-crosslink.js';

const KEY = 'consortium-key-for-tests-only-0001';
const SECRET = 'snapchat-secret-0123456789abcdef';
const OBSERVED_AT = '2026-01-31T12:00:00Z';

let dir: string;
let fake: FakeCrosslink | undefined;
let sleeps: number[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crosslink-submit-'));
  sleeps = [];
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  await rm(dir, { recursive: true, force: true });
});

interface Row {
  account: string;
  type: string;
  value: string;
  observedAt: string;
}

/** Row i: a distinct account with a raw email whose canonical form is `user<i>@example.com`. */
function emailRows(count: number): Row[] {
  return Array.from({ length: count }, (_, i) => ({ account: `acc-${i + 1}`, type: 'email', value: ` User${i + 1}@Example.COM `, observedAt: OBSERVED_AT }));
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function writeCsv(rows: Row[], name = 'signals.csv'): Promise<string> {
  const path = join(dir, name);
  const lines = ['account,type,value,observedAt', ...rows.map((row) => [row.account, row.type, row.value, row.observedAt].map(csvCell).join(','))];
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

async function startFake(options: Partial<FakeCrosslinkOptions> = {}): Promise<FakeCrosslink> {
  fake = await startFakeCrosslink({ secrets: { snapchat: SECRET }, ...options });
  return fake;
}

function transportTo(server: FakeCrosslink, overrides: { secret?: string; maxAttempts?: number } = {}): SignalsTransport {
  return new SignalsTransport({
    baseUrl: server.url,
    platform: 'snapchat',
    secret: overrides.secret ?? SECRET,
    retry: { maxAttempts: overrides.maxAttempts ?? 8, requestTimeoutMs: 10_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });
}

function submitOptions(server: FakeCrosslink, inputPath: string, extra: Partial<SubmitOptions> = {}): SubmitOptions {
  return { inputPath, transport: transportTo(server), url: server.url, hasher: () => new IdentifierHasher(KEY), ...extra };
}

function hmac(canonical: string): string {
  return createHmac('sha256', KEY).update(canonical).digest('hex');
}

function signalsReceived(server: FakeCrosslink): number {
  return server.requests.reduce((sum, request) => sum + request.signals.length, 0);
}

async function readRejected(path: string): Promise<RejectedRow[]> {
  const text = await readFile(path, 'utf8');
  return text.trim() ? text.trim().split('\n').map((line) => JSON.parse(line) as RejectedRow) : [];
}

describe('Function: submitFile', () => {
  it('sends every row exactly once, hashed, in batches of at most 500 signals', async () => {
    const server = await startFake();
    const input = await writeCsv(emailRows(1234));

    const summary = await submitFile(submitOptions(server, input));

    expect(server.requests.map((request) => request.signals.length)).toEqual([500, 500, 234]);
    expect(server.stored.size).toBe(1234);
    expect(signalsReceived(server)).toBe(1234);
    expect(server.requests[0].signals[0]).toEqual({ account: 'acc-1', type: 'email', value: hmac('user1@example.com'), observedAt: OBSERVED_AT });
    expect(server.requests[2].signals[233].value).toBe(hmac('user1234@example.com'));
    expect(summary).toMatchObject({ accepted: 1234, rejected: 0, rowsProcessed: 1234, requests: 3, retries: 0, signalsSent: 1234 });
  });

  it('keeps every request body under the byte limit', async () => {
    const server = await startFake();
    const input = await writeCsv(emailRows(300));

    await submitFile(submitOptions(server, input, { maxBodyBytes: 4096 }));

    expect(server.requests.length).toBeGreaterThan(10);
    expect(Math.max(...server.requests.map((request) => request.bodyBytes))).toBeLessThanOrEqual(4096);
    expect(server.stored.size).toBe(300);
    expect(signalsReceived(server)).toBe(300);
  });

  it('retries a 503, a 429 honouring its Retry-After, and a dropped connection, losing and duplicating nothing', async () => {
    const server = await startFake({ faults: [{ kind: 'status', status: 503 }, { kind: 'status', status: 429, retryAfter: '7' }, { kind: 'drop' }] });
    const input = await writeCsv(emailRows(1000));

    const summary = await submitFile(submitOptions(server, input, { concurrency: 1 }));

    expect(server.attempts).toBe(5);
    expect(server.requests.map((request) => request.signals.length)).toEqual([500, 500]);
    expect(server.stored.size).toBe(1000);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[1]).toBeGreaterThanOrEqual(7000);
    expect(sleeps[1]).toBeLessThan(7000 + 500);
    expect(summary).toMatchObject({ accepted: 1000, retries: 3, requests: 2 });
  });

  it('backs off exponentially with jitter between retries', async () => {
    const server = await startFake({ faults: [503, 502, 500, 504].map((status) => ({ kind: 'status', status }) as const) });
    const input = await writeCsv(emailRows(10));

    await submitFile(submitOptions(server, input));

    // random() is 0.5, so each delay is half of the doubling ceiling 500, 1000, 2000, 4000 ms.
    expect(sleeps).toEqual([250, 500, 1000, 2000]);
    expect(server.stored.size).toBe(10);
  });

  it('signs each retry afresh, so the server never sees one signature twice', async () => {
    const server = await startFake({ faults: [{ kind: 'hang', afterStoring: true }] });
    const input = await writeCsv(emailRows(5));
    const transport = new SignalsTransport({ baseUrl: server.url, platform: 'snapchat', secret: SECRET, retry: { requestTimeoutMs: 300 }, sleep: async () => undefined });

    await submitFile({ ...submitOptions(server, input), transport });

    expect(server.requests).toHaveLength(2);
    expect(server.requests[0].signature).not.toBe(server.requests[1].signature);
    expect(Number(server.requests[1].timestamp)).toBeGreaterThan(Number(server.requests[0].timestamp));
    expect(server.stored.size).toBe(5);
  });

  it('gives a batch up after the last attempt and keeps the batches before it acknowledged', async () => {
    const server = await startFake({ faults: [{ kind: 'ok' }, ...Array.from({ length: 3 }, () => ({ kind: 'status', status: 503 }) as const)] });
    const input = await writeCsv(emailRows(1000));
    const options = { ...submitOptions(server, input, { concurrency: 1 }), transport: transportTo(server, { maxAttempts: 3 }) };

    const failure = await submitFile(options).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SubmitError);
    expect((failure as SubmitError).message).toMatch(/gave up after 3 attempts; last problem: 503/);
    expect((await readCheckpoint(checkpointPathFor(input)))?.rowsAcknowledged).toBe(500);
  });

  it('stops at once when Crosslink refuses the signature (401), without retrying', async () => {
    const server = await startFake();
    const input = await writeCsv(emailRows(3));
    const options = { ...submitOptions(server, input), transport: transportTo(server, { secret: 'the-wrong-secret-0123456789' }) };

    const failure = await submitFile(options).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SubmitError);
    expect((failure as SubmitError).httpStatus).toBe(401);
    expect((failure as SubmitError).message).toMatch(/signature refused: signature-mismatch/);
    expect(server.attempts).toBe(1);
  });

  it('resumes an interrupted file: the rerun sends only what was not acknowledged, and nothing is stored twice', async () => {
    const interrupt = new AbortController();
    const server = await startFake({
      // The third batch reaches the server and is stored, but its answer never comes back.
      faults: [{ kind: 'ok' }, { kind: 'ok' }, { kind: 'hang', afterStoring: true }],
      onRequest: (requestNumber) => {
        if (requestNumber === 3) interrupt.abort(new Error('operator pressed Ctrl-C'));
      },
    });
    const input = await writeCsv(emailRows(1500));

    const failure = await submitFile(submitOptions(server, input, { maxSignalsPerBatch: 250, concurrency: 1, signal: interrupt.signal })).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SubmitInterruptedError);
    expect((failure as SubmitInterruptedError).rowsAcknowledged).toBe(500);
    expect((await readCheckpoint(checkpointPathFor(input)))?.rowsAcknowledged).toBe(500);
    const requestsBefore = server.requests.length;

    const summary = await submitFile(submitOptions(server, input, { maxSignalsPerBatch: 250, concurrency: 1 }));

    const rerun = server.requests.slice(requestsBefore);
    expect(rerun.map((request) => request.signals.length)).toEqual([250, 250, 250, 250]);
    expect(rerun[0].signals[0].account).toBe('acc-501');
    expect(server.stored.size).toBe(1500);
    // The unanswered batch was sent twice; the server stored it once.
    expect(signalsReceived(server)).toBe(1500 + 250);
    expect(summary).toMatchObject({ rowsResumedFrom: 500, rowsProcessed: 1000, accepted: 1000, fileTotals: { accepted: 1500, rejected: 0 } });
    expect((await readCheckpoint(checkpointPathFor(input)))?.complete).toBe(true);
  });

  it('stops during a backoff wait when interrupted, as an interruption', async () => {
    const interrupt = new AbortController();
    const server = await startFake({ faults: [{ kind: 'status', status: 503, retryAfter: '60' }] });
    const input = await writeCsv(emailRows(10));
    const transport = new SignalsTransport({
      baseUrl: server.url,
      platform: 'snapchat',
      secret: SECRET,
      onRetry: () => interrupt.abort(new Error('operator pressed Ctrl-C')),
    });

    const failure = await submitFile({ ...submitOptions(server, input, { signal: interrupt.signal }), transport }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SubmitInterruptedError);
    expect((failure as SubmitInterruptedError).rowsAcknowledged).toBe(0);
    expect(server.attempts).toBe(1);
  });

  it('fails before sending anything when the rejected-rows file cannot be written', async () => {
    const server = await startFake();
    const input = await writeCsv(emailRows(3));

    const failure = await submitFile(submitOptions(server, input, { rejectedPath: join(dir, 'missing-folder', 'rejected.jsonl') })).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ClientConfigError);
    expect((failure as Error).message).toMatch(/cannot write the rejected-rows file/);
    expect(server.attempts).toBe(0);
  });

  it('sends each raw row under both keys during a key rotation, the two forms of a row always in one batch', async () => {
    const server = await startFake();
    const input = await writeCsv(emailRows(5));
    const oldKey = 'the-old-consortium-key-0000000001';

    const summary = await submitFile(
      submitOptions(server, input, { keyId: 'k2', previousKey: { keyId: 'k1', hasher: () => new IdentifierHasher(oldKey) }, maxSignalsPerBatch: 3 }),
    );

    expect(server.requests.map((request) => request.signals.length)).toEqual([2, 2, 2, 2, 2]);
    expect(server.requests[0].signals).toEqual([
      { account: 'acc-1', type: 'email', value: hmac('user1@example.com'), observedAt: OBSERVED_AT, keyId: 'k2' },
      { account: 'acc-1', type: 'email', value: createHmac('sha256', oldKey).update('user1@example.com').digest('hex'), observedAt: OBSERVED_AT, keyId: 'k1' },
    ]);
    expect(summary).toMatchObject({ rowsProcessed: 5, accepted: 10 });
  });

  it('refuses a key rotation without a key id for each form', async () => {
    const server = await startFake();
    const input = await writeCsv(emailRows(1));

    await expect(submitFile(submitOptions(server, input, { previousKey: { keyId: 'k1', hasher: () => new IdentifierHasher(KEY) } }))).rejects.toThrow(/both forms need their own key id/);
    expect(server.attempts).toBe(0);
  });

  it('acknowledges batches in file order when several are in flight', async () => {
    const server = await startFake({ faults: [{ kind: 'status', status: 503 }] });
    const input = await writeCsv(emailRows(2000));
    const acknowledged: number[] = [];

    await submitFile(submitOptions(server, input, { maxSignalsPerBatch: 100, concurrency: 4, onProgress: (progress) => acknowledged.push(progress.rowsAcknowledged) }));

    expect(acknowledged).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 100));
    expect(server.stored.size).toBe(2000);
    expect(signalsReceived(server)).toBe(2000);
  });

  it('says so and sends nothing when the file was already submitted in full', async () => {
    const server = await startFake();
    const input = await writeCsv(emailRows(20));
    await submitFile(submitOptions(server, input));

    const again = await submitFile(submitOptions(server, input));

    expect(again.alreadyComplete).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses to resume from the checkpoint of a file that has changed; --restart sends it from the start', async () => {
    const server = await startFake();
    const input = await writeCsv(emailRows(20));
    await submitFile(submitOptions(server, input));
    await appendFile(input, `acc-21,email,user21@example.com,${OBSERVED_AT}\n`);

    const failure = await submitFile(submitOptions(server, input)).catch((error: unknown) => error);
    const restarted = await submitFile(submitOptions(server, input, { restart: true }));

    expect(failure).toBeInstanceOf(ClientConfigError);
    expect((failure as Error).message).toMatch(/input changed.*--restart/);
    expect(restarted.accepted).toBe(21);
    expect(server.stored.size).toBe(21);
  });

  it('writes client and server rejections to the rejected file and summarises them by reason', async () => {
    const server = await startFake({
      rejectSignal: (signal) => (signal.account.startsWith('withdrawn-') ? { field: 'account', error: 'this account was withdrawn' } : undefined),
    });
    const path = join(dir, 'mixed.csv');
    await writeFile(
      path,
      [
        'account,type,value,observedAt',
        `good-1,email,a@example.com,${OBSERVED_AT}`,
        `bad-email,email,not an email,${OBSERVED_AT}`,
        `bad-type,fingerprint,abc,${OBSERVED_AT}`,
        `withdrawn-1,username,@someone,${OBSERVED_AT}`,
        'bad-date,ip,192.0.2.1,yesterday',
        `too,many,cells,here,${OBSERVED_AT}`,
        `good-2,phone,+44 20 7946 0958,${OBSERVED_AT}`,
      ].join('\n'),
    );

    const summary = await submitFile(submitOptions(server, path));
    const rejected = await readRejected(summary.rejectedPath);

    expect(summary).toMatchObject({ accepted: 2, rejected: 5, rowsProcessed: 7 });
    expect(rejected.map((row) => [row.row, row.line, row.stage, row.field])).toEqual([
      [2, 3, 'client', 'value'],
      [3, 4, 'client', 'type'],
      [5, 6, 'client', 'observedAt'],
      [6, 7, 'client', 'item'],
      [4, 5, 'server', 'account'],
    ]);
    expect(rejected[0].input).toEqual({ account: 'bad-email', type: 'email', value: 'not an email', observedAt: OBSERVED_AT });
    expect(rejected[0].error).toMatch(/not an email address/);
    expect(rejected[4].error).toBe('this account was withdrawn');
    expect(summary.rejectedByReason).toHaveLength(5);
    expect([...server.stored.values()].map((signal) => signal.account).sort()).toEqual(['good-1', 'good-2']);
  });

  it('reads JSON Lines with already hashed values (per row or for the whole file) and needs no key for them', async () => {
    const server = await startFake();
    const path = join(dir, 'hashed.jsonl');
    const hashedEmail = hmac('foo@example.com');
    await writeFile(
      path,
      [
        JSON.stringify({ account: 'a1', type: 'email', value: hashedEmail.toUpperCase(), observedAt: OBSERVED_AT, hashed: true }),
        JSON.stringify({ account: 12345, type: 'photo_pdq', value: 'F0'.repeat(32), observedAt: 1769860800 }),
        '',
        '{not json',
      ].join('\n'),
    );
    const noKey = () => {
      throw new ClientConfigError('CROSSLINK_HASH_KEY is not set');
    };

    const summary = await submitFile(submitOptions(server, path, { hasher: noKey }));

    expect(server.requests[0].signals).toEqual([
      { account: 'a1', type: 'email', value: hashedEmail, observedAt: OBSERVED_AT },
      { account: '12345', type: 'photo_pdq', value: 'f0'.repeat(32), observedAt: '2026-01-31T12:00:00.000Z' },
    ]);
    expect(summary).toMatchObject({ accepted: 2, rejected: 1 });
    expect((await readRejected(summary.rejectedPath))[0]).toMatchObject({ row: 3, line: 4, field: 'item' });
  });

  it('fails the run, not the row, when a raw row needs a key that is not configured', async () => {
    const server = await startFake();
    const input = await writeCsv(emailRows(2));

    const failure = await submitFile(submitOptions(server, input, { hasher: () => { throw new ClientConfigError('CROSSLINK_HASH_KEY is not set'); } })).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ClientConfigError);
    expect(server.requests).toHaveLength(0);
  });

  it('reads quoted CSV cells holding commas, quotes and line breaks, and a header in any order and case', async () => {
    const server = await startFake();
    const path = join(dir, 'quoted.csv');
    await writeFile(path, `\uFEFFType,Observed_At,Account,Value\r\nemail,${OBSERVED_AT},"acct,with ""comma""","""Foo Bar"" <Foo.Bar+x@gmail.com>"\r\nusername,${OBSERVED_AT},"multi\nline",john_doe\r\n`);

    await submitFile(submitOptions(server, path));

    expect(server.requests[0].signals.map((signal) => [signal.account, signal.value])).toEqual([
      ['acct,with "comma"', hmac('foobar@gmail.com')],
      ['multi\nline', hmac('johndoe')],
    ]);
  });

  it('never drops rows silently when a CSV cell holds a stray quote: every row is sent or rejected', async () => {
    const server = await startFake();
    const path = join(dir, 'stray-quote.csv');
    await writeFile(
      path,
      ['account,type,value,observedAt', `a1,username,jo"hn,${OBSERVED_AT}`, `a2,email,x@example.com,${OBSERVED_AT}`, `a3,username,ma"ry,${OBSERVED_AT}`, `a4,email,y@example.com,${OBSERVED_AT}`, ''].join('\n'),
    );

    const summary = await submitFile(submitOptions(server, path));

    expect(summary.accepted + summary.rejected).toBe(4);
    expect([...server.stored.values()].map((signal) => signal.account).sort()).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('refuses a CSV whose header lacks a required column, naming it', async () => {
    const server = await startFake();
    const path = join(dir, 'no-header.csv');
    await writeFile(path, 'acc-1,email,a@example.com,2026-01-31T12:00:00Z\n');

    await expect(submitFile(submitOptions(server, path))).rejects.toThrow(/lacks account, type, value, observedAt/);
  });
});
