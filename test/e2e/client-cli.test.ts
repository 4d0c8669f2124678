/**
 * The `crosslink` command against the real local stack (dynalite, local SQS, the HTTP API), run
 * in-process through `runCli`: raw identifiers submitted, queued, consumed and stored exactly once;
 * an operator adding, rotating and removing a platform; a platform withdrawing and looking up.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli, type CliIo } from '../../lib/client/cli.js';
import { MemberFactsReader } from '../../lib/graph/member-facts.js';
import { dynamoDocumentClient } from '../../lib/runtime/aws/clients.js';
import { investigatorHeaders, startTestStack } from '../support/local-stack.js';

const HASH_KEY = 'consortium-key-for-e2e-tests-0001';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let dir: string;

/** Runs the CLI in-process against the stack and collects what it printed. */
async function crosslink(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env: { CROSSLINK_HASH_KEY: HASH_KEY, CROSSLINK_HOME: stack.home, CROSSLINK_URL: stack.baseUrl, ...env },
    stdout: { write: (text: string) => out.push(text) },
    stderr: { isTTY: false, write: (text: string) => err.push(text) },
  };
  const code = await runCli(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function csvFile(name: string, rows: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `account,type,value,observedAt\n${rows.join('\n')}\n`);
  return path;
}

async function statusSignalsStored(): Promise<number> {
  const response = await fetch(`${stack.baseUrl}/v1/status?count=exact`, { headers: investigatorHeaders(stack) });
  expect(response.status).toBe(200);
  return (await response.json()).signalsStored;
}

const OBSERVED = '2026-11-01T10:00:00Z';
// Raw identifiers as platforms hold them. Two rows of acc-1 are one email once normalised
// (Gmail drops dots and +tags, googlemail is gmail), so they are one signal.
const handPicked = [
  `acc-1,email,Foo.Bar+x@gmail.com,${OBSERVED}`,
  `acc-1,email,foobar@googlemail.com,${OBSERVED}`,
  `acc-1,phone,020 7946 0958,${OBSERVED}`,
  `acc-2,phone,+44 20 7946 0958,${OBSERVED}`,
  `acc-2,device,{6F9619FF-8B86-D011-B42D-00C04FC964FF},${OBSERVED}`,
  `acc-3,device,6f9619ff-8b86-d011-b42d-00c04fc964ff,${OBSERVED}`,
  `"acc 4",email,someone@example.com,${OBSERVED}`,
];
const HAND_PICKED_UNIQUE = 6;
// Enough generated rows for several batches of 500.
const GENERATED = 1_200;
const generated = Array.from({ length: GENERATED }, (_, i) => `gen-${i % 300},email,user${i}@example.org,${OBSERVED}`);
const UNIQUE_SIGNALS = HAND_PICKED_UNIQUE + GENERATED;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crosslink-cli-e2e-'));
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('crosslink submit against the local stack', () => {
  let signalsPath: string;

  it('stores each distinct signal of a file of raw identifiers exactly once', async () => {
    signalsPath = await csvFile('signals.csv', [...handPicked, ...generated]);

    const result = await crosslink(['submit', signalsPath, '--platform', 'chatapp', '--region', 'GB', '--json']);
    await stack.waitForDrain();

    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toMatchObject({ rejected: 0 });
    expect(await stack.core.signals.storedCount()).toBe(UNIQUE_SIGNALS);
    expect(await statusSignalsStored()).toBe(UNIQUE_SIGNALS);
  });

  it('sends nothing when the same finished file is run again', async () => {
    const result = await crosslink(['submit', signalsPath, '--platform', 'chatapp', '--region', 'GB', '--json']);

    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toMatchObject({ alreadyComplete: true, accepted: 0, requests: 0 });
  });

  it('stores nothing new when the whole file is sent again with --restart', async () => {
    const result = await crosslink(['submit', signalsPath, '--platform', 'chatapp', '--region', 'GB', '--restart', '--json']);
    await stack.waitForDrain();

    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout).accepted).toBeGreaterThan(0);
    expect(await stack.core.signals.storedCount()).toBe(UNIQUE_SIGNALS);
    expect(await statusSignalsStored()).toBe(UNIQUE_SIGNALS);
  });
});

