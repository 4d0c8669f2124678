import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, runCli, type CliIo } from '../../../lib/client/cli.js';
import { startFakeCrosslink, type FakeCrosslink } from './fake-crosslink.js';

const KEY = 'consortium-key-for-tests-only-0001';
const SECRETS = { snapchat: 'snapchat-secret-0123456789abcdef', whatsapp: 'whatsapp-secret-0123456789abcdef' };

let dir: string;
let fake: FakeCrosslink;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crosslink-cli-'));
  fake = await startFakeCrosslink({
    secrets: SECRETS,
    rejectSignal: (signal) => (signal.account === 'withdrawn' ? { field: 'account', error: 'withdrawn' } : undefined),
  });
});
afterEach(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI in-process and collects what it printed. */
async function run(argv: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env: { CROSSLINK_HASH_KEY: KEY, CROSSLINK_HOME: join(dir, 'no-home'), ...env },
    stdout: { write: (text: string) => out.push(text) },
    stderr: { isTTY: false, write: (text: string) => err.push(text) },
  };
  const code = await runCli(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function inputFile(): Promise<string> {
  const path = join(dir, 'signals.csv');
  await writeFile(path, 'account,type,value,observedAt\nacc-1,email,Foo.Bar+x@gmail.com,2026-01-31T12:00:00Z\nwithdrawn,phone,+14155552671,2026-01-31T12:00:00Z\n');
  return path;
}

describe('Function: runCli', () => {
  it('submit sends as the platform from the environment, prints the summary and exits 3 when rows were rejected', async () => {
    const path = await inputFile();

    const result = await run(['submit', path, '--url', fake.url], { CROSSLINK_PLATFORM: 'snapchat', CROSSLINK_PLATFORM_SECRET: SECRETS.snapchat });

    expect(result.code).toBe(EXIT.someRejected);
    expect(result.stdout).toMatch(/2 rows, 1 signals accepted, 1 rejected/);
    expect(result.stdout).toContain(`${path}.rejected.jsonl`);
    expect(result.stdout).toMatch(/1 × account: withdrawn/);
    expect(fake.requests[0].platform).toBe('snapchat');
    expect(fake.requests[0].signals[0].value).toBe(createHmac('sha256', KEY).update('foobar@gmail.com').digest('hex'));
    expect(await readFile(`${path}.rejected.jsonl`, 'utf8')).toContain('"account":"withdrawn"');
  });

  it('submit picks the named platform from a credentials file and prints a JSON summary', async () => {
    const path = await inputFile();
    const credentials = join(dir, 'credentials.json');
    await writeFile(credentials, JSON.stringify({ platforms: Object.entries(SECRETS).map(([id, secret]) => ({ id, secret })), investigatorToken: 'x'.repeat(20) }));

    const result = await run(['submit', path, '--url', fake.url, '--credentials', credentials, '--platform', 'whatsapp', '--json']);

    expect(fake.requests[0].platform).toBe('whatsapp');
    expect(JSON.parse(result.stdout)).toMatchObject({ accepted: 1, rejected: 1, requests: 1 });
  });

  it('submit refuses a credentials file with several platforms when none is named', async () => {
    const path = await inputFile();
    const credentials = join(dir, 'credentials.json');
    await writeFile(credentials, JSON.stringify({ platforms: Object.entries(SECRETS).map(([id, secret]) => ({ id, secret })) }));

    const result = await run(['submit', path, '--url', fake.url, '--credentials', credentials]);

    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toMatch(/holds 2 platforms \(snapchat, whatsapp\): choose one with --platform/);
    expect(fake.attempts).toBe(0);
  });

  it('submit without any credentials says the three ways to give them', async () => {
    const result = await run(['submit', await inputFile(), '--url', fake.url]);

    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toMatch(/--platform and --secret.*CROSSLINK_PLATFORM.*--credentials/);
  });

  it('submit --accounts exits 130 with a message when interrupted (Ctrl-C), as submit of signals does', async () => {
    await fake.close();
    const interrupt = new AbortController();
    fake = await startFakeCrosslink({ secrets: SECRETS, onRequest: () => interrupt.abort(new Error('interrupted')) });
    const path = join(dir, 'accounts.csv');
    await writeFile(path, 'account,reports30d\nu-1,1\nu-2,2\n');
    const err: string[] = [];
    const io: CliIo = {
      env: { CROSSLINK_PLATFORM: 'snapchat', CROSSLINK_PLATFORM_SECRET: SECRETS.snapchat, CROSSLINK_HOME: join(dir, 'no-home') },
      stdout: { write: () => true },
      stderr: { isTTY: false, write: (text: string) => err.push(text) },
      signal: interrupt.signal,
    };

    const code = await runCli(['submit', '--accounts', path, '--url', fake.url, '--batch-size', '1'], io).catch((error: unknown) => error);

    expect(code).toBe(EXIT.interrupted);
    expect(err.join('')).toMatch(/interrupted/);
  });

  it('hash prints the normalised form and the hash of one identifier', async () => {
    const result = await run(['hash', '--type', 'email', 'Foo.Bar+x@gmail.com']);

    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toBe(`type        email\nnormalised  foobar@gmail.com\nvalue       ${createHmac('sha256', KEY).update('foobar@gmail.com').digest('hex')}\n`);
  });

  it('hash also prints the value under the key being retired during a rotation', async () => {
    const oldKey = 'the-old-consortium-key-0000000001';

    const result = await run(['hash', '--type', 'email', '--json', 'a@example.com'], { CROSSLINK_HASH_KEY_PREVIOUS: oldKey });

    expect(JSON.parse(result.stdout)).toEqual({
      type: 'email',
      normalised: 'a@example.com',
      value: createHmac('sha256', KEY).update('a@example.com').digest('hex'),
      previousValue: createHmac('sha256', oldKey).update('a@example.com').digest('hex'),
    });
  });

  it('hash reads a phone number in the default region given by --region', async () => {
    const result = await run(['hash', '--type', 'phone', '--region', 'GB', '--json', '020 7946 0958']);

    expect(JSON.parse(result.stdout)).toMatchObject({ type: 'phone', normalised: '+442079460958' });
  });

  it('hash explains a value that cannot be normalised and exits 1', async () => {
    const result = await run(['hash', '--type', 'email', 'nobody']);

    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toMatch(/email not an email address/);
  });

  it.each([
    [['hash', 'x'], /--type is required/],
    [['hash', '--type', 'shoe', 'x'], /--type must be one of/],
    [['submit'], /exactly one input file/],
    [['submit', 'f.csv', '--batch-size', '501'], /at most 500/],
    [['submit', 'f.csv', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 with a usage message for %j', async (argv, message) => {
    const result = await run(argv);

    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(message);
  });

  it('runs as a command: npx tsx bin/crosslink.ts hash', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'bin/crosslink.ts', 'hash', '--type', 'username', '@John_Doe'], {
      env: { ...process.env, CROSSLINK_HASH_KEY: KEY },
    });

    expect(stdout).toContain('normalised  johndoe');
    expect(stdout).toContain(createHmac('sha256', KEY).update('johndoe').digest('hex'));
  });
});
