/**
 * The cluster page: the report with its evidence (graph, links, members by platform, timeline, hubs
 * excluded), why two members are linked, verdicts, what changed in the last run, and the review panel
 * (status, assignee, notes, audit log, exports). `print` renders the same report as a printable page.
 */
import type { AuditEntry } from '../../lib/graph/audit-repository.js';
import type { ClusterReport } from '../../lib/graph/cluster-repository.js';
import type { ReviewNote, ReviewState } from '../../lib/graph/review-repository.js';
import { evidencePath, EvidencePathError } from '../../lib/reports/evidence-path.js';
import type { ClusterContext } from '../../lib/reports/review-service.js';
import { currentSession, download, getJson, sendJson } from './api.js';
import { formatDate, formatRisk, h, notice, platformColor, replace, statusLabel } from './dom.js';
import { drawClusterGraph, type ClusterGraphView } from './graph.js';

type Review = ReviewState & { clusterId: string; notes: ReviewNote[] };
type Ref = { platform: string; account: string };

const STATUSES = ['new', 'in-review', 'escalated', 'dismissed'] as const;
const TIMELINE_SHOWN = 200;
const keyOf = (ref: Ref) => `${ref.platform}#${ref.account}`;
const labelOf = (ref: Ref) => `${ref.platform}/${ref.account}`;
const fromKey = (key: string): Ref => ({ platform: key.slice(0, key.indexOf('#')), account: key.slice(key.indexOf('#') + 1) });

function section(id: string, title: string, ...children: Array<Node | string | null>): HTMLElement {
  return h('section', { class: 'panel', 'aria-labelledby': `${id}-title`, id }, h('h2', { id: `${id}-title` }, title), ...children);
}

function riskSection(report: ClusterReport): HTMLElement {
  return section(
    'risk',
    'Risk',
    h('p', { class: 'risk-total' }, h('span', { class: 'risk-number' }, formatRisk(report.risk)), ' of 100'),
    report.riskReasons.length === 0
      ? h('p', { class: 'help' }, 'No risk factor applies.')
      : h('ul', { class: 'reasons' }, ...report.riskReasons.map((reason) => h('li', {}, h('span', { class: 'points' }, `+${reason.points.toFixed(1)}`), ' ', reason.detail))),
  );
}

function membersSection(report: ClusterReport, context: ClusterContext, pick?: (key: string) => void): HTMLElement {
  const facts = new Map(context.members.map((member) => [keyOf(member), member]));
  const byPlatform = new Map<string, Ref[]>();
  for (const member of report.members) byPlatform.set(member.platform, [...(byPlatform.get(member.platform) ?? []), member]);
  return section(
    'members',
    `Members (${report.members.length})`,
    ...[...byPlatform.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([platform, members]) =>
      h(
        'div',
        { class: 'platform-group' },
        h('h3', {}, h('span', { class: 'platform-chip', style: `--chip:${platformColor(platform)}` }, platform), ` ${members.length} account${members.length === 1 ? '' : 's'}`),
        h(
          'table',
          { class: 'compact' },
          h('thead', {}, h('tr', {}, ...['Account', 'Created', 'Minors contacted (7d)', 'Reports (30d)', ...(pick ? ['Why linked'] : [])].map((label) => h('th', { scope: 'col' }, label)))),
          h(
            'tbody',
            {},
            ...members.map((member) => {
              const fact = facts.get(keyOf(member));
              return h(
                'tr',
                {},
                h('td', {}, member.account),
                h('td', {}, formatDate(fact?.createdAt)),
                h('td', { class: 'num' }, fact?.minorContacts7d ?? '—'),
                h('td', { class: 'num' }, fact?.reports30d ?? '—'),
                pick ? h('td', {}, h('button', { type: 'button', class: 'small', onclick: () => pick(keyOf(member)), 'aria-label': `Pick ${labelOf(member)} for "Why linked"` }, 'Pick')) : null,
              );
            }),
          ),
        ),
      ),
    ),
  );
}

