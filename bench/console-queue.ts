/**
 * `npm run bench:console [-- --clusters 10000 --rounds 5]`: how long the console's queue page takes to
 * load in headless Chromium with this many current clusters. A fresh local stack is filled with
 * synthetic clusters through the cluster repository (the same items a detection run writes), then the
 * page is loaded cold `rounds` times. Printed per round and as the median: first rows on screen, counts
 * on screen, and, measured in the same run as the baseline, the raw API calls the page makes (one page of
 * the queue, the counts) timed with fetch from Node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import type { DetectedCluster } from '../lib/detect/model.js';
import { startLocalStack } from '../lib/runtime/local/local-stack.js';

const { values } = parseArgs({ options: { clusters: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '5' } } });
const clusterCount = Number(values.clusters);
const rounds = Number(values.rounds);
if (!Number.isInteger(clusterCount) || clusterCount < 1 || !Number.isInteger(rounds) || rounds < 1) {
  console.error('--clusters and --rounds must be positive whole numbers');
  process.exit(2);
}

const PLATFORMS = ['chatapp', 'photoshare', 'gamehub', 'friendnet', 'clipvideo'];

/** A synthetic cluster: 2-6 accounts over 1-4 platforms, linked in a chain by a device. */
function syntheticCluster(n: number): DetectedCluster {
  const size = 2 + (n % 5);
  const members = Array.from({ length: size }, (_, i) => `${PLATFORMS[(n + i) % (1 + (n % 4))]}#acct-${n}-${i}`);
  const platforms = [...new Set(members.map((member) => member.split('#')[0]))].sort();
  return {
    id: `c${n.toString(16).padStart(16, '0')}`,
    members,
    platforms,
    links: members.slice(1).map((member, i) => ({ a: members[i], b: member, weight: 0.5, evidence: [{ type: 'device', value: 'd'.repeat(64), weight: 0.5, observedAtMs: Date.now() }] })),
    risk: { score: Math.round(((n * 7919) % 100_000) / 10) / 100, reasons: [{ factor: 'platforms', points: 8, detail: `spans ${platforms.length} platforms` }] },
    verdicts: [],
  };
}

const median = (numbers: number[]) => [...numbers].sort((x, y) => x - y)[Math.floor(numbers.length / 2)];

const home = mkdtempSync(join(tmpdir(), 'crosslink-bench-console-'));
const stack = await startLocalStack({ home, port: 0, quietDetectMs: 0, logLevel: 'SILENT' });
try {
  const seedStarted = performance.now();
  const clusters = Array.from({ length: clusterCount }, (_, n) => syntheticCluster(n));
  for (let start = 0; start < clusters.length; start += 2000) {
    await stack.core.clusters.applyRun('bench-run', { upserts: clusters.slice(start, start + 2000), removed: [] }, new Date().toISOString());
  }
  console.log(`seeded ${clusterCount.toLocaleString('en')} clusters in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

  const token = stack.credentials.investigatorToken!;
  const timeFetch = async (path: string) => {
    const started = performance.now();
    const response = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    return performance.now() - started;
  };

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  const rows: Array<{ rows: number; counts: number; pageRows: number; pageCounts: number; apiPage: number; apiCounts: number }> = [];
  try {
    for (let round = 0; round < rounds; round++) {
      // A fresh context per round: a cold load, nothing cached.
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      await context.addInitScript((value) => sessionStorage.setItem('crosslink.token', value), token);
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`${stack.baseUrl}/#/queue`);
      await page.locator('.queue-table tbody tr').first().waitFor();
      const rowsAt = performance.now() - started;
      await page.waitForFunction(() => !document.querySelector('.counts .count-value')?.textContent?.includes('…'));
      const countsAt = performance.now() - started;
      const marks = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').map((mark) => [mark.name, mark.startTime])));
      const shown = await page.locator('.counts .count-value').first().textContent();
      if (shown !== clusterCount.toLocaleString('en')) throw new Error(`the page counted ${shown} clusters, expected ${clusterCount}`);
      await context.close();
      rows.push({ rows: rowsAt, counts: countsAt, pageRows: marks['crosslink:queue-rows'], pageCounts: marks['crosslink:queue-counts'], apiPage: await timeFetch('/v1/clusters?limit=50&status=any'), apiCounts: await timeFetch('/v1/queue/counts') });
    }
  } finally {
    await browser.close();
  }
  const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;
  console.log(`\nqueue page with ${clusterCount.toLocaleString('en')} clusters, ${rounds} cold loads (headless Chromium, local stack on dynalite; ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)})`);
  console.log('        seen by the test driver  | in the page (from navigation start) | API from Node (baseline)');
  console.log('round   first rows   counts shown |   first rows   counts shown        |  one page     counts');
  const line = (label: string, r: (typeof rows)[number]) =>
    console.log(`${label.padStart(5)}  ${fmt(r.rows)}   ${fmt(r.counts)}  |  ${fmt(r.pageRows)}    ${fmt(r.pageCounts)}         | ${fmt(r.apiPage)}  ${fmt(r.apiCounts)}`);
  rows.forEach((row, n) => line(String(n + 1), row));
  const medians = Object.fromEntries(Object.keys(rows[0]).map((key) => [key, median(rows.map((r) => r[key as keyof (typeof rows)[number]]))])) as (typeof rows)[number];
  line('median', medians);
  const target = 1000;
  const inPage = median(rows.map((r) => Math.max(r.pageRows, r.pageCounts)));
  const driver = median(rows.map((r) => Math.max(r.rows, r.counts)));
  console.log(`\nqueue fully loaded (rows and counts), median: ${inPage.toFixed(0)} ms in the page, ${driver.toFixed(0)} ms seen by the driver; target under ${target} ms: ${inPage < target ? 'met' : 'NOT met'} (in the page)`);
} finally {
  await stack.stop();
  rmSync(home, { recursive: true, force: true });
}
