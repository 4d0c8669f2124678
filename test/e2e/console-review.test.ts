/**
 * Console behaviour found wrong in review, each confirmed in headless Chromium against a real local stack:
 * queue paging (position and Previous), keyboard focus after a save, and errors of "Older entries".
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack } from '../support/local-stack.js';
import { gluedCluster } from '../support/glued-cluster.js';
import { call, postRows, seedScenario, detect, type Row, type TestStack } from '../support/scenario.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

let stack: TestStack;
let browser: Browser;
let page: Page;
let topCluster: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ hubThreshold: 50 });
  // 120 more two-account clusters, so that the queue has three pages of 50.
  const pairs: Row[] = [];
  for (let i = 0; i < 120; i++) {
    pairs.push({ platform: 'chatapp', account: `x-${i}`, type: 'email', label: `pair-${i}` }, { platform: 'gamehub', account: `y-${i}`, type: 'email', label: `pair-${i}` });
  }
  await postRows(stack, pairs);
  // A pair whose platforms send their times with different offsets: tz-2 was seen at 07:00 UTC, before tz-1 at 09:00 UTC.
  await postRows(
    stack,
    [
      { platform: 'chatapp', account: 'tz-1', type: 'email', label: 'tz-email', observedAt: '2026-11-01T09:00:00Z' },
      { platform: 'gamehub', account: 'tz-2', type: 'email', label: 'tz-email', observedAt: '2026-11-01T12:00:00+05:00' },
    ],
    { chatapp: [{ account: 'tz-1', createdAt: '2026-11-01T08:30:00Z' }], gamehub: [{ account: 'tz-2', createdAt: '2026-11-01T11:00:00+05:00' }] },
  );
  await seedScenario(stack);
  topCluster = (await call(stack, 'GET', '/v1/clusters?limit=1')).body.clusters[0].id;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${stack.baseUrl}/`);
  await page.getByLabel('Investigator token').fill(stack.credentials.investigatorToken!);
  await page.getByLabel('Your name (optional)').fill('Dana');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.queue-table tbody tr').first().waitFor();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.cleanup();
});

const firstId = () => page.locator('.queue-table tbody tr').first().locator('td').nth(1).textContent();
const position = () => page.locator('.pager-position').textContent();

describe('queue paging', () => {
  it('says which clusters a page holds, and Previous goes back one page, also after the browser Back button', async () => {
    const all: string[] = (await call(stack, 'GET', '/v1/clusters?status=any&limit=500')).body.clusters.map((c: { id: string }) => c.id);
    expect(all.length).toBeGreaterThan(100);
    await page.goto(`${stack.baseUrl}/#/queue`);
    await expect.poll(firstId).toBe(all[0]);
    expect(await position()).toBe('Clusters 1–50');

    await page.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(firstId).toBe(all[50]);
    expect(await position()).toBe('Clusters 51–100');

    await page.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(firstId).toBe(all[100]);
    expect(await position()).toBe(`Clusters 101–${all.length}`);

    // The browser's Back button, then the console's Previous: page 2, then page 1.
    await page.goBack();
    await expect.poll(firstId).toBe(all[50]);
    expect(await position()).toBe('Clusters 51–100');
    await page.getByRole('button', { name: '← Previous' }).click();
    await expect.poll(firstId, { timeout: 3000 }).toBe(all[0]);
    expect(await position()).toBe('Clusters 1–50');
  });
});

describe('keyboard use of the review panel', () => {
  it('keeps focus on the control that saved, and says it saved', async () => {
    await page.goto(`${stack.baseUrl}/#/cluster/${topCluster}`);
    await page.locator('#review-status').waitFor();
    await page.locator('#review-status').focus();
    await page.locator('#review-status').selectOption('in-review');
    await page.keyboard.press('Tab'); // the assignee field
    await page.keyboard.press('Tab'); // Save review
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Save review');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.cluster-head .status').first().textContent()).toBe('In review');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent ?? null), { timeout: 2000 }).toBe('Save review');
    expect(await page.locator('#review .form-status').textContent()).toBe('Saved.');
  });
});

describe('the audit log', () => {
  it('says so when older entries cannot be loaded', async () => {
    for (let i = 0; i < 55; i++) await call(stack, 'POST', `/v1/clusters/${topCluster}/notes`, { text: `note ${i}` });
    await page.goto(`${stack.baseUrl}/#/cluster/${topCluster}`);
    await page.reload();
    await page.getByRole('button', { name: 'Older entries' }).waitFor();
    await page.route('**/audit?limit=50&cursor=*', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'the store is unavailable: retry' }) }));
    await page.getByRole('button', { name: 'Older entries' }).click();
    await expect.poll(() => page.locator('#audit').textContent(), { timeout: 3000 }).toMatch(/the store is unavailable: retry/);
    await page.unroute('**/audit?limit=50&cursor=*');
  });
});