function linksTable(report: ClusterReport): HTMLElement {
  const links = [...report.links].sort((x, y) => y.weight - x.weight);
  return h(
    'details',
    { class: 'links' },
    h('summary', {}, report.linksTotal ? `${links.length} of ${report.linksTotal} links as a table (the strongest, and a chain to every member)` : `All ${links.length} links as a table`),
    h(
      'table',
      { class: 'compact' },
      h('thead', {}, h('tr', {}, ...['Account', 'Account', 'Signal types', 'Weight'].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, ...links.map((link) => h('tr', {}, h('td', {}, labelOf(link.a)), h('td', {}, labelOf(link.b)), h('td', {}, link.types.join(', ')), h('td', { class: 'num' }, link.weight.toFixed(3))))),
    ),
  );
}

function hubsSection(context: ClusterContext): HTMLElement {
  return section(
    'hubs',
    'Excluded shared identifiers',
    context.hubs.length === 0
      ? h('p', { class: 'help' }, 'No member shares an identifier that detection left out as shared infrastructure.')
      : h(
          'div',
          {},
          h('p', { class: 'help' }, 'Shared by so many accounts (a carrier address, a default device id) that they were not used as evidence.'),
          h('ul', { class: 'hubs' }, ...context.hubs.map((hub) => h('li', {}, h('strong', {}, hub.type), ` ${hub.value.slice(0, 12)}… shared by ${hub.accounts.toLocaleString('en')} accounts, here by ${hub.members.map(labelOf).join(', ')}`))),
        ),
  );
}

function timelineSection(report: ClusterReport, context: ClusterContext): HTMLElement {
  const events: Array<{ at: string; text: string; kind: string }> = [];
  for (const member of context.members) if (member.createdAt) events.push({ at: member.createdAt, kind: 'created', text: `${labelOf(member)} created` });
  for (const seen of context.observations) events.push({ at: seen.observedAt, kind: 'observed', text: `${labelOf(seen)} seen with ${seen.type} ${seen.value.slice(0, 8)}…` });
  // By instant: platforms send their own offsets (12:00+05:00 is before 09:00Z), so the strings do not sort.
  events.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
  const list = (shown: typeof events) => h('ol', { class: 'timeline' }, ...shown.map((event) => h('li', { class: `event-${event.kind}` }, h('time', { datetime: event.at }, formatDate(event.at)), ' ', event.text)));
  const holder = h('div', {}, list(events.slice(0, TIMELINE_SHOWN)));
  if (events.length > TIMELINE_SHOWN) holder.append(h('button', { type: 'button', onclick: (event: Event) => { replace(holder, list(events)); (event.target as HTMLElement).remove(); } }, `Show all ${events.length} events`));
  return section(
    'timeline',
    'Timeline',
    events.length === 0 ? h('p', { class: 'help' }, 'No creation dates or observations are stored for these accounts.') : holder,
    context.observationsTruncated ? h('p', { class: 'help' }, `Observations cover the first members only (the cluster has ${report.size}).`) : null,
  );
}

function changesSection(report: ClusterReport, context: ClusterContext): HTMLElement {
  const lines: Array<Node | string> = [];
  const { change } = context;
  if (report.removedAt) {
    const where = change.dissolvedInto.flatMap((id, n) => [n > 0 ? ', ' : '', h('a', { href: `#/cluster/${encodeURIComponent(id)}` }, id)]);
    lines.push(h('li', { class: 'warning' }, `Dissolved by run ${report.removedInRun} at ${formatDate(report.removedAt)}: `, ...(where.length > 0 ? ['its accounts are now in ', ...where, '.'] : ['its accounts are no longer one cluster.'])));
  }
  lines.push(h('li', {}, `Last changed by run ${change.runId} at ${formatDate(change.detectedAt)}.`));
  if (change.kind === 'born') lines.push(h('li', {}, 'New in that run: no earlier cluster carried these accounts.'));
  if (change.kind === 'kept') lines.push(h('li', {}, 'Carried over from the run before under the same id (members, links or risk changed).'));
  for (const from of change.splitFrom) lines.push(h('li', {}, 'Split from ', h('a', { href: `#/cluster/${encodeURIComponent(from)}` }, from), '.'));
  if (change.mergedFrom.length > 0) lines.push(h('li', {}, 'Merged from ', ...change.mergedFrom.flatMap((id, n) => [n > 0 ? ', ' : '', h('a', { href: `#/cluster/${encodeURIComponent(id)}` }, id)]), '.'));
  return section('changes', 'What changed in the last run', h('ul', {}, ...lines));
}

function verdictsSection(report: ClusterReport, context: ClusterContext): HTMLElement {
  const applied = new Set(report.verdicts.map((verdict) => `${verdict.a}|${verdict.b}|${verdict.kind}|${verdict.atMs}`));
  const pending = context.recordedVerdicts.filter((verdict) => !applied.has(`${verdict.a}|${verdict.b}|${verdict.kind}|${verdict.atMs}`));
  const line = (verdict: ClusterReport['verdicts'][number]) =>
    h('li', {}, `${labelOf(fromKey(verdict.a))} and ${labelOf(fromKey(verdict.b))}: `, h('strong', {}, verdict.kind === 'same-actor' ? 'same actor' : 'not the same actor'), ` (${verdict.by}, ${formatDate(new Date(verdict.atMs).toISOString())})`);
  return section(
    'verdicts',
    'Verdicts',
    report.verdicts.length === 0 ? h('p', { class: 'help' }, 'No verdict shaped this cluster.') : h('div', {}, h('h3', {}, 'Shaped this cluster'), h('ul', {}, ...report.verdicts.map(line))),
    pending.length === 0 ? null : h('div', {}, h('h3', {}, 'Recorded, applied from the next run'), h('ul', {}, ...pending.map(line))),
  );
}

interface WhyLinked {
  element: HTMLElement;
  pick(key: string): void;
}

function whyLinkedSection(report: ClusterReport, clusterId: string, graph: () => ClusterGraphView | null, onVerdict: () => void): WhyLinked {
  const options = report.members.map((member) => h('option', { value: keyOf(member) }, labelOf(member)));
  const selectA = h('select', { id: 'why-a', name: 'a' }, h('option', { value: '' }, 'Choose an account'), ...options.map((option) => option.cloneNode(true) as HTMLOptionElement));
  const selectB = h('select', { id: 'why-b', name: 'b' }, h('option', { value: '' }, 'Choose an account'), ...options.map((option) => option.cloneNode(true) as HTMLOptionElement));
  const result = h('div', { class: 'path-result', 'aria-live': 'polite' });
  const verdictStatus = h('p', { id: 'verdict-status', class: 'form-status', 'aria-live': 'polite' });
  const show = () => {
    graph()?.highlight([]);
    if (!selectA.value || !selectB.value) {
      replace(result, h('p', { class: 'help' }, 'Choose two members (or click two nodes in the graph) to see the chain of evidence between them.'));
      return;
    }
    try {
      const path = evidencePath(report.links, fromKey(selectA.value), fromKey(selectB.value));
      if (path.hops.length === 0) {
        replace(result, h('p', { class: 'help' }, 'That is the same account twice: choose two different members.'));
        return;
      }
      graph()?.highlight([keyOf(path.from), ...path.hops.map((hop) => keyOf(hop.to))]);
      replace(
        result,
        h('p', {}, `${path.hops.length} link${path.hops.length === 1 ? '' : 's'}; the weakest weighs ${path.weakestWeight.toFixed(3)}.`),
        h(
          'ol',
          { class: 'path' },
          ...path.hops.map((hop) =>
            h(
              'li',
              {},
              h('p', {}, h('strong', {}, labelOf(hop.from)), ' — ', h('strong', {}, labelOf(hop.to)), `: ${hop.link.types.join(' + ')}, weight ${hop.link.weight.toFixed(3)}`),
              h('ul', { class: 'evidence' }, ...hop.link.evidence.map((evidence) => h('li', {}, `${evidence.type} (weight ${evidence.weight.toFixed(3)}${evidence.distance !== undefined ? `, photo distance ${evidence.distance}` : ''}), observed ${formatDate(evidence.observedAt)}`))),
            ),
          ),
        ),
      );
    } catch (error) {
      replace(result, notice('error', error instanceof EvidencePathError ? error.message : String(error)));
    }
  };
  selectA.addEventListener('change', show);
  selectB.addEventListener('change', show);
  const verdictButton = (kind: 'same-actor' | 'not-same-actor', label: string) =>
    h(
      'button',
      {
        type: 'button',
        id: `verdict-${kind}`,
        onclick: async () => {
          if (!selectA.value || !selectB.value || selectA.value === selectB.value) {
            replace(verdictStatus, 'Choose two different members first.');
            return;
          }
          try {
            await sendJson('POST', '/v1/verdicts', { a: fromKey(selectA.value), b: fromKey(selectB.value), kind, clusterId });
            replace(verdictStatus, `Recorded: ${label.toLowerCase()}. The next detection run honours it.`);
            onVerdict();
          } catch (error) {
            replace(verdictStatus, `Not recorded: ${(error as Error).message}`);
          }
        },
      },
      label,
    );
  const element = section(
    'why',
    'Why linked',
    h('div', { class: 'pair' }, h('div', { class: 'field' }, h('label', { for: 'why-a' }, 'Account A'), selectA), h('div', { class: 'field' }, h('label', { for: 'why-b' }, 'Account B'), selectB)),
    result,
    h('div', { class: 'verdict-actions' }, h('span', {}, 'Verdict on A and B:'), verdictButton('same-actor', 'Same actor'), verdictButton('not-same-actor', 'Not the same actor')),
    verdictStatus,
  );
  show();
  return {
    element,
    pick(key) {
      if (!selectA.value || (selectA.value && selectB.value)) {
        selectA.value = key;
        selectB.value = '';
      } else selectB.value = key;
      show();
      element.scrollIntoView({ block: 'nearest' });
    },
  };
}

function reviewPanel(clusterId: string, review: Review, onChange: () => void): HTMLElement {
  const session = currentSession();
  const status = h('select', { id: 'review-status', name: 'status' }, ...STATUSES.map((value) => h('option', { value, selected: review.status === value }, statusLabel(value))));
  const assignee = h('input', { id: 'review-assignee', name: 'assignee', type: 'text', maxlength: 64, value: review.assignee ?? '', placeholder: 'Nobody' });
  const formStatus = h('p', { id: 'review-form-status', class: 'form-status', 'aria-live': 'polite' });
  const save = async (change: Record<string, unknown>, done: string) => {
    try {
      await sendJson('PATCH', `/v1/clusters/${encodeURIComponent(clusterId)}/review`, change);
      replace(formStatus, done);
      onChange();
    } catch (error) {
      replace(formStatus, `Not saved: ${(error as Error).message}`);
    }
  };
  const note = h('textarea', { id: 'note-text', name: 'text', rows: 3, maxlength: 4000, required: true });
  return section(
    'review',
    'Review',
    h(
      'form',
      {
        class: 'review-form',
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          // Only what this investigator changed: a field sent unchanged would overwrite (and log over) what
          // someone else set since this page was drawn.
          const typed = assignee.value.trim() || null;
          const change: Record<string, unknown> = {};
          if (status.value !== review.status) change.status = status.value;
          if (typed !== review.assignee) change.assignee = typed;
          if (Object.keys(change).length === 0) replace(formStatus, 'Nothing to save: change the status or the assignee first.');
          else void save(change, 'Saved.');
        },
      },
      h('div', { class: 'field' }, h('label', { for: 'review-status' }, 'Status'), status),
      h('div', { class: 'field' }, h('label', { for: 'review-assignee' }, 'Assignee'), assignee),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', id: 'review-save', class: 'primary' }, 'Save review'),
        session?.reviewer ? h('button', { type: 'button', id: 'review-assign-me', onclick: () => void save({ assignee: session.reviewer }, `Assigned to ${session.reviewer}.`) }, 'Assign to me') : null,
      ),
      formStatus,
      review.updatedAt ? h('p', { class: 'help' }, `Last changed by ${review.updatedBy} at ${formatDate(review.updatedAt)}.`) : null,
    ),
    h('h3', {}, `Notes (${review.notes.length})`),
    review.notes.length === 0 ? h('p', { class: 'help' }, 'No notes yet.') : h('ul', { class: 'notes' }, ...review.notes.map((item) => h('li', {}, h('p', { class: 'note-text' }, item.text), h('p', { class: 'help' }, `${item.by}, ${formatDate(item.at)}`)))),
    h(
      'form',
      {
        class: 'note-form',
        onsubmit: async (event: SubmitEvent) => {
          event.preventDefault();
          if (!note.value.trim()) {
            replace(formStatus, 'The note is empty: write the note, then add it.');
            note.focus();
            return;
          }
          try {
            await sendJson('POST', `/v1/clusters/${encodeURIComponent(clusterId)}/notes`, { text: note.value });
            replace(formStatus, 'Note added.');
            onChange();
          } catch (error) {
            replace(formStatus, `Note not added: ${(error as Error).message}`);
          }
        },
      },
      h('label', { for: 'note-text' }, 'Add a note'),
      note,
      h('button', { type: 'submit', id: 'note-add' }, 'Add note'),
    ),
  );
}

