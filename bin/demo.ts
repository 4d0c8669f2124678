/**
 * `npm run demo`: fills a running Crosslink (default http://127.0.0.1:8787) with a synthetic
 * multi-platform population through the real signed HTTP API, exactly as platforms would send it
 * (normalised and hashed by the platform client), runs detection and prints the top clusters.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { credentialsDocumentSchema } from '../lib/auth/credentials.js';
import { MAX_SIGNALS_PER_REQUEST } from '../lib/contract/signals.js';
import { IdentifierHasher } from '../lib/client/hash.js';
import { SignalsTransport } from '../lib/client/transport.js';
import { syntheticPopulation } from '../lib/demo/synthetic-population.js';

const baseUrl = process.env.CROSSLINK_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
const home = resolve(process.env.CROSSLINK_HOME ?? '.crosslink');
const credentials = credentialsDocumentSchema.parse(JSON.parse(readFileSync(resolve(home, 'credentials.json'), 'utf8')));
// The demo's stand-in for the consortium key that real platforms share and Crosslink never sees.
const hasher = new IdentifierHasher(process.env.CROSSLINK_HASH_KEY ?? 'demo-consortium-key-not-for-production', { defaultRegion: 'GB' });
const platforms = credentials.platforms.map((p) => p.id);
const population = syntheticPopulation({ platforms, people: Number(process.env.DEMO_PEOPLE ?? 1500) });

console.log(`Posting ${population.signals.length} signals of ${population.accounts.length} accounts on ${platforms.length} platforms to ${baseUrl} ...`);
const started = Date.now();
let accepted = 0;
let rejected = 0;
await Promise.all(
  credentials.platforms.map(async ({ id, secret }) => {
    const transport = new SignalsTransport({ baseUrl, platform: id, secret });
    const signals = population.signals
      .filter((s) => s.platform === id)
      .map((s) => ({ account: s.account, type: s.type, value: hasher.hash(s.type, s.raw).value, observedAt: s.observedAt }));
    const accounts = population.accounts.filter((a) => a.platform === id).map(({ platform: _platform, ...meta }) => meta);
    for (let start = 0; start < Math.max(signals.length, accounts.length); start += MAX_SIGNALS_PER_REQUEST) {
      const result = await transport.send(
        JSON.stringify({ signals: signals.slice(start, start + MAX_SIGNALS_PER_REQUEST), accounts: accounts.slice(start, start + MAX_SIGNALS_PER_REQUEST) }),
      );
      accepted += result.accepted;
      rejected += result.rejected.length;
    }
  }),
);
console.log(`accepted ${accepted} signals (${rejected} rejected) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const auth = { authorization: `Bearer ${credentials.investigatorToken}` };
const call = async (path: string, init: RequestInit = {}) => {
  const response = await fetch(`${baseUrl}${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
};
for (let status = await call('/v1/status'); status.queue.waiting + status.queue.inFlight > 0; status = await call('/v1/status')) {
  await new Promise((done) => setTimeout(done, 200));
}
const { runId } = await call('/v1/detect', { method: 'POST' });
let run = await call(`/v1/runs/${runId}`);
while (run.status === 'running') {
  await new Promise((done) => setTimeout(done, 200));
  run = await call(`/v1/runs/${runId}`);
}
if (run.status !== 'succeeded') throw new Error(`detection failed: ${run.error}`);
console.log(`detection ${runId}: ${run.counts.clusters} clusters (${run.counts.crossPlatformClusters} across platforms), ${run.hubsExcluded} hub identifiers excluded, ${run.durationMs} ms`);
const { clusters } = await call('/v1/clusters?limit=10&minPlatforms=2');
console.log('\nTop cross-platform clusters:');
console.log('risk    size  platforms');
for (const cluster of clusters) console.log(`${cluster.risk.toFixed(1).padStart(5)}  ${String(cluster.size).padStart(5)}  ${cluster.platforms.join(', ')}   ${baseUrl}/#/clusters/${cluster.id}`);
console.log(`\nThe population holds ${population.actors.length} actors running ${population.actors.map((a) => a.length).join(', ')} profiles. Open ${baseUrl}/ and sign in with the investigator token from ${resolve(home, 'credentials.json')}.`);
