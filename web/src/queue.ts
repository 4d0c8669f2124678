/**
 * The queue: current clusters, highest risk first, with counts at the top, filters kept in the URL,
 * and cursor paging (the server reads the ranking from the cursor on, so paging holds at any size).
 * Keyboard: j / k move between rows, Enter opens the selected cluster.
 */
import type { QueueCounts, QueueRow } from '../../lib/graph/review-repository.js';
import { ApiError, getJson, sendJson } from './api.js';
import { formatDate, formatRisk, h, notice, platformColor, replace, statusLabel } from './dom.js';

const PAGE_SIZE = 50;
const FILTERS = ['status', 'minPlatforms', 'platform', 'minSize', 'maxSize', 'minRisk', 'maxRisk', 'updatedSince', 'assignee'] as const;

/**
 * For each page reached with "Next": the cursor of the page before it ('' for the first page), per filter
 * set. "Previous" and the position follow it from the page's own cursor, so they stay right after the
 * browser's Back and Forward, without the server keeping state.
 */
const previousCursor = new Map<string, string>();
const pageKey = (filters: string, cursor: string) => `${filters}|${cursor}`;

function filterKey(params: URLSearchParams): string {
  return FILTERS.map((name) => `${name}=${params.get(name) ?? ''}`).join('&');
}

function queueHash(params: URLSearchParams): string {
  const kept = new URLSearchParams();
  for (const [name, value] of params) if (value !== '') kept.set(name, value);
  const text = kept.toString();
  return `#/queue${text ? `?${text}` : ''}`;
}

