/**
 * The `crosslink` command line: `submit`, `hash`, `withdraw` and `lookup` for platforms;
 * `platform ...` and `key retire` for operators. Flags are read here, once, into typed
 * options; the work happens in submit.ts and hash.ts. `bin/crosslink.ts` only wires the process.
 */
import { parseArgs } from 'node:util';
import { accountIdSchema, SIGNAL_TYPES, type SignalType } from '../contract/signals.js';
import type { PlatformLookup } from '../reports/platform-lookup.js';
import { CrosslinkError } from '../errors.js';
import { resolveOperatorToken, resolvePlatformCredentials } from './credentials.js';
import { NormalisationError, SubmitInterruptedError } from './errors.js';
import { hasherFromEnv, PREVIOUS_HASH_KEY_ENV } from './hash.js';
import type { InputFormat } from './input.js';
import { terminalProgress, type ProgressStream } from './progress.js';
import { formatAccountsSummary, submitAccountsFile } from './accounts.js';
import { OperatorClient, type PlatformSummary } from './operator.js';
import { formatSummary, submitFile } from './submit.js';
import { accountRequestPath, SignalsTransport } from './transport.js';

/** The default API when neither `--url` nor `CROSSLINK_URL` is given: the local stack. */
export const DEFAULT_URL = 'http://localhost:8787';

/** Exit codes, so that scripts can tell outcomes apart. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** The whole file was settled but some rows were rejected (see the rejected file). */
  someRejected: 3,
  interrupted: 130,
} as const;

/** The process around the CLI, injected so that tests run it in-process. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
  /** Aborts a running submit (the bin wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** Injected for tests. */
  fetch?: typeof fetch;
}

const USAGE = `crosslink: the Crosslink platform client

  crosslink submit FILE [options]     normalise, hash, batch, sign and send a CSV or JSON Lines file
  crosslink hash --type TYPE VALUE    print the normalised form and the hashed value of one identifier
  crosslink withdraw ACCOUNT          delete one of your accounts' signals (DELETE /v1/accounts?account=ACCOUNT)
  crosslink lookup ACCOUNT            is one of your accounts in a cross-platform cluster? (GET /v1/lookup?account=ACCOUNT)

operator commands (bearer token: --token, env CROSSLINK_OPERATOR_TOKEN, or "operatorToken" of --credentials):
  crosslink platform list                                   list platforms (never their secrets)
  crosslink platform add ID [--requests-per-minute N]       add a platform and print its secret once
  crosslink platform rotate ID                              issue a new secret; the old one works 24 h more
  crosslink platform remove ID                              remove a platform: its signatures are refused at once
  crosslink key retire KEY_ID                               delete every signal stamped with a retired hashing key id

submit options:
  --url URL             Crosslink API base URL (env CROSSLINK_URL, default ${DEFAULT_URL})
  --platform ID         platform id (env CROSSLINK_PLATFORM)
  --secret SECRET       platform signing secret (env CROSSLINK_PLATFORM_SECRET; prefer the env or a file)
  --credentials PATH    credentials.json {"platforms":[{"id","secret"}]} (default $CROSSLINK_HOME/credentials.json when present)
  --format csv|jsonl    input format (default from the extension)
  --hashed              every value is already a 64-hex HMAC (else a 'hashed' column may say so per row)
  --key-id ID           consortium key id stamped on each signal (env CROSSLINK_HASH_KEY_ID)
  --previous-key-id ID  during a key rotation: also send each raw row hashed under the old key
                        CROSSLINK_HASH_KEY_PREVIOUS, stamped ID (env CROSSLINK_HASH_KEY_PREVIOUS_ID)
  --region CC           default region for phone numbers without a country code (env CROSSLINK_DEFAULT_REGION)
  --concurrency N       batches in flight (default 2)
  --batch-size N        signals per request, at most 500 (default 500)
  --max-attempts N      attempts per batch before giving up (default 8)
  --rejected PATH       where rejected rows go (default FILE.rejected.jsonl)
  --checkpoint PATH     the resume checkpoint (default FILE.crosslink-checkpoint.json)
  --restart             ignore the checkpoint and send from the first row
  --accounts PATH       also send account metadata (CSV/JSONL: account,createdAt,minorContacts7d,reports30d),
                        used for risk only; FILE may then be left out
  --json                print the summary as JSON on stdout (one line per file)

withdraw and lookup take --url, --platform, --secret, --credentials, --max-attempts and --json as submit does.
operator commands take --url, --token, --credentials and --json.

hash options:
  --type TYPE           ${SIGNAL_TYPES.join(', ')}
  --region CC           default region for phone numbers
  --json                print {"type","normalised","value"} as JSON

The consortium hashing key comes from CROSSLINK_HASH_KEY and is never sent.
Exit codes: 0 all accepted, 3 done with rejected rows, 1 failed, 2 usage, 130 interrupted.
`;