function auditSection(clusterId: string, first: { entries: AuditEntry[]; next: string | null }): HTMLElement {
  const list = h('ol', { class: 'audit-log' });
  const more = h('div', {});
  const status = h('p', { class: 'form-status', 'aria-live': 'polite' });
  const older = async (cursor: string) => {
    replace(status);
    try {
      append(await getJson(`/v1/clusters/${encodeURIComponent(clusterId)}/audit?limit=50&cursor=${encodeURIComponent(cursor)}`));
    } catch (error) {
      replace(status, `Older entries did not load: ${(error as Error).message} Press "Older entries" to retry.`);
    }
  };
  const append = (page: { entries: AuditEntry[]; next: string | null }) => {
    list.append(
      ...page.entries.map((entry) =>
        h('li', {}, h('p', { class: 'help' }, h('time', { datetime: entry.at }, formatDate(entry.at)), ' · ', entry.actor), h('p', {}, h('span', { class: 'tag' }, entry.action), ' ', entry.detail)),
      ),
    );
    replace(
      more,
      page.next
        ? h('button', { type: 'button', onclick: () => void older(page.next!) }, 'Older entries')
        : null,
    );
  };
  append(first);
  return section('audit', 'Audit log', first.entries.length === 0 ? h('p', { class: 'help' }, 'Nothing recorded yet.') : list, more, status);
}