function apiQuery(params: URLSearchParams): string {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), status: params.get('status') || 'any' });
  for (const name of FILTERS) {
    const value = params.get(name);
    if (!value || name === 'status') continue;
    // The date input gives a day; the API wants a date-time.
    query.set(name, name === 'updatedSince' && /^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00Z` : value);
  }
  const cursor = params.get('cursor');
  if (cursor) query.set('cursor', cursor);
  return query.toString();
}

/**
 * Draws the queue again through the router, which says what failed (a refresh that failed out of its
 * sight left "Loading clusters…" on the page for good). The hash is unchanged, so no hashchange fires by itself.
 */
function redraw(): void {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

function countsBar(counts: QueueCounts | null, params: URLSearchParams): HTMLElement {
  const item = (label: string, value: number | undefined, status?: string) => {
    const content = [h('span', { class: 'count-value' }, value === undefined ? '…' : value.toLocaleString('en')), h('span', { class: 'count-label' }, label)];
    if (!status) return h('li', { class: 'count' }, ...content);
    const next = new URLSearchParams(params);
    next.delete('cursor');
    next.set('status', status);
    return h('li', { class: 'count' }, h('a', { href: queueHash(next), 'aria-current': (params.get('status') ?? 'any') === status ? 'true' : null }, ...content));
  };
  return h(
    'ul',
    { class: 'counts', 'aria-label': 'Cluster counts' },
    item('clusters', counts?.total, 'any'),
    item('cross-platform', counts?.crossPlatform),
    item('new', counts?.byStatus.new, 'new'),
    item('in review', counts?.byStatus['in-review'], 'in-review'),
    item('escalated', counts?.byStatus.escalated, 'escalated'),
    item('dismissed', counts?.byStatus.dismissed, 'dismissed'),
  );
}

function filterForm(params: URLSearchParams): HTMLFormElement {
  const field = (name: string, label: string, input: HTMLElement) => h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), input);
  const numberInput = (name: string, min: number, max: number, step = 1) =>
    h('input', { id: `f-${name}`, name, type: 'number', min, max, step, inputmode: 'numeric', value: params.get(name) ?? '' });
  const status = h(
    'select',
    { id: 'f-status', name: 'status' },
    ...[
      ['any', 'Any status'],
      ['open', 'Open (not dismissed)'],
      ['new', 'New'],
      ['in-review', 'In review'],
      ['escalated', 'Escalated'],
      ['dismissed', 'Dismissed'],
    ].map(([value, label]) => h('option', { value, selected: (params.get('status') ?? 'any') === value }, label)),
  );
  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter the queue',
      onsubmit: (event: SubmitEvent) => {
        event.preventDefault();
        const next = new URLSearchParams();
        new FormData(form).forEach((value, name) => {
          if (String(value).trim() !== '') next.set(name, String(value).trim());
        });
        location.hash = queueHash(next);
      },
    },
    field('status', 'Status', status),
    field('minPlatforms', 'Min. platforms', numberInput('minPlatforms', 1, 100)),
    field('platform', 'Platform', h('input', { id: 'f-platform', name: 'platform', type: 'text', placeholder: 'e.g. chatapp', value: params.get('platform') ?? '', pattern: '[a-z0-9][a-z0-9-]{1,31}' })),
    field('minSize', 'Min. size', numberInput('minSize', 0, 1_000_000)),
    field('maxSize', 'Max. size', numberInput('maxSize', 0, 1_000_000)),
    field('minRisk', 'Min. risk', numberInput('minRisk', 0, 100, 0.1)),
    field('maxRisk', 'Max. risk', numberInput('maxRisk', 0, 100, 0.1)),
    field('updatedSince', 'Updated since', h('input', { id: 'f-updatedSince', name: 'updatedSince', type: 'date', value: params.get('updatedSince')?.slice(0, 10) ?? '' })),
    field('assignee', 'Assignee', h('input', { id: 'f-assignee', name: 'assignee', type: 'text', value: params.get('assignee') ?? '' })),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply'), resetLink()),
  );
  return form;
}

/**
 * Reset goes to the bare queue; from the bare queue the browser fires no hashchange, so the page is drawn
 * again here (filters typed but not applied stayed in the form).
 */
function resetLink(): HTMLAnchorElement {
  return h('a', { href: '#/queue', class: 'button', onclick: (event: MouseEvent) => { if (location.hash === '#/queue') { event.preventDefault(); redraw(); } } }, 'Reset');
}

function clusterRow(cluster: QueueRow, index: number): HTMLTableRowElement {
  const href = `#/cluster/${encodeURIComponent(cluster.id)}`;
  return h(
    'tr',
    { 'data-href': href, 'data-index': index, tabindex: -1, onclick: (event: MouseEvent) => { if (!(event.target as Element).closest('a')) location.hash = href; } },
    h('td', { class: 'num' }, h('span', { class: `risk-badge ${cluster.risk >= 50 ? 'high' : cluster.risk >= 25 ? 'medium' : 'low'}` }, formatRisk(cluster.risk))),
    h('td', {}, h('a', { href }, cluster.id)),
    h('td', {}, ...cluster.platforms.map((platform) => h('span', { class: 'platform-chip', style: `--chip:${platformColor(platform)}` }, platform))),
    h('td', { class: 'num' }, cluster.size),
    h('td', {}, h('span', { class: `status status-${cluster.status}` }, statusLabel(cluster.status))),
    h('td', {}, cluster.assignee ?? '—'),
    h('td', {}, formatDate(cluster.detectedAt)),
  );
}

function runDetectionButton(onDone: () => void): HTMLElement {
  const status = h('span', { class: 'form-status', 'aria-live': 'polite' });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      onclick: async () => {
        button.setAttribute('disabled', '');
        replace(status, 'Detection is running…');
        try {
          const { runId } = await sendJson<{ runId: string }>('POST', '/v1/detect', undefined);
          for (;;) {
            const run = await getJson<{ status: string; error?: string }>(`/v1/runs/${encodeURIComponent(runId)}`);
            if (run.status === 'failed') throw new Error(`Detection failed: ${run.error ?? 'see the server log'}`);
            if (run.status === 'succeeded') break;
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
          onDone();
        } catch (error) {
          replace(status, (error as Error).message);
          button.removeAttribute('disabled');
        }
      },
    },
    'Run detection now',
  );
  return h('div', { class: 'run-detection' }, button, status);
}

