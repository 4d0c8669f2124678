/**
 * `npm run bench:quality [-- <accounts> [<seed>]]`: detection quality on a seeded world with ground truth,
 * beside the baselines measured in the same run. Prints a table; asserts nothing.
 * `DETECTION_OPTIONS='{"cpmResolution":0.05}'` tries other settings, in the form `npm start` and a deployment read them;
 * `BASELINES=0` skips the baselines.
 */
import { detectClusters } from '../lib/detect/detect.js';
import { parseDetectionOptions } from '../lib/detect/options.js';
import { connectedComponentsBaseline, naiveLouvain } from './baselines.js';
import { scoreClustering, type Scores } from './scoring.js';
import { generateWorld } from './world.js';

const accounts = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? 42);
const fixed = (value: number) => value.toFixed(3);

const started = performance.now();
const world = generateWorld({ accounts, seed, actorShare: 0.03 });
console.log(
  `world: ${world.truth.size} accounts, ${world.memberships.length} memberships, ${world.actors.size} actors (${[...world.actors.values()].reduce((a, b) => a + b, 0)} profiles), seed ${seed}, generated in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

const rows: Array<{ name: string; scores: Scores; seconds: number }> = [];
const measure = (name: string, run: () => ReadonlyArray<readonly string[]>) => {
  const at = performance.now();
  const ranked = run();
  rows.push({ name, scores: scoreClustering(world, ranked), seconds: (performance.now() - at) / 1000 });
};

const detectionOptions = process.env.DETECTION_OPTIONS ? parseDetectionOptions(process.env.DETECTION_OPTIONS) : {};
measure('crosslink (CPM per component)', () => detectClusters({ memberships: world.memberships, accounts: world.accounts, nowMs: world.nowMs }, detectionOptions).clusters.map((cluster) => cluster.members));
if (process.env.BASELINES !== '0') {
measure('components, any shared value', () => connectedComponentsBaseline(world.memberships, world.accounts));
measure('components, hubs dropped', () => connectedComponentsBaseline(world.memberships, world.accounts, 50));
measure('one global Louvain (graphology)', () => naiveLouvain(world.memberships, world.accounts).clusters);
}

console.log('');
console.log('| method | precision | recall | F1 | actor recall | P@k | clusters | seconds |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { name, scores, seconds } of rows) {
  console.log(`| ${name} | ${fixed(scores.precision)} | ${fixed(scores.recall)} | ${fixed(scores.f1)} | ${fixed(scores.actorRecall)} | ${fixed(scores.precisionAtK)} | ${scores.clusters} | ${seconds.toFixed(1)} |`);
}
console.log(`\ntargets at >= 100k accounts: F1 >= 0.97, actor recall >= 0.95, P@k >= 0.9 (k = ${world.actors.size} actors)`);