/**
 * Runs one CLI invocation and returns its exit code.
 *
 * @example
 * const code = await runCli(['hash', '--type', 'email', 'Foo.Bar+x@gmail.com'], { env: process.env, stdout: process.stdout, stderr: process.stderr });
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'submit') return await submitCommand(rest, io);
    if (command === 'hash') return hashCommand(rest, io);
    if (command === 'withdraw' || command === 'lookup') return await accountCommand(command, rest, io);
    if (command === 'platform') return await platformCommand(rest, io);
    if (command === 'key') return await keyCommand(rest, io);
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout.write(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    io.stderr.write(`crosslink: unknown command "${command}"\n\n${USAGE}`);
    return EXIT.usage;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`crosslink ${command}: ${error.message}\n(crosslink help for the options)\n`);
      return EXIT.usage;
    }
    if (error instanceof SubmitInterruptedError) {
      io.stderr.write(`\ncrosslink ${command}: ${error.message}\n`);
      return EXIT.interrupted;
    }
    // Only submitFile turns an abort into SubmitInterruptedError; elsewhere (accounts, withdraw,
    // lookup) the abort reason itself surfaces, which is an interruption all the same.
    if (io.signal?.aborted && !(error instanceof CrosslinkError)) {
      io.stderr.write(`\ncrosslink ${command}: interrupted before it finished\n`);
      return EXIT.interrupted;
    }
    if (error instanceof CrosslinkError) {
      io.stderr.write(`\ncrosslink ${command}: ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
}

class UsageError extends Error {}

/** Runs parseArgs, turning its complaints (unknown flag, missing value) into usage errors. */
function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positiveInteger(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${flag} must be a whole number of 1 or more, got "${text}"`);
  return value;
}

function signalType(text: string | undefined): SignalType {
  if (!text) throw new UsageError(`--type is required: one of ${SIGNAL_TYPES.join(', ')}`);
  const type = text.trim().toLowerCase();
  if (!(SIGNAL_TYPES as readonly string[]).includes(type)) throw new UsageError(`--type must be one of ${SIGNAL_TYPES.join(', ')}, got "${text}"`);
  return type as SignalType;
}

function hashCommand(args: string[], io: CliIo): number {
  const { values, positionals } = asUsage(() =>
    parseArgs({
      args,
      allowPositionals: true,
      options: { type: { type: 'string' }, region: { type: 'string' }, json: { type: 'boolean' } },
    }),
  );
  const type = signalType(values.type);
  if (positionals.length !== 1) throw new UsageError('give exactly one value to hash (quote it if it has spaces)');
  const region = values.region ?? io.env.CROSSLINK_DEFAULT_REGION;
  let hashed;
  try {
    hashed = hasherFromEnv(io.env, { defaultRegion: region }).hash(type, positionals[0]);
  } catch (error) {
    if (error instanceof NormalisationError) {
      io.stderr.write(`crosslink hash: ${type} ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
  // During a rotation the analyst may be matching a value made under the key being retired.
  const previousValue = io.env[PREVIOUS_HASH_KEY_ENV] && type !== 'photo_pdq' ? hasherFromEnv(io.env, { defaultRegion: region }, PREVIOUS_HASH_KEY_ENV).hash(type, positionals[0]).value : undefined;
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ ...hashed, ...(previousValue ? { previousValue } : {}) })}\n`);
  } else {
    io.stdout.write(`type        ${hashed.type}\nnormalised  ${hashed.normalised}\nvalue       ${hashed.value}\n`);
    if (previousValue) io.stdout.write(`previous    ${previousValue}  (under ${PREVIOUS_HASH_KEY_ENV})\n`);
    if (type === 'photo_pdq') io.stdout.write('(a PDQ hash is sent as it is, not hashed again)\n');
  }
  return EXIT.ok;
}

async function submitCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = asUsage(() =>
    parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...PLATFORM_OPTIONS,
        format: { type: 'string' },
        hashed: { type: 'boolean' },
        'key-id': { type: 'string' },
        'previous-key-id': { type: 'string' },
        region: { type: 'string' },
        concurrency: { type: 'string' },
        'batch-size': { type: 'string' },
        rejected: { type: 'string' },
        checkpoint: { type: 'string' },
        restart: { type: 'boolean' },
        accounts: { type: 'string' },
      },
    }),
  );
  const accountsPath = values.accounts;
  if (positionals.length > 1 || (positionals.length === 0 && !accountsPath)) {
    throw new UsageError('give exactly one input file: crosslink submit FILE [--accounts ACCOUNTS_FILE] (or only --accounts ACCOUNTS_FILE)');
  }
  if (values.format !== undefined && values.format !== 'csv' && values.format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got "${values.format}"`);
  const batchSize = positiveInteger('batch-size', values['batch-size'], 500);
  if (batchSize > 500) throw new UsageError('--batch-size must be at most 500, the contract limit');

  const { url, transport } = platformTransport(values, io);
  const region = values.region ?? io.env.CROSSLINK_DEFAULT_REGION;
  const previousKeyId = values['previous-key-id'] ?? io.env.CROSSLINK_HASH_KEY_PREVIOUS_ID;
  let signalsRejected = false;
  if (positionals.length === 1) {
    const progress = terminalProgress(io.stderr);
    try {
      const summary = await submitFile({
        inputPath: positionals[0],
        format: values.format as InputFormat | undefined,
        transport,
        url,
        hasher: () => hasherFromEnv(io.env, { defaultRegion: region }),
        allHashed: values.hashed,
        keyId: values['key-id'] ?? io.env.CROSSLINK_HASH_KEY_ID,
        previousKey: previousKeyId ? { keyId: previousKeyId, hasher: () => hasherFromEnv(io.env, { defaultRegion: region }, PREVIOUS_HASH_KEY_ENV) } : undefined,
        maxSignalsPerBatch: batchSize,
        concurrency: positiveInteger('concurrency', values.concurrency, 2),
        rejectedPath: values.rejected,
        checkpointPath: values.checkpoint,
        restart: values.restart,
        signal: io.signal,
        onProgress: progress.update,
      });
      if (values.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
      else io.stdout.write(`${formatSummary(summary)}\n`);
      signalsRejected = summary.rejected > 0;
    } finally {
      progress.finish();
    }
  }
  if (!accountsPath) return signalsRejected ? EXIT.someRejected : EXIT.ok;
  const accounts = await submitAccountsFile({ inputPath: accountsPath, transport, maxAccountsPerBatch: batchSize, signal: io.signal });
  if (values.json) io.stdout.write(`${JSON.stringify({ accounts })}\n`);
  else io.stdout.write(`${formatAccountsSummary(accounts)}\n`);
  return signalsRejected || accounts.rejected.length > 0 ? EXIT.someRejected : EXIT.ok;
}