describe('the timeline', () => {
  it('lists events in time order when platforms send times with different offsets', async () => {
    const { body } = await call(stack, 'GET', '/v1/accounts/chatapp/tz-1');
    const clusterId = body.cluster.id;
    await page.goto(`${stack.baseUrl}/#/cluster/${clusterId}`);
    await page.locator('#timeline li').first().waitFor();
    const events = await page.locator('#timeline li').allTextContents();
    const times = await page.locator('#timeline li time').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('datetime')!));
    const instants = times.map((time) => Date.parse(time));
    expect(events).toEqual([
      expect.stringMatching(/^2026-11-01 06:00 UTC gamehub\/tz-2 created$/),
      expect.stringMatching(/^2026-11-01 07:00 UTC gamehub\/tz-2 seen with email /),
      expect.stringMatching(/^2026-11-01 08:30 UTC chatapp\/tz-1 created$/),
      expect.stringMatching(/^2026-11-01 09:00 UTC chatapp\/tz-1 seen with email /),
    ]);
    expect(instants).toEqual([...instants].sort((x, y) => x - y));
    const context = await call(stack, 'GET', `/v1/clusters/${clusterId}/context`);
    const observed = context.body.observations.map((o: { observedAt: string }) => Date.parse(o.observedAt));
    expect(observed).toEqual([...observed].sort((x: number, y: number) => x - y));
  });
});

describe('two investigators on one cluster', () => {
  it('changing the status keeps an assignee someone else set meanwhile, and does not log an unassignment', async () => {
    const clusterId: string = (await call(stack, 'GET', '/v1/accounts/chatapp/x-7')).body.cluster.id;
    await page.goto(`${stack.baseUrl}/#/cluster/${clusterId}`);
    await page.locator('#review-status').waitFor();
    // Sam takes the cluster while Dana has the page open.
    await call(stack, 'PATCH', `/v1/clusters/${clusterId}/review`, { assignee: 'sam' }, { 'x-crosslink-reviewer': 'Sam' });
    await page.locator('#review-status').selectOption('escalated');
    await page.getByRole('button', { name: 'Save review' }).click();
    await expect.poll(() => page.locator('.cluster-head .status').first().textContent()).toBe('Escalated');
    expect((await call(stack, 'GET', `/v1/clusters/${clusterId}/review`)).body).toMatchObject({ status: 'escalated', assignee: 'sam' });
    const audit = (await call(stack, 'GET', `/v1/clusters/${clusterId}/audit`)).body.entries.map((e: { actor: string; detail: string }) => `${e.actor}: ${e.detail}`);
    // The page read the report and its context, then the context again after the save.
    expect(audit.filter((line: string) => line.startsWith('Dana')).sort()).toEqual([
      'Dana (investigator-token): opened the cluster context (member facts, timeline and hubs)',
      'Dana (investigator-token): opened the cluster context (member facts, timeline and hubs)',
      'Dana (investigator-token): opened the cluster report',
      'Dana (investigator-token): status new -> escalated',
    ]);
  });
});

describe('adding a note', () => {
  it('says why a blank note was not added', async () => {
    await page.goto(`${stack.baseUrl}/#/cluster/${topCluster}`);
    await page.getByLabel('Add a note').fill('   ');
    await page.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => page.locator('#review').textContent(), { timeout: 2000 }).toMatch(/note is empty|write the note/i);
  });
});

describe('refreshing the queue', () => {
  it('says so when the cluster list cannot be read again after "Run detection now"', async () => {
    // The queue as it looks before any run, so that it offers "Run detection now".
    await page.route('**/v1/clusters?*', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ clusters: [], next: null, runId: null }) }));
    try {
      await page.goto(`${stack.baseUrl}/#/queue`);
      await page.reload();
      await page.getByRole('button', { name: 'Run detection now' }).click();
      // The run goes through; reading the list afterwards fails.
      await page.unroute('**/v1/clusters?*');
      await page.route('**/v1/clusters?*', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'the store is unavailable: retry' }) }));
      await expect.poll(() => page.locator('#main').textContent(), { timeout: 10_000 }).toMatch(/the store is unavailable: retry/);
      expect(await page.locator('#main [role="alert"]').count()).toBeGreaterThan(0);
    } finally {
      await page.unroute('**/v1/clusters?*');
    }
  });
});

