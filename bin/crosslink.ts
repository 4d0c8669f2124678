#!/usr/bin/env -S npx tsx
/**
 * The `crosslink` command (`npm run crosslink -- ...` or `npx tsx bin/crosslink.ts ...`).
 * Wires the process (argv, env, streams, Ctrl-C) to lib/client/cli.ts.
 */
import { runCli } from '../lib/client/cli.js';

const interrupt = new AbortController();
process.once('SIGINT', () => {
  process.stderr.write('\nstopping: batches in flight are abandoned and sent again on the next run, which Crosslink stores once (Ctrl-C again to quit at once)\n');
  interrupt.abort(new Error('interrupted'));
  process.once('SIGINT', () => process.exit(130));
});

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: interrupt.signal,
});
