#!/usr/bin/env -S npx tsx
/**
 * `npm run dlq -- list|redrive [options]`: the signal dead-letter queue, for operators.
 * Wires the process to lib/ingest/dead-letters-cli.ts (which `crosslink` may also mount as a subcommand).
 */
import { runDlqCommand } from '../lib/ingest/dead-letters-cli.js';

process.exitCode = await runDlqCommand(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