/** Renders the queue for the filters in `params` into `main`. */
export async function renderQueue(main: HTMLElement, params: URLSearchParams, signal: AbortSignal): Promise<void> {
  document.title = 'Queue · Crosslink';
  const key = filterKey(params);
  const cursor = params.get('cursor');
  const counts = h('div', { class: 'counts-holder' }, countsBar(null, params));
  const results = h('div', { class: 'results', 'aria-live': 'polite', 'aria-busy': 'true' }, notice('loading', 'Loading clusters…'));
  replace(main, h('section', { class: 'queue', 'aria-labelledby': 'queue-title' }, h('div', { class: 'page-head' }, h('h1', { id: 'queue-title' }, 'Cluster queue'), h('p', { class: 'help' }, 'Highest risk first. Keys: j / k to move, Enter to open.')), counts, filterForm(params), results));

  void getJson<QueueCounts>('/v1/queue/counts')
    .then((value) => {
      if (signal.aborted) return;
      replace(counts, countsBar(value, params));
      performance.mark('crosslink:queue-counts');
    })
    .catch(() => !signal.aborted && replace(counts, notice('error', 'Counts are unavailable right now.', 'The queue below still works; reload to retry.')));

  let page: { clusters: QueueRow[]; next: string | null; runId: string | null };
  try {
    page = await getJson(`/v1/clusters?${apiQuery(params)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) {
      replace(results, notice('error', `The filters are not valid: ${error.message}`, 'Correct the filter, or reset them.', h('a', { href: '#/queue', class: 'button' }, 'Reset filters')));
      results.setAttribute('aria-busy', 'false');
      return;
    }
    throw error;
  }
  if (signal.aborted) return;
  results.setAttribute('aria-busy', 'false');
  const filtered = FILTERS.some((name) => params.get(name) && !(name === 'status' && params.get(name) === 'any'));
  if (page.clusters.length === 0) {
    if (filtered || cursor) replace(results, notice('empty', 'No cluster matches these filters.', 'Widen or reset the filters.', h('a', { href: '#/queue', class: 'button' }, 'Reset filters')));
    else
      replace(
        results,
        notice(
          'empty',
          page.runId ? 'The last detection run found no clusters.' : 'No detection run has finished yet.',
          'Send signals (for a demo: `npm run demo` in another terminal), then run detection.',
          runDetectionButton(redraw),
        ),
      );
    return;
  }

  // How many pages come before this one; null when this cursor was not reached with "Next" (a shared link).
  // (A cursor is always after the one before it, so the walk ends.)
  let pagesBefore: number | null = 0;
  for (let at = cursor ?? ''; at !== '' && pagesBefore !== null; ) {
    const before = previousCursor.get(pageKey(key, at));
    pagesBefore = before === undefined ? null : pagesBefore + 1;
    at = before ?? '';
  }
  const table = h(
    'table',
    { class: 'queue-table' },
    h('caption', { class: 'visually-hidden' }, 'Clusters, highest risk first'),
    h('thead', {}, h('tr', {}, ...['Risk', 'Cluster', 'Platforms', 'Size', 'Status', 'Assignee', 'Updated'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, ...page.clusters.map(clusterRow)),
  );
  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    h('button', {
      type: 'button',
      disabled: !cursor,
      onclick: () => {
        const previous = new URLSearchParams(params);
        const before = cursor ? previousCursor.get(pageKey(key, cursor)) : undefined;
        if (before) previous.set('cursor', before);
        else previous.delete('cursor');
        location.hash = queueHash(previous);
      },
    }, '← Previous'),
    h('span', { class: 'pager-position' }, pagesBefore === null ? `${page.clusters.length} clusters` : `Clusters ${pagesBefore * PAGE_SIZE + 1}–${pagesBefore * PAGE_SIZE + page.clusters.length}`),
    h('button', {
      type: 'button',
      disabled: !page.next,
      onclick: () => {
        previousCursor.set(pageKey(key, page.next!), cursor ?? '');
        const next = new URLSearchParams(params);
        next.set('cursor', page.next!);
        location.hash = queueHash(next);
      },
    }, 'Next →'),
  );
  replace(results, table, pager);
  // For bench:console: when the rows were on the page, from navigation start.
  performance.mark('crosslink:queue-rows');
  bindRowKeys(table);
}

function bindRowKeys(table: HTMLTableElement): void {
  const rows = Array.from(table.tBodies[0].rows);
  let selected = -1;
  const select = (index: number) => {
    selected = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, n) => row.classList.toggle('selected', n === selected));
    rows[selected].focus();
  };
  const onKey = (event: KeyboardEvent) => {
    if (!document.body.contains(table)) {
      document.removeEventListener('keydown', onKey);
      return;
    }
    const target = event.target as HTMLElement;
    if (target.closest('input, select, textarea') || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === 'j' || (event.key === 'ArrowDown' && target.closest('tbody'))) {
      event.preventDefault();
      select(selected + 1);
    } else if (event.key === 'k' || (event.key === 'ArrowUp' && target.closest('tbody'))) {
      event.preventDefault();
      select(selected - 1);
    } else if (event.key === 'Enter' && selected >= 0 && target.closest('tbody')) {
      location.hash = rows[selected].dataset.href!;
    }
  };
  document.addEventListener('keydown', onKey);
}