describe('refreshing the cluster page', () => {
  it('says the page may be out of date when it cannot be read again after a save', async () => {
    const clusterId: string = (await call(stack, 'GET', '/v1/accounts/chatapp/x-11')).body.cluster.id;
    await page.goto(`${stack.baseUrl}/#/cluster/${clusterId}`);
    await page.locator('#review-status').waitFor();
    // The save goes through; reading the review state back fails.
    await page.route(`**/v1/clusters/${clusterId}/review`, (route) =>
      route.request().method() === 'GET' ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'the store is unavailable: retry' }) }) : route.fallback(),
    );
    try {
      await page.locator('#review-status').selectOption('in-review');
      await page.getByRole('button', { name: 'Save review' }).click();
      await expect.poll(async () => (await call(stack, 'GET', `/v1/clusters/${clusterId}/review`)).body.status).toBe('in-review');
      await expect.poll(() => page.locator('.cluster-page [role="alert"]').allTextContents(), { timeout: 5000 }).toEqual([expect.stringMatching(/could not be refreshed.*the store is unavailable: retry.*out of date/s)]);
    } finally {
      await page.unroute(`**/v1/clusters/${clusterId}/review`);
    }
  });
});

describe('resetting the queue filters', () => {
  it('clears every filter field, also ones typed but not applied, and goes back to the first page', async () => {
    await page.goto(`${stack.baseUrl}/#/queue`);
    await page.locator('.queue-table tbody tr').first().waitFor();
    await page.getByLabel('Min. size').fill('1000');
    await page.getByLabel('Status').selectOption('escalated');
    await page.getByRole('link', { name: 'Reset', exact: true }).click();
    await expect.poll(() => page.getByLabel('Min. size').inputValue(), { timeout: 3000 }).toBe('');
    expect(await page.getByLabel('Status').inputValue()).toBe('any');

    // Applied filters and a later page: Reset drops them all.
    await page.goto(`${stack.baseUrl}/#/queue?minSize=2&maxRisk=90&status=open`);
    await page.locator('.queue-table tbody tr').first().waitFor();
    await page.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(() => page.url()).toMatch(/cursor=/);
    await page.getByRole('link', { name: 'Reset', exact: true }).click();
    await expect.poll(() => page.url()).toBe(`${stack.baseUrl}/#/queue`);
    // The page renders the queue again after the address changes: wait for that render, not only the address.
    const filled = () => page.locator('form.filters').evaluate((form) => Array.from((form as HTMLFormElement).elements as HTMLCollectionOf<HTMLInputElement>).filter((field) => field.name && field.value !== '' && field.value !== 'any').map((field) => field.name));
    await expect.poll(filled, { timeout: 5000 }).toEqual([]);
    await expect.poll(position, { timeout: 5000 }).toBe('Clusters 1–50');
  });
});

describe('a cluster merged into another', () => {
  it('says on its page which cluster its accounts went to', async () => {
    const [first, second] = [await (await call(stack, 'GET', '/v1/accounts/chatapp/x-20')).body.cluster.id, (await call(stack, 'GET', '/v1/accounts/chatapp/x-21')).body.cluster.id];
    await postRows(stack, [
      { platform: 'chatapp', account: 'x-20', type: 'phone', label: 'merge-20-21' },
      { platform: 'chatapp', account: 'x-21', type: 'phone', label: 'merge-20-21' },
      { platform: 'gamehub', account: 'y-20', type: 'payment', label: 'merge-20-21' },
      { platform: 'gamehub', account: 'y-21', type: 'payment', label: 'merge-20-21' },
    ]);
    await stack.waitForDrain();
    await detect(stack);
    const merged: string = (await call(stack, 'GET', '/v1/accounts/chatapp/x-21')).body.cluster.id;
    expect((await call(stack, 'GET', '/v1/accounts/chatapp/x-20')).body.cluster.id).toBe(merged);
    const absorbed = merged === first ? second : first;
    await page.goto(`${stack.baseUrl}/#/cluster/${absorbed}`);
    await page.locator('#changes li').first().waitFor();
    expect(await page.locator('#changes li').first().textContent()).toMatch(new RegExp(`^Dissolved by run \\S+ at .+: its accounts are now in ${merged}\\.$`));
    expect(await page.locator('#changes li').first().locator('a').getAttribute('href')).toBe(`#/cluster/${merged}`);
  });
});