function exportActions(clusterId: string, onExport: () => void): HTMLElement {
  const status = h('span', { id: 'export-status', class: 'form-status', 'aria-live': 'polite' });
  const button = (format: string) =>
    h(
      'button',
      {
        type: 'button',
        id: `export-${format}`,
        'data-format': format,
        onclick: async () => {
          try {
            const { fileName } = await download(`/v1/clusters/${encodeURIComponent(clusterId)}/export?format=${format}`);
            replace(status, `Downloaded ${fileName}.`);
            onExport();
          } catch (error) {
            replace(status, `Export failed: ${(error as Error).message}`);
          }
        },
      },
      format.toUpperCase(),
    );
  return h('div', { class: 'export', role: 'group', 'aria-label': 'Export' }, h('span', {}, 'Export:'), button('json'), button('csv'), button('gexf'), h('a', { class: 'button', href: `#/cluster/${encodeURIComponent(clusterId)}/print` }, 'Printable report'), status);
}

function printView(report: ClusterReport, context: ClusterContext, review: Review, audit: AuditEntry[]): HTMLElement {
  return h(
    'article',
    { class: 'print-report' },
    h('p', { class: 'no-print' }, h('a', { href: `#/cluster/${encodeURIComponent(report.id)}` }, '← Back to the cluster'), ' ', h('button', { type: 'button', class: 'primary', onclick: () => window.print() }, 'Print')),
    h('h1', {}, `Cluster ${report.id}`),
    h('p', {}, `Risk ${formatRisk(report.risk)} of 100 · ${report.size} accounts on ${report.platforms.join(', ')} · status ${statusLabel(review.status)}${review.assignee ? ` · assigned to ${review.assignee}` : ''} · detection run ${report.runId} (${formatDate(report.detectedAt)}) · printed ${formatDate(new Date().toISOString())}`),
    riskSection(report),
    membersSection(report, context),
    section(
      'links-print',
      'Links and their evidence',
      h(
        'table',
        { class: 'compact' },
        h('thead', {}, h('tr', {}, ...['Account', 'Account', 'Weight', 'Evidence'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...[...report.links].sort((x, y) => y.weight - x.weight).map((link) => h('tr', {}, h('td', {}, labelOf(link.a)), h('td', {}, labelOf(link.b)), h('td', { class: 'num' }, link.weight.toFixed(3)), h('td', {}, link.evidence.map((e) => `${e.type} ${e.weight.toFixed(2)} (${formatDate(e.observedAt)})`).join('; '))))),
      ),
    ),
    hubsSection(context),
    verdictsSection(report, context),
    changesSection(report, context),
    section('notes-print', 'Notes', review.notes.length === 0 ? h('p', {}, 'None.') : h('ul', {}, ...review.notes.map((item) => h('li', {}, `${item.text} — ${item.by}, ${formatDate(item.at)}`)))),
    section('audit-print', 'Audit log (latest)', h('ul', {}, ...audit.map((entry) => h('li', {}, `${formatDate(entry.at)} ${entry.actor}: ${entry.detail}`)))),
  );
}

/** The graph on screen, killed before the page is drawn again (sigma holds WebGL contexts and listeners). */
let activeGraph: ClusterGraphView | null = null;

/** Releases the cluster page's graph; the router calls it on every navigation. */
export function disposeClusterPage(): void {
  activeGraph?.destroy();
  activeGraph = null;
}

/** Renders cluster `clusterId` into `main` (or its printable report). */
export async function renderCluster(main: HTMLElement, clusterId: string, options: { print: boolean; signal: AbortSignal; report?: ClusterReport }): Promise<void> {
  disposeClusterPage();
  document.title = `Cluster ${clusterId} · Crosslink`;
  if (!options.report) replace(main, notice('loading', `Loading cluster ${clusterId}…`));
  const base = `/v1/clusters/${encodeURIComponent(clusterId)}`;
  let report: ClusterReport;
  try {
    // Reading the report is audited as a view; a refresh after a change reuses it (the context, read again, is audited again).
    report = options.report ?? (await getJson<ClusterReport>(base));
  } catch (error) {
    if ((error as { status?: number }).status === 404) {
      replace(main, notice('empty', `There is no cluster ${clusterId}.`, 'It may never have existed under this id; pick a cluster from the queue.', h('a', { href: '#/queue', class: 'button' }, 'Back to the queue')));
      return;
    }
    throw error;
  }
  const [context, review, audit] = await Promise.all([
    getJson<ClusterContext>(`${base}/context`),
    getJson<Review>(`${base}/review`),
    getJson<{ entries: AuditEntry[]; next: string | null }>(`${base}/audit?limit=50`),
  ]);
  if (options.signal.aborted) return;
  if (options.print) {
    replace(main, printView(report, context, review, audit.entries));
    return;
  }
  // A change redraws the page: the control that made it keeps the focus, and what each form said stays said.
  const refresh = () => {
    const scroll = window.scrollY;
    const focused = main.contains(document.activeElement) ? document.activeElement?.id : undefined;
    const said = Array.from(main.querySelectorAll<HTMLElement>('.form-status[id]')).filter((element) => element.textContent).map((element) => [element.id, element.textContent!] as const);
    const chosen = Array.from(main.querySelectorAll<HTMLSelectElement>('#why-a, #why-b')).map((element) => [element.id, element.value] as const);
    void renderCluster(main, clusterId, { ...options, report }).then(() => {
      if (options.signal.aborted) return;
      for (const [id, value] of chosen) {
        const select = document.getElementById(id) as HTMLSelectElement | null;
        if (select && value) {
          select.value = value;
          select.dispatchEvent(new Event('change'));
        }
      }
      for (const [id, text] of said) {
        const element = document.getElementById(id);
        if (element) replace(element, text);
      }
      window.scrollTo(0, scroll);
      if (focused) document.getElementById(focused)?.focus({ preventScroll: true });
    }, (error: Error) => {
      // The page drawn before stays, said to be out of date (the failure went unhandled, the page looked current).
      if (options.signal.aborted) return;
      main.querySelector('.stale-notice')?.remove();
      const stale = notice('error', `This page could not be refreshed: ${error.message}`, 'What it shows may be out of date: reload the page to see the current state.');
      stale.classList.add('stale-notice');
      main.querySelector('.cluster-page')?.prepend(stale);
    });
  };
  let graphView: ClusterGraphView | null = null;
  const why = whyLinkedSection(report, clusterId, () => graphView, refresh);
  const graphBox = h('div', { class: 'graph', role: 'img', 'aria-label': `Graph of the ${report.size} accounts and ${report.links.length} links; the same links are listed in the table below it` });
  // A report too large to store whole holds part of its links: the graph and the table show those.
  const trimmedNote = report.linksTotal
    ? h(
        'p',
        { class: 'trimmed-note', role: 'note' },
        `This cluster has ${report.linksTotal} links; its report holds ${report.links.length}, the most one stored report can: a chain to every member first, as far as it fits, then the strongest. A cluster this large is usually accounts glued by shared infrastructure below the hub threshold, not one actor: an operator can lower the hub threshold.`,
      )
    : null;
  const legend = h('p', { class: 'legend' }, ...report.platforms.map((platform) => h('span', { class: 'platform-chip', style: `--chip:${platformColor(platform)}` }, platform)), h('span', { class: 'help' }, ' Edges: signal types · weight (thicker is stronger). Click two nodes to see why they are linked.'));
  replace(
    main,
    h(
      'div',
      { class: 'cluster-page' },
      h(
        'header',
        { class: 'cluster-head' },
        h('p', {}, h('a', { href: '#/queue' }, '← Queue')),
        h('h1', {}, `Cluster ${report.id}`),
        h(
          'p',
          { class: 'facts' },
          h('span', { class: `risk-badge ${report.risk >= 50 ? 'high' : report.risk >= 25 ? 'medium' : 'low'}` }, `Risk ${formatRisk(report.risk)}`),
          ` ${report.size} accounts · `,
          ...report.platforms.map((platform) => h('span', { class: 'platform-chip', style: `--chip:${platformColor(platform)}` }, platform)),
          ' ',
          h('span', { class: `status status-${review.status}` }, statusLabel(review.status)),
          report.removedAt ? h('span', { class: 'status status-dismissed' }, 'dissolved') : null,
        ),
        exportActions(clusterId, refresh),
      ),
      h(
        'div',
        { class: 'columns' },
        h('div', { class: 'main-column' }, section('graph', 'Graph', trimmedNote, legend, graphBox, linksTable(report)), why.element, membersSection(report, context, (key) => why.pick(key)), timelineSection(report, context)),
        h('div', { class: 'side-column' }, reviewPanel(clusterId, review, refresh), riskSection(report), changesSection(report, context), verdictsSection(report, context), hubsSection(context), auditSection(clusterId, audit)),
      ),
    ),
  );
  try {
    graphView = drawClusterGraph(graphBox, report, (key) => why.pick(key));
    activeGraph = graphView;
  } catch {
    replace(graphBox, notice('error', 'The interactive graph cannot be drawn in this browser (it needs WebGL).', 'Every link is listed in the table below.'));
  }
}