/** The flags of every command that signs as a platform. */
const PLATFORM_OPTIONS = {
  url: { type: 'string' },
  platform: { type: 'string' },
  secret: { type: 'string' },
  credentials: { type: 'string' },
  'max-attempts': { type: 'string' },
  json: { type: 'boolean' },
} as const;

function platformTransport(
  values: { url?: string; platform?: string; secret?: string; credentials?: string; 'max-attempts'?: string },
  io: CliIo,
): { url: string; transport: SignalsTransport } {
  const url = values.url ?? io.env.CROSSLINK_URL ?? DEFAULT_URL;
  const credentials = resolvePlatformCredentials({ platform: values.platform, secret: values.secret, credentialsPath: values.credentials }, io.env);
  const transport = new SignalsTransport({
    baseUrl: url,
    ...credentials,
    fetch: io.fetch,
    retry: { maxAttempts: positiveInteger('max-attempts', values['max-attempts'], 8) },
  });
  return { url, transport };
}

function oneAccount(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`give exactly one account id: crosslink ${command} ACCOUNT`);
  const parsed = accountIdSchema.safeParse(positionals[0]);
  if (!parsed.success) throw new UsageError(`account ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** `crosslink withdraw ACCOUNT` and `crosslink lookup ACCOUNT`: signed as the platform, like submit. */
async function accountCommand(command: 'withdraw' | 'lookup', args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = asUsage(() => parseArgs({ args, allowPositionals: true, options: PLATFORM_OPTIONS }));
  const account = oneAccount(command, positionals);
  const { transport } = platformTransport(values, io);
  const answer = await transport.requestBodiless(command === 'withdraw' ? 'DELETE' : 'GET', accountRequestPath(command, account), io.signal);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(answer)}\n`);
    return EXIT.ok;
  }
  io.stdout.write(command === 'withdraw' ? describeWithdrawal(transport.platform, account, answer) : describeLookup(account, answer));
  return EXIT.ok;
}

function describeWithdrawal(platform: string, account: string, answer: unknown): string {
  const deleted = (answer as { signalsDeleted?: unknown }).signalsDeleted;
  return `withdrew ${platform} account ${account}: ${typeof deleted === 'number' ? `${deleted} signals deleted` : 'done'}; it leaves clusters and reports after the next detection run\n`;
}

function describeLookup(account: string, answer: unknown): string {
  const lookup = answer as Partial<PlatformLookup>;
  if (!lookup.inCrossPlatformCluster || !lookup.cluster) return `account ${account} is not in a cross-platform cluster\n`;
  const { cluster } = lookup;
  return [
    `account ${account} is in a cross-platform cluster`,
    `risk           ${cluster.risk}`,
    `size           ${cluster.size} accounts on ${cluster.platformCount} platforms`,
    `your accounts  ${cluster.yourAccounts.join(', ')}`,
    `detected at    ${cluster.detectedAt}`,
    '',
  ].join('\n');
}

