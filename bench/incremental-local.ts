/**
 * `npm run bench:incremental [accounts] [rounds]`: on the local stack (dynalite + local SQS, the same
 * handlers as Lambda), a full detection run over the benchmark world; then 1% new signals stored
 * through the consumer path and a full run; then `rounds` times (default 3) another 1% (drawn the same
 * way) and an incremental run; then one more round with the coordinator's memory dropped first (as in a
 * container started since: the kept graph read back from the table and indexed afresh); then a full
 * run over the same data, which must change nothing. The
 * measured runs do the same job (take in 1% new signals and rewrite what it changes), one fully and
 * the others incrementally. Prints the times and the ratio of the full run to the median incremental one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import type { IngestMessage } from '../lib/contract/signals.js';
import type { Membership } from '../lib/detect/model.js';
import { startLocalStack } from '../lib/runtime/local/local-stack.js';
import { generateWorld, onePercentDrawer } from './world.js';

const accountsWanted = Number(process.argv[2] ?? 100_000);
/** Incremental runs measured, each after its own 1% (default 3); the median is compared. */
const rounds = Number(process.argv[3] ?? 3);
const home = mkdtempSync(join(tmpdir(), 'crosslink-bench-incremental-'));
// Warnings shown: a task that fails comes back after the queue's 5-minute visibility timeout, which would otherwise look like a stall.
const stack = await startLocalStack({ home, port: 0, quietDetectMs: 0, logLevel: 'WARN' });
const world = generateWorld({ accounts: accountsWanted, seed: 42, actorShare: 0.02 });

function messagesOf(memberships: Membership[], tag: string): IngestMessage[] {
  const byPlatform = new Map<string, Membership[]>();
  for (const m of memberships) {
    const platform = m.account.slice(0, m.account.indexOf('#'));
    const list = byPlatform.get(platform);
    if (list) list.push(m);
    else byPlatform.set(platform, [m]);
  }
  const messages: IngestMessage[] = [];
  for (const [platform, list] of byPlatform) {
    for (let start = 0; start < list.length; start += 50) {
      messages.push({
        v: 1,
        platform,
        requestId: `${tag}-${platform}-${start}`,
        receivedAt: new Date().toISOString(),
        signals: list.slice(start, start + 50).map((m) => ({
          account: m.account.slice(m.account.indexOf('#') + 1),
          type: m.type,
          value: m.value,
          observedAt: new Date(m.observedAtMs).toISOString(),
        })),
        accounts: [],
      });
    }
  }
  return messages;
}

async function store(messages: IngestMessage[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      // Received as it is stored, as the API does (a message stored over a minute after receipt is written as a late one).
      while (next < messages.length) await stack.core.messageStore.store(JSON.stringify({ ...messages[next++], receivedAt: new Date().toISOString() }));
    }),
  );
  return performance.now() - started;
}

async function run(mode: 'full' | 'auto') {
  const started = performance.now();
  // What the run cost the machine besides its time: this process's CPU (every thread) and the DynamoDB server thread's share of it.
  const cpuBefore = process.cpuUsage();
  const serverBefore = stack.servers.dynamoBusyMs();
  const { runId } = await stack.core.runner.start('on-demand', mode);
  await stack.core.runner.execute(runId);
  const record = await stack.waitForRun(runId, 3_600_000);
  if (record.status !== 'succeeded') throw new Error(`run ${runId} ${record.status}: ${record.error}`);
  const cpu = process.cpuUsage(cpuBefore);
  return { ms: performance.now() - started, record, cpuMs: (cpu.user + cpu.system) / 1000, serverMs: stack.servers.dynamoBusyMs() - serverBefore };
}