describe('crosslink submit --accounts against the local stack', () => {
  it('stores account metadata beside the signals and reports the rows refused', async () => {
    const accountsPath = join(dir, 'accounts.csv');
    await writeFile(
      accountsPath,
      'account,created_at,minor_contacts_7d,reports_30d\nacc-1,2026-10-01T10:00:00Z,14,2\nacc-2,1790000000,,0\nacc-3,2026-10-01T10:00:00Z,-1,0\n',
    );
    const path = await csvFile('with-accounts.csv', [`acc-1,username,@Acc_One,${OBSERVED}`]);

    const result = await crosslink(['submit', path, '--accounts', accountsPath, '--platform', 'chatapp']);
    await stack.waitForDrain();

    expect(result.code).toBe(EXIT.someRejected);
    expect(result.stdout).toMatch(/accounts.csv: 3 rows, 2 account records accepted, 1 rejected, in 1 requests\n {2}row 3 \(line 4\) minorContacts7d: must not be negative/);
    const facts = await new MemberFactsReader(dynamoDocumentClient({ dynamodb: stack.servers.dynamodbEndpoint }), stack.core.config.tableName).facts([
      { platform: 'chatapp', account: 'acc-1' },
      { platform: 'chatapp', account: 'acc-2' },
    ]);
    expect(facts).toEqual([
      { platform: 'chatapp', account: 'acc-1', createdAt: '2026-10-01T10:00:00Z', minorContacts7d: 14, reports30d: 2 },
      { platform: 'chatapp', account: 'acc-2', createdAt: new Date(1_790_000_000_000).toISOString(), minorContacts7d: null, reports30d: 0 },
    ]);
  });
});

describe('crosslink platform: an operator manages platform credentials', () => {
  let firstSecret: string;
  let secondSecret: string;
  const operator = () => ['--credentials', stack.credentialsPath];

  it('adds a platform, prints its secret once with the handover advice, and the secret signs submissions', async () => {
    const added = await crosslink(['platform', 'add', 'newapp', '--requests-per-minute', '600', ...operator()]);
    firstSecret = /^secret {2}([0-9a-f]{64})$/m.exec(added.stdout)?.[1] ?? '';
    const path = await csvFile('newapp.csv', [`n-1,email,new.person@example.com,${OBSERVED}`]);

    const submitted = await crosslink(['submit', path, '--platform', 'newapp', '--secret', firstSecret]);

    expect(added.code, added.stderr).toBe(EXIT.ok);
    expect(firstSecret).toHaveLength(64);
    expect(added.stdout).toMatch(/over a secure channel/);
    expect(submitted.code, submitted.stderr).toBe(EXIT.ok);
    const listed = await crosslink(['platform', 'list', '--json', ...operator()]);
    expect(JSON.parse(listed.stdout).platforms).toContainEqual({ id: 'newapp', rotating: false, requestsPerMinute: 600 });
  });

  it('rotates a secret: the old and the new one both sign during the grace period', async () => {
    const rotated = await crosslink(['platform', 'rotate', 'newapp', '--json', ...operator()]);
    secondSecret = JSON.parse(rotated.stdout).secret;
    const path = await csvFile('newapp-2.csv', [`n-2,email,other.person@example.com,${OBSERVED}`]);

    const withNew = await crosslink(['submit', path, '--platform', 'newapp', '--secret', secondSecret]);
    const withOld = await crosslink(['lookup', 'n-1', '--platform', 'newapp', '--secret', firstSecret]);

    expect(rotated.code, rotated.stderr).toBe(EXIT.ok);
    expect(rotated.stderr).toMatch(/over a secure channel/);
    expect(secondSecret).not.toBe(firstSecret);
    expect(withNew.code, withNew.stderr).toBe(EXIT.ok);
    expect(withOld.code, withOld.stderr).toBe(EXIT.ok);
    const listed = await crosslink(['platform', 'list', '--json', ...operator()]);
    expect(JSON.parse(listed.stdout).platforms).toContainEqual({ id: 'newapp', rotating: true, requestsPerMinute: 600 });
  });

  it('removes a platform: its signatures are refused with 401 at once', async () => {
    const removed = await crosslink(['platform', 'remove', 'newapp', ...operator()]);

    const lookup = await crosslink(['lookup', 'n-1', '--platform', 'newapp', '--secret', secondSecret]);

    expect(removed.code, removed.stderr).toBe(EXIT.ok);
    expect(lookup.code).toBe(EXIT.failed);
    expect(lookup.stderr).toMatch(/Crosslink answered 401/);
  });

  it('says what is wrong on 404 and 409, with the server message', async () => {
    const removeAgain = await crosslink(['platform', 'remove', 'newapp', ...operator()]);
    const addExisting = await crosslink(['platform', 'add', 'chatapp', ...operator()]);

    expect(removeAgain.code).toBe(EXIT.failed);
    expect(removeAgain.stderr).toMatch(/404 .*no platform newapp/);
    expect(addExisting.code).toBe(EXIT.failed);
    expect(addExisting.stderr).toMatch(/409 .*platform chatapp exists already: rotate its secret instead/);
  });

  it('refuses a wrong token with 401 and an investigator token with 403, saying what to check', async () => {
    const wrong = await crosslink(['platform', 'list', '--token', 'not-the-operator-token-0000']);
    const investigator = await crosslink(['platform', 'list'], { CROSSLINK_OPERATOR_TOKEN: stack.credentials.investigatorToken });

    expect(wrong.code).toBe(EXIT.failed);
    expect(wrong.stderr).toMatch(/401 .*\n.*operator token was not accepted/);
    expect(investigator.code).toBe(EXIT.failed);
    expect(investigator.stderr).toMatch(/403 .*\n.*does not carry the operator role/);
  });
});

