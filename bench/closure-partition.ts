/**
 * `npm run bench:partition [accounts]` (default 100000): the incremental coordinator's in-memory work
 * alone, without the local stack: a full partition of the benchmark world as the previous run's graph,
 * 1% new signals drawn as `bench:incremental` draws them, then `applyChanges`, `partitionClosure` and
 * detection of the closure task. The partition is timed twice: indexing the graph afresh (a cold
 * coordinator) and through an index of the previous graph patched to the changes (a warm one, as
 * `bench:incremental`'s rounds run). Prints times and the core's size; asserts nothing.
 */
import { detectClusters } from '../lib/detect/detect.js';
import { resolveDetectionOptions } from '../lib/detect/options.js';
import { partitionClosure } from '../lib/runs/closure-partition.js';
import { partitionIntoTasks } from '../lib/runs/component-partition.js';
import { GraphIndex } from '../lib/detect/graph-index.js';
import { applyChanges, type RunGraph } from '../lib/runs/run-graph.js';
import { generateWorld, onePercentDrawer } from './world.js';

const world = generateWorld({ accounts: Number(process.argv[2] ?? 100_000), seed: 42, actorShare: 0.02 });
const options = resolveDetectionOptions({});
const nowMs = world.nowMs + 60_000;
const full = partitionIntoTasks({ memberships: world.memberships, accounts: world.accounts, verdicts: [], nowMs: world.nowMs }, options);
const graph: RunGraph = { memberships: world.memberships.map((m) => ({ ...m, expiresAtS: 4e9 })), facts: world.accounts, withdrawnAt: new Map(), components: full.components, hubs: full.hubRecords };

const additions = onePercentDrawer(world)('more');
const stored = additions.map((m, i) => {
  const cut = m.account.indexOf('#');
  return { platform: m.account.slice(0, cut), receivedAt: new Date(world.nowMs + i).toISOString(), expiresAtS: 4e9, signals: [{ account: m.account.slice(cut + 1), type: m.type, value: m.value, observedAt: new Date(m.observedAtMs).toISOString() }] };
});

// The index a warm coordinator holds: built over the previous run's graph, before the changes.
const held = GraphIndex.build(graph.memberships, graph.facts, options);
let at = performance.now();
const applied = applyChanges(graph, { stored, reread: new Map(), factsOf: { accounts: [], facts: new Map() } }, nowMs);
const applyMs = performance.now() - at;
at = performance.now();
const partitionInput = { graph: applied.graph, touched: applied.touched, changedIdentifiers: applied.changedIdentifiers, verdicts: [], nowMs };
const cold = partitionClosure(partitionInput, options);
const coldMs = performance.now() - at;
// As the warm coordinator does: the held index patched to the changed accounts, then the partition through it.
at = performance.now();
held.patch(applied.graph.memberships, applied.graph.facts, applied.replaced);
const partition = partitionClosure({ ...partitionInput, source: held }, options);
const partitionMs = performance.now() - at;
at = performance.now();
let clusters = 0;
for (const task of partition.tasks) {
  clusters += detectClusters({ memberships: task.memberships, accounts: new Map(task.facts), nowMs, core: new Set(task.core), holderTotals: new Map(task.holderTotals), graph: task.graph }, options).clusters.length;
}
const detectMs = performance.now() - at;
console.log(
  `${world.accounts.size} accounts, ${additions.length} new signals: apply ${Math.round(applyMs)} ms, partition ${Math.round(partitionMs)} ms from the held index patched (${Math.round(coldMs)} ms indexing afresh) ` +
    `(core ${partition.core.length} accounts, ${partition.tasks.length} task(s), ${partition.tasks.reduce((sum, task) => sum + task.memberships.length, 0)} memberships with the boundary), ` +
    `detect ${Math.round(detectMs)} ms (${clusters} clusters in the core)`,
);
