/**
 * `npm run bench:ingest [-- --seconds 20 --clients 16 --signals-per-post 500 --workers 4]`: concurrent
 * signed platform clients against a fresh local stack for a bounded time. Reports accepted signals per
 * second end to end (first request to every accepted signal stored in DynamoDB and the queue drained),
 * p50/p99 request latency, and, in the same run and against the same DynamoDB server, the raw
 * BatchWriteItem rate of as many equivalent signal items, as the ratio pipeline/raw. 500 signals per post is
 * what `crosslink submit` sends by default; 4 worker loops stand for Lambda running several consumers.
 * Exits 1 unless every accepted signal is stored exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack } from '../lib/runtime/local/local-stack.js';
import { hashed, OBSERVED_AT } from '../test/support/factories.js';
import { compareStored, runSignedLoad, scanStoredSignals } from '../test/support/ingest-load.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    clients: { type: 'string', default: '16' },
    'signals-per-post': { type: 'string', default: '500' },
    workers: { type: 'string', default: '4' },
  },
});
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const signalsPerPost = Number(values['signals-per-post']);
const workers = Number(values.workers);
for (const [name, value] of Object.entries({ seconds, clients, 'signals-per-post': signalsPerPost, workers })) {
  if (!(Number.isFinite(value) && value > 0)) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
}

const RAW_BEFORE_ITEMS = 10_000;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const home = mkdtempSync(join(tmpdir(), 'crosslink-bench-ingest-'));
const stack = await startLocalStack({ home, port: 0, quietDetectMs: 0, logLevel: 'SILENT', requestsPerMinute: 10_000_000, workerConcurrency: workers });
let exitCode = 0;
try {
  const platform = stack.credentials.platforms[0]!;

  // Raw BatchWriteItem: `count` equivalent signal items straight into the same server
  // (SignalRepository.putSignals, 25 items per call) from as many concurrent writers as there are clients.
  const rawRuns: Array<{ label: string; count: number; seconds: number }> = [];
  const rawWrite = async (count: number, label: string) => {
    let next = 0;
    const receivedAt = new Date().toISOString();
    const rawStarted = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (;;) {
          const first = next;
          next += signalsPerPost;
          if (first >= count) return;
          const signals = Array.from({ length: Math.min(signalsPerPost, count - first) }, (_, i) => {
            const account = `${label}-${first + i}`;
            return { account, type: 'email' as const, value: hashed(account), observedAt: OBSERVED_AT };
          });
          await stack.core.signals.putSignals(platform.id, signals, { receivedAt, storedAt: new Date().toISOString(), expiresAtSeconds: Math.floor(Date.now() / 1000) + 86_400 });
        }
      }),
    );
    rawRuns.push({ label, count, seconds: (performance.now() - rawStarted) / 1000 });
  };
  // Measured before and after the pipeline, because a shared machine's spare CPU drifts during a run.
  await rawWrite(RAW_BEFORE_ITEMS, 'raw-before');

  // Pipeline: HTTP (sign, verify, validate, enqueue) -> SQS -> worker -> consumer -> DynamoDB.
  const started = performance.now();
  const load = await runSignedLoad({ baseUrl: stack.baseUrl, platform, clients, signalsPerPost, label: 'bench', durationMs: seconds * 1000 });
  const postingSeconds = (performance.now() - started) / 1000;
  // Drained means every message deleted, and the worker deletes a message only once it is stored.
  await stack.waitForDrain(300_000);
  const pipelineSeconds = (performance.now() - started) / 1000;
  const storedCount = await stack.core.signals.storedCount();
  const stored = await scanStoredSignals(stack.servers.dynamodbEndpoint, stack.core.config.tableName);
  const comparison = compareStored(load.accepted, stored, (key) => key.includes('|bench-'));
  const pipelineRate = load.accepted.size / pipelineSeconds;

  await rawWrite(load.accepted.size, 'raw-after');
  const rawRate = rawRuns.reduce((sum, run) => sum + run.count, 0) / rawRuns.reduce((sum, run) => sum + run.seconds, 0);
  const latencies = [...load.latenciesMs].sort((a, b) => a - b);
  console.log(`ingest bench: ${clients} signed clients x ${signalsPerPost} signals per post for ${seconds} s, ${workers} queue worker loops (local stack, one process)`);
  console.log('');
  console.log('| path | signals | seconds | signals/s | notes |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(
    `| pipeline (HTTP -> SQS -> consumer -> DynamoDB) | ${load.accepted.size} | ${pipelineSeconds.toFixed(2)} | ${pipelineRate.toFixed(0)} | posting ${postingSeconds.toFixed(2)} s, drained ${(pipelineSeconds - postingSeconds).toFixed(2)} s later; ${latencies.length} requests, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms; answers ${JSON.stringify(load.answers)} |`,
  );
  for (const run of rawRuns) {
    console.log(`| ${run.label} BatchWriteItem, ${clients} writers | ${run.count} | ${run.seconds.toFixed(2)} | ${(run.count / run.seconds).toFixed(0)} | same DynamoDB server, same run |`);
  }
  console.log('');
  console.log(`pipeline/raw: ${((pipelineRate / rawRate) * 100).toFixed(0)}% (pipeline ${pipelineRate.toFixed(0)}/s over raw ${rawRate.toFixed(0)}/s, both raw runs together)`);
  console.log(
    `loss check: accepted ${comparison.accepted}, stored ${comparison.stored} (storedCount ${storedCount - RAW_BEFORE_ITEMS} beside the raw-before items), missing ${comparison.missing}, stored twice ${comparison.storedTwice}, stored but not accepted ${comparison.notAccepted}, posts abandoned ${load.abandonedPosts}`,
  );
  if (storedCount - RAW_BEFORE_ITEMS !== comparison.accepted || comparison.missing !== 0 || comparison.storedTwice !== 0 || comparison.notAccepted !== 0 || comparison.stored !== comparison.accepted) {
    console.error('FAIL: accepted signals were lost or duplicated');
    exitCode = 1;
  } else {
    console.log('zero loss: every accepted signal stored exactly once');
  }
} finally {
  await stack.stop();
  rmSync(home, { recursive: true, force: true });
}
process.exit(exitCode);
