/**
 * One measured case of `npm run bench:detect`, run in its own process so that its peak memory is its own:
 * `tsx bench/detect-case.ts <crosslink|naive|incremental> <accounts>`. Prints one JSON line.
 */
import { detectClustersDetailed } from '../lib/detect/detect.js';
import { collectClosure, detectIncremental, inMemoryGraphSource } from '../lib/detect/incremental.js';
import type { Membership } from '../lib/detect/model.js';
import { naiveLouvain } from './baselines.js';
import { generateWorld, seededRandom } from './world.js';

const [method, sizeArg] = process.argv.slice(2);
const accounts = Number(sizeArg);
const world = generateWorld({ accounts, seed: 42, actorShare: 0.03 });
const input = { memberships: world.memberships, accounts: world.accounts, nowMs: world.nowMs };
const maxRssMb = () => process.resourceUsage().maxRSS / 1024;
const heapMb = () => process.memoryUsage().heapUsed / 2 ** 20;
const rssBeforeMb = maxRssMb();
const heapBeforeMb = heapMb();
const report = (figures: Record<string, unknown>) =>
  console.log(JSON.stringify({ method, accounts, memberships: world.memberships.length, rssBeforeMb: Math.round(rssBeforeMb), heapBeforeMb: Math.round(heapBeforeMb), peakRssMb: Math.round(maxRssMb()), ...figures }));

if (method === 'crosslink') {
  const at = performance.now();
  const { result } = detectClustersDetailed(input);
  report({ seconds: (performance.now() - at) / 1000, clusters: result.stats.clusters, links: result.stats.links, largestComponent: result.stats.largestComponent, timingsMs: result.stats.timingsMs });
} else if (method === 'naive') {
  const at = performance.now();
  const { clusters, buildMs, louvainMs } = naiveLouvain(world.memberships, world.accounts);
  report({ seconds: (performance.now() - at) / 1000, clusters: clusters.length, buildSeconds: buildMs / 1000, louvainSeconds: louvainMs / 1000 });
} else if (method === 'incremental') {
  const { state } = detectClustersDetailed(input);
  // 1% new signals: existing accounts seen with new values (most fresh, some already held by others),
  // arriving as platforms send them, a few signals per account (`SIGNALS_PER_ACCOUNT`, default 4).
  const random = seededRandom(7);
  const added: Membership[] = [];
  const keys = [...world.truth.keys()];
  const newCount = Math.round(world.memberships.length / 100);
  const perAccount = Number(process.env.SIGNALS_PER_ACCOUNT ?? 4);
  let account = keys[0];
  for (let i = 0; i < newCount; i++) {
    if (i % perAccount === 0) account = keys[Math.floor(random() * keys.length)];
    const reused = random() < 0.2 ? world.memberships[Math.floor(random() * world.memberships.length)] : undefined;
    const type = reused?.type ?? (['ip', 'device', 'username', 'email'] as const)[Math.floor(random() * 4)];
    const value = reused?.value ?? `${'e'.repeat(48)}${i.toString(16).padStart(16, '0')}`;
    added.push({ account, type, value, observedAtMs: world.nowMs - 1000 });
  }
  const memberships = [...world.memberships, ...added];
  const nowMs = world.nowMs + 60_000;
  const touched = new Set(added.map((membership) => membership.account));
  const source = inMemoryGraphSource(memberships, world.accounts);

  let at = performance.now();
  const closure = collectClosure(state, touched, source, { changedIdentifiers: added });
  const closureSeconds = (performance.now() - at) / 1000;
  at = performance.now();
  const incremental = detectIncremental(state, closure, { nowMs });
  const incrementalSeconds = (performance.now() - at) / 1000;
  at = performance.now();
  const full = detectClustersDetailed({ memberships, accounts: world.accounts, previousClusters: state.clusters, nowMs });
  const fullSeconds = (performance.now() - at) / 1000;
  // Compared as JSON cluster by cluster: the whole result of a million accounts is past V8's longest string.
  const rest = (r: typeof full.result) => JSON.stringify({ ...r, clusters: r.clusters.length, stats: { ...r.stats, timingsMs: {} } });
  const sameAsFull = (r: typeof full.result) => rest(r) === rest(full.result) && r.clusters.every((cluster, i) => JSON.stringify(cluster) === JSON.stringify(full.result.clusters[i]));
  report({
    newSignals: added.length,
    touchedAccounts: touched.size,
    recomputedAccounts: incremental.recomputedAccounts,
    closureAccounts: new Set(closure.memberships.map((membership) => membership.account)).size,
    closureSeconds,
    incrementalSeconds,
    fullSeconds,
    equalToFull: sameAsFull(incremental.result),
  });
} else {
  throw new Error(`unknown case "${method}": use crosslink, naive or incremental`);
}