const OPERATOR_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  credentials: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function operatorClient(values: { url?: string; token?: string; credentials?: string }, io: CliIo): OperatorClient {
  const token = resolveOperatorToken({ token: values.token, credentialsPath: values.credentials }, io.env);
  return new OperatorClient({ baseUrl: values.url ?? io.env.CROSSLINK_URL ?? DEFAULT_URL, token, fetch: io.fetch });
}

/** Says how to hand a new secret over; printed with every secret, which Crosslink shows only once. */
const SECRET_HANDOVER =
  'Hand this secret to the platform over a secure channel (a password manager share or an encrypted message, not plain email or chat).\n' +
  'Crosslink will not show it again. A deployment accepts it within its credentials cache time (5 minutes).';

/** `crosslink platform list|add|rotate|remove`. */
async function platformCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = asUsage(() =>
    parseArgs({ args: rest, allowPositionals: true, options: { ...OPERATOR_OPTIONS, 'requests-per-minute': { type: 'string' } } }),
  );
  if (action === undefined || !['list', 'add', 'rotate', 'remove'].includes(action)) {
    throw new UsageError(`say what to do: crosslink platform list|add ID|rotate ID|remove ID${action ? ` (not "${action}")` : ''}`);
  }
  if (values['requests-per-minute'] !== undefined && action !== 'add') throw new UsageError('--requests-per-minute goes with platform add');
  if (action === 'list') {
    if (positionals.length > 0) throw new UsageError('platform list takes no arguments');
    const platforms = await operatorClient(values, io).listPlatforms();
    if (values.json) io.stdout.write(`${JSON.stringify({ platforms })}\n`);
    else io.stdout.write(formatPlatforms(platforms));
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`give exactly one platform id: crosslink platform ${action} ID`);
  const id = positionals[0];
  const operator = operatorClient(values, io);
  if (action === 'add') {
    const requestsPerMinute = values['requests-per-minute'] === undefined ? undefined : positiveInteger('requests-per-minute', values['requests-per-minute'], 0);
    const issued = await operator.addPlatform(id, { requestsPerMinute });
    if (values.json) io.stdout.write(`${JSON.stringify(issued)}\n`);
    else io.stdout.write(`added platform ${issued.id}\nsecret  ${issued.secret}\n${SECRET_HANDOVER}\n`);
    if (values.json) io.stderr.write(`${SECRET_HANDOVER}\n`);
    return EXIT.ok;
  }
  if (action === 'rotate') {
    const rotated = await operator.rotatePlatform(id);
    if (values.json) io.stdout.write(`${JSON.stringify(rotated)}\n`);
    else io.stdout.write(`rotated the secret of ${rotated.id}\nsecret  ${rotated.secret}\nthe previous secret keeps working until ${rotated.previousSecretExpiresAt}\n${SECRET_HANDOVER}\n`);
    if (values.json) io.stderr.write(`${SECRET_HANDOVER}\n`);
    return EXIT.ok;
  }
  await operator.removePlatform(id);
  if (values.json) io.stdout.write(`${JSON.stringify({ id, removed: true })}\n`);
  else io.stdout.write(`removed platform ${id}: its signatures are refused from now on; its stored signals stay until withdrawn or expired\n`);
  return EXIT.ok;
}

function formatPlatforms(platforms: PlatformSummary[]): string {
  if (platforms.length === 0) return 'no platforms\n';
  const width = Math.max(8, ...platforms.map((p) => p.id.length));
  const lines = platforms.map((p) => `${p.id.padEnd(width)}  ${String(p.requestsPerMinute ?? 'default').padEnd(13)}  ${p.rotating ? 'yes' : 'no'}`);
  return `${'platform'.padEnd(width)}  requests/min   rotating\n${lines.join('\n')}\n`;
}

/** `crosslink key retire KEY_ID`. */
async function keyCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = asUsage(() => parseArgs({ args: rest, allowPositionals: true, options: OPERATOR_OPTIONS }));
  if (action !== 'retire') throw new UsageError(`say what to do: crosslink key retire KEY_ID${action ? ` (not "${action}")` : ''}`);
  if (positionals.length !== 1) throw new UsageError('give exactly one key id: crosslink key retire KEY_ID');
  const retired = await operatorClient(values, io).retireKey(positionals[0]);
  if (values.json) io.stdout.write(`${JSON.stringify(retired)}\n`);
  else io.stdout.write(`retired hashing key id ${retired.keyId}: ${retired.signalsDeleted} signals deleted\n`);
  return EXIT.ok;
}