describe('crosslink withdraw, lookup and key retire', () => {
  it('looks up an account that is in no cross-platform cluster', async () => {
    const result = await crosslink(['lookup', 'acc-1', '--platform', 'chatapp']);

    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toBe('account acc-1 is not in a cross-platform cluster\n');
  });

  it('looks up an account in a cluster with another platform once detection has run, without naming the other platform', async () => {
    const path = await csvFile('photoshare.csv', [`ps-1,email,f.o.o.b.a.r@gmail.com,${OBSERVED}`, `ps-1,phone,+442079460958,${OBSERVED}`]);
    expect((await crosslink(['submit', path, '--platform', 'photoshare'])).code).toBe(EXIT.ok);
    await stack.waitForDrain();
    const detect = await fetch(`${stack.baseUrl}/v1/detect?mode=full`, { method: 'POST', headers: investigatorHeaders(stack) });
    await stack.waitForRun((await detect.json()).runId);

    const result = await crosslink(['lookup', 'acc-1', '--platform', 'chatapp', '--json']);

    expect(result.code, result.stderr).toBe(EXIT.ok);
    const lookup = JSON.parse(result.stdout);
    expect(lookup).toMatchObject({ account: 'acc-1', inCrossPlatformCluster: true, cluster: { platformCount: 2 } });
    expect(lookup.cluster.yourAccounts).toContain('acc-1');
    expect(result.stdout).not.toContain('ps-1');
  });

  it('withdraws an account whose id needs escaping in the URL, deleting its signals', async () => {
    const before = await stack.core.signals.storedCount();

    const result = await crosslink(['withdraw', 'acc 4', '--platform', 'chatapp', '--json']);

    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(JSON.parse(result.stdout)).toMatchObject({ account: 'acc 4', withdrawn: true, signalsDeleted: 1 });
    expect(await stack.core.signals.storedCount()).toBe(before - 1);
  });

  it('retires a hashing key id, deleting the signals stamped with it', async () => {
    const path = await csvFile('old-key.csv', [`g-1,email,old.key@example.com,${OBSERVED}`, `g-2,username,@Old_Key,${OBSERVED}`]);
    expect((await crosslink(['submit', path, '--platform', 'gamehub', '--key-id', 'k2025'])).code).toBe(EXIT.ok);
    await stack.waitForDrain();

    const result = await crosslink(['key', 'retire', 'k2025', '--credentials', stack.credentialsPath]);

    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toBe('retired hashing key id k2025: 2 signals deleted\n');
  });
});
