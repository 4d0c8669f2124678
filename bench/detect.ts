/**
 * `npm run bench:detect [-- <sizes, comma-separated>]` (default 10000,100000,1000000): time and peak
 * memory of detection beside the naive path (one graphology graph + one Louvain) at each size, and an
 * incremental run after 1% new signals at 100k (or the middle size). Each case runs in its own
 * process with a 4 GB heap. Prints figures and ratios; asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const sizes = (process.argv[2] ?? '10000,100000,1000000').split(',').map(Number);
const incrementalSize = Number(process.argv[3] ?? (sizes.includes(100_000) ? 100_000 : sizes[Math.floor(sizes.length / 2)]));
const caseScript = fileURLToPath(new URL('./detect-case.ts', import.meta.url));

function runCase(method: string, accounts: number): Record<string, any> {
  const output = execFileSync(process.execPath, ['--max-old-space-size=4096', '--import', 'tsx', caseScript, method, String(accounts)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(output.trim().split('\n').pop()!);
}

console.log('| accounts | memberships | method | seconds | peak RSS MB (world alone) | clusters | notes |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const accounts of sizes) {
  const ours = runCase('crosslink', accounts);
  const naive = runCase('naive', accounts);
  const t = ours.timingsMs;
  console.log(`| ${accounts} | ${ours.memberships} | crosslink | ${ours.seconds.toFixed(2)} | ${ours.peakRssMb} (${ours.rssBeforeMb}) | ${ours.clusters} | graph ${t.graph} ms, cluster ${t.cluster} ms, assemble ${t.assemble} ms; largest component ${ours.largestComponent} |`);
  console.log(`| ${accounts} | ${naive.memberships} | graphology + Louvain | ${naive.seconds.toFixed(2)} | ${naive.peakRssMb} (${naive.rssBeforeMb}) | ${naive.clusters} | build ${naive.buildSeconds.toFixed(2)} s, Louvain ${naive.louvainSeconds.toFixed(2)} s; crosslink ${(naive.seconds / ours.seconds).toFixed(1)}x faster |`);
}
const incremental = runCase('incremental', incrementalSize);
console.log('');
console.log(
  `incremental at ${incrementalSize} accounts after ${incremental.newSignals} new signals (1%) on ${incremental.touchedAccounts} accounts: ` +
    `recomputed ${incremental.recomputedAccounts} accounts (read ${incremental.closureAccounts}) in ${incremental.incrementalSeconds.toFixed(2)} s (+ ${incremental.closureSeconds.toFixed(2)} s gathering the closure from memory) ` +
    `vs full ${incremental.fullSeconds.toFixed(2)} s: ${(incremental.fullSeconds / incremental.incrementalSeconds).toFixed(1)}x; equal to the full run: ${incremental.equalToFull}`,
);
