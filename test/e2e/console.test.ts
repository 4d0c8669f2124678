/**
 * The console in headless Chromium against a real local stack: sign in, open the top cluster, see its
 * members and graph, ask why two members are linked, change its status, add a note, export, and read
 * the audit log. Screenshots go to test-artifacts/ (gitignored) for a person to look at.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack } from '../support/local-stack.js';
import { call, seedScenario, type TestStack } from '../support/scenario.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

let stack: TestStack;
let browser: Browser;
let page: Page;
let topCluster: { id: string; size: number; platforms: string[] };
const pageErrors: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startTestStack({ hubThreshold: 50 });
  await seedScenario(stack);
  topCluster = (await call(stack, 'GET', '/v1/clusters?limit=1')).body.clusters[0];
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  page.on('pageerror', (error) => pageErrors.push(error.message));
});
afterAll(async () => {
  await browser?.close();
  await stack?.cleanup();
});

describe('the investigator console', () => {
  it('refuses a wrong token and says where the right one is', async () => {
    await page.goto(`${stack.baseUrl}/`);
    await page.getByLabel('Investigator token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('.notice-error').textContent()).toMatch(/not accepted.*credentials\.json/s);
    await shot('signin-refused');
  });

  it('signs in and shows the queue, highest risk first, with counts', async () => {
    await page.getByLabel('Investigator token').fill(stack.credentials.investigatorToken!);
    await page.getByLabel('Your name (optional)').fill('Dana');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.queue-table tbody tr').first().waitFor();
    const firstRow = page.locator('.queue-table tbody tr').first();
    await expect.poll(() => firstRow.locator('td').nth(1).textContent()).toBe(topCluster.id);
    const total = (await call(stack, 'GET', '/v1/queue/counts')).body.total;
    await expect.poll(() => page.locator('.counts .count').first().textContent()).toBe(`${total}clusters`);
    expect(await page.evaluate(() => sessionStorage.getItem('crosslink.token'))).toBe(stack.credentials.investigatorToken);
    await shot('queue');
  });

  it('filters the queue from the URL and says what to do when nothing matches', async () => {
    await page.goto(`${stack.baseUrl}/#/queue?minSize=1000`);
    await expect.poll(() => page.locator('.notice-empty').textContent()).toMatch(/No cluster matches these filters/);
    await shot('queue-empty-filter');
    await page.getByRole('link', { name: 'Reset filters' }).click();
    await page.locator('.queue-table tbody tr').first().waitFor();
  });

  it('opens the top cluster by keyboard and shows members by platform and the graph', async () => {
    await page.locator('body').press('j');
    await page.keyboard.press('Enter');
    await page.locator('#members').waitFor();
    await expect.poll(() => page.locator('h1').textContent()).toBe(`Cluster ${topCluster.id}`);
    const groups = await page.locator('#members .platform-group h3').allTextContents();
    expect(groups.map((text) => text.split(' ')[0])).toEqual([...topCluster.platforms].sort());
    expect(await page.locator('#members tbody tr').count()).toBe(topCluster.size);
    await page.locator('.graph canvas').first().waitFor();
    expect(await page.locator('.graph canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#risk .reasons li').count()).toBeGreaterThan(0);
    await shot('cluster');
  });

  it('shows why two members are linked, link by link', async () => {
    const members = await page.locator('#why-a option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value).filter(Boolean));
    await page.locator('#why-a').selectOption(members[0]);
    await page.locator('#why-b').selectOption(members[members.length - 1]);
    await page.locator('ol.path > li').first().waitFor();
    expect(await page.locator('ol.path .evidence li').count()).toBeGreaterThan(0);
    await shot('why-linked');
  });

  it('changes the status and adds a note', async () => {
    await page.locator('#review-status').selectOption('escalated');
    await page.getByRole('button', { name: 'Save review' }).click();
    await expect.poll(() => page.locator('.cluster-head .status').first().textContent()).toBe('Escalated');
    await page.getByLabel('Add a note').fill('Same device on three apps; asked chatapp to preserve records.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => page.locator('.notes .note-text').allTextContents()).toEqual(['Same device on three apps; asked chatapp to preserve records.']);
    expect((await call(stack, 'GET', `/v1/clusters/${topCluster.id}/review`)).body).toMatchObject({ status: 'escalated', notes: [expect.objectContaining({ by: 'Dana (investigator-token)' })] });
  });

  it('exports CSV, JSON and GEXF files with the cluster in them', async () => {
    const files: Record<string, string> = {};
    for (const format of ['csv', 'json', 'gexf']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`.export button[data-format="${format}"]`).click()]);
      expect(download.suggestedFilename()).toBe(`crosslink-cluster-${topCluster.id}.${format}`);
      const path = join(ARTIFACTS, `console-export.${format}`);
      await download.saveAs(path);
      files[format] = readFileSync(path, 'utf8');
    }
    const csvLines = files.csv.trim().split('\r\n');
    expect(csvLines[0]).toMatch(/^cluster_id,a_platform,a_account,b_platform,b_account,link_weight,signal_type/);
    expect(csvLines.slice(1).every((line) => line.startsWith(`${topCluster.id},`))).toBe(true);
    const json = JSON.parse(files.json);
    expect(json.report.id).toBe(topCluster.id);
    expect(json.review.status).toBe('escalated');
    expect(json.notes).toHaveLength(1);
    expect(files.gexf).toContain('<gexf');
    expect(files.gexf.match(/<node /g)).toHaveLength(topCluster.size);
  });

  it('shows the audit log of who viewed and changed the cluster', async () => {
    await page.reload();
    await page.locator('#audit li').first().waitFor();
    const rows = await page.locator('#audit li').allTextContents();
    const text = rows.join('\n');
    expect(text).toMatch(/Dana \(investigator-token\)\s*status-changed\s*status new -> escalated/);
    expect(text).toMatch(/note-added/);
    expect(text).toMatch(/exported as CSV/);
    expect(text).toMatch(/viewed/);
    await page.locator('#audit').scrollIntoViewIfNeeded();
    await shot('cluster-after-review');
  });

  it('renders a printable report', async () => {
    await page.getByRole('link', { name: 'Printable report' }).click();
    await page.locator('.print-report').waitFor();
    expect(await page.locator('.print-report h1').textContent()).toBe(`Cluster ${topCluster.id}`);
    await page.emulateMedia({ media: 'print' });
    await shot('print');
    await page.emulateMedia({ media: 'screen' });
  });

  it('says what to do for a cluster that does not exist', async () => {
    await page.goto(`${stack.baseUrl}/#/cluster/c-does-not-exist`);
    await expect.poll(() => page.locator('.notice-empty').textContent()).toMatch(/There is no cluster c-does-not-exist/);
  });

  it('raised no uncaught error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