try {
  console.log(`world: ${world.accounts.size} accounts, ${world.memberships.length} memberships`);
  const loadMs = await store(messagesOf(world.memberships, 'base'));
  console.log(`stored through the consumer path in ${(loadMs / 1000).toFixed(1)} s (${Math.round(world.memberships.length / (loadMs / 1000))} signals/s)`);
  const first = await run('full');

  // 1% new signals: existing accounts and new profiles of existing people and actors reusing identifiers.
  const onePercent = onePercentDrawer(world);
  await store(messagesOf(onePercent('new'), 'delta-full'));
  const fullAfterNew = await run('full');
  // Incremental rounds, each after another 1% (the median is the figure: one run varies by 10-20% here).
  const incrementals: Array<Awaited<ReturnType<typeof run>>> = [];
  for (let round = 1; round <= rounds; round++) {
    await store(messagesOf(onePercent(round === 1 ? 'more' : `more${round}`), `delta-incremental-${round}`));
    // PROFILE_INCREMENTAL=<file.cpuprofile>: a CPU profile of the handlers' thread during incremental round PROFILE_ROUND (default 1).
    const profile = round === Number(process.env.PROFILE_ROUND ?? 1) ? process.env.PROFILE_INCREMENTAL : undefined;
    const session = profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    incrementals.push(await run('auto'));
    if (session && profile) writeFileSync(profile, JSON.stringify((await session.post('Profiler.stop')).profile));
  }
  const incremental = [...incrementals].sort((x, y) => x.ms - y.ms)[Math.floor(incrementals.length / 2)];
  // One more round as a container started since would run it: the kept graph read back from the table and indexed afresh.
  await store(messagesOf(onePercent('cold'), 'delta-incremental-cold'));
  stack.core.runner.forgetKeptGraph();
  const cold = await run('auto');
  const full = await run('full');

  const rows = [
    ['first full run', first],
    ['full run after 1% new', fullAfterNew],
    ...incrementals.map((result, n) => [`incremental after 1% more (${n + 1})`, result] as const),
    ['incremental, cold (graph read)', cold],
    ['full run, same data', full],
  ] as const;
  console.log('\nrun                              mode          time (s)   accounts   clusters written   removed   items written');
  for (const [name, { ms, record }] of rows) {
    console.log(
      `${name.padEnd(32)} ${String(record.mode).padEnd(12)} ${(ms / 1000).toFixed(2).padStart(9)} ${String(record.counts?.accounts ?? 0).padStart(10)} ${String(record.counts?.clustersWritten ?? 0).padStart(18)} ${String(record.counts?.clustersRemoved ?? 0).padStart(9)} ${String(record.counts?.itemsWritten ?? 0).padStart(15)}`,
    );
  }
  for (const [name, { record, cpuMs, serverMs }] of rows) {
    const c = record.counts ?? {};
    if (record.fullBecause) console.log(`  ${name}: ran in full because ${record.fullBecause}`);
    console.log(`  ${name}: coordinator ${JSON.stringify(record.timingsMs)}; tasks ${record.tasksTotal}, load ${c.taskLoadMs} ms, detect ${c.taskDetectMs} ms, save ${c.taskSaveMs} ms (summed over tasks), closure queries ${c.closureQueries}`);
    const graphKept = c.graphBytes === undefined ? 'no graph kept' : `graph kept ${c.graphOverlay ? `as overlay ${c.graphOverlay} over a whole one` : 'whole'}, ${(c.graphBytes / 1e6).toFixed(2)} MB`;
    console.log(`    ${graphKept}; CPU ${(cpuMs / 1000).toFixed(2)} s over every thread (DynamoDB server thread busy ${(serverMs / 1000).toFixed(2)} s)`);
  }
  console.log(`\nfull / incremental (median of ${rounds}), each taking in 1% new signals: ${(fullAfterNew.ms / incremental.ms).toFixed(1)}x (goal: 10x)`);
  console.log(`full / incremental in a process that did not run the previous run (the graph read back from the table): ${(fullAfterNew.ms / cold.ms).toFixed(1)}x`);
  const agrees = (full.record.counts?.clustersWritten ?? -1) === 0 && (full.record.counts?.clustersRemoved ?? -1) === 0;
  console.log(`full run after the incremental one changed nothing: ${agrees ? 'yes' : 'NO'}`);
  if (!agrees) process.exitCode = 1;
} finally {
  await stack.stop();
  rmSync(home, { recursive: true, force: true });
}