/** Signs in as `name` in a browser context of its own (its own sessionStorage), hands `use` the page, then closes it. */
async function signedInAs(name: string, use: (other: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  try {
    const other = await context.newPage();
    await other.goto(`${stack.baseUrl}/`);
    await other.getByLabel('Investigator token').fill(stack.credentials.investigatorToken!);
    await other.getByLabel('Your name (optional)').fill(name);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => other.locator('#main').textContent(), { timeout: 5000 }).toMatch(/Cluster queue|not accepted|did not answer/);
    expect(await other.locator('#main .notice-error').allTextContents()).toEqual([]);
    await use(other);
  } finally {
    await context.close();
  }
}

const actorsOf = async (clusterId: string): Promise<string[]> => (await call(stack, 'GET', `/v1/clusters/${clusterId}/audit`)).body.entries.map((e: { actor: string }) => e.actor);

describe('the name an investigator signs in with', () => {
  it('may be an email address or a name with an apostrophe, as the identity provider gives them', async () => {
    await signedInAs("dana.o'brien+crosslink@example.org", async (other) => {
      await other.goto(`${stack.baseUrl}/#/cluster/${topCluster}`);
      await expect.poll(() => other.locator('#main').textContent(), { timeout: 5000 }).toMatch(/Review|must be/);
      expect(await other.locator('#main .notice-error').allTextContents()).toEqual([]);
      expect(await other.locator('#main h1').textContent()).toBe(`Cluster ${topCluster}`);
    });
    expect(await actorsOf(topCluster)).toContain("dana.o'brien+crosslink@example.org (investigator-token)");
    // Parentheses stay the audit log's, around the token's subject.
    expect((await call(stack, 'GET', `/v1/clusters/${topCluster}`, undefined, { 'x-crosslink-reviewer': 'Sam (operator)' })).body.error).toMatch(/must be 1-64 characters, without parentheses/);
  });

  it('may be written in any script: the console signs in and the audit log keeps the name', async () => {
    await signedInAs('Łukasz Żółć 李', async (other) => {
      await other.goto(`${stack.baseUrl}/#/cluster/${topCluster}`);
      await other.locator('#review-status').waitFor();
    });
    expect(await actorsOf(topCluster)).toContain('Łukasz Żółć 李 (investigator-token)');
  });
});

describe('a cluster too large to store whole', () => {
  it('says its report holds only part of its links, and how many it has; a chain joins every member', async () => {
    const members = Array.from({ length: 3_000 }, (_, i) => `chatapp#glued-${String(i).padStart(6, '0')}`);
    const glued = gluedCluster('c-glued-console', members);
    expect(await stack.core.clusters.applyRun('run-glued', { upserts: [glued], removed: [] }, new Date().toISOString())).toMatchObject({ trimmed: 1 });
    const report = (await call(stack, 'GET', '/v1/clusters/c-glued-console')).body;
    expect(report.linksTotal).toBe(glued.links.length);
    // An odd-numbered member (joined by weak links only) to the far end.
    const path = await call(stack, 'GET', '/v1/clusters/c-glued-console/path?from=chatapp/glued-000001&to=chatapp/glued-002999');
    expect(path.status, JSON.stringify(path.body)).toBe(200);

    await page.goto(`${stack.baseUrl}/#/cluster/c-glued-console`);
    await page.locator('.trimmed-note').waitFor();
    expect(await page.locator('.trimmed-note').textContent()).toContain(`This cluster has ${glued.links.length} links; its report holds ${report.links.length},`);
    expect(await page.locator('details.links summary').textContent()).toBe(`${report.links.length} of ${glued.links.length} links as a table (the strongest, and a chain to every member)`);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('answers a path between two of its members that no link it holds joins with why, not "pick two members"', async () => {
    const members = Array.from({ length: 7_000 }, (_, i) => `chatapp#wide-${String(i).padStart(6, '0')}`);
    const glued = gluedCluster('c-glued-wide', members);
    expect(await stack.core.clusters.applyRun('run-glued-wide', { upserts: [glued], removed: [] }, new Date().toISOString())).toMatchObject({ trimmed: 1 });
    const { status, body } = await call(stack, 'GET', '/v1/clusters/c-glued-wide/path?from=chatapp/wide-000000&to=chatapp/wide-006999');
    expect(status).toBe(400);
    expect(body.error).toMatch(/^this cluster's report holds only \d+ of its \d+ links \(it is too large to store whole\), and none of them joins chatapp\/wide-000000 and chatapp\/wide-006999/);
  }, 60_000);
});
