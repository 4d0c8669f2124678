/** A small DOM builder: text always goes in as text, never as HTML. */

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | null | undefined | ((event: any) => void)>;

/**
 * Creates an element; `on<event>` props become listeners, `true`/`false` props toggle attributes.
 *
 * @example
 * h('button', { type: 'button', onclick: () => save() }, 'Save');
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (name === 'value' && 'value' in element) (element as HTMLInputElement).value = String(value);
    else element.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child instanceof Node ? child : String(child));
  return element;
}

/** Replaces a container's content. */
export function replace(container: Element, ...children: Child[]): void {
  container.replaceChildren(...children.filter((child): child is Node | string | number => child !== null && child !== undefined && child !== false).map((child) => (child instanceof Node ? child : String(child))));
}

/** A message block for empty and error states: what happened and what to do. */
export function notice(kind: 'empty' | 'error' | 'loading', title: string, advice?: Child, action?: Node): HTMLElement {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('p', { class: 'notice-title' }, title), advice ? h('p', {}, advice) : null, action ?? null);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC');
}

export function formatRisk(risk: number): string {
  return risk.toFixed(1);
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const COLORS_KEY = 'crosslink.platformColors';

/**
 * A colour per platform, the same in the graph, the member list and the legend: platforms get the
 * palette's colours in the order this tab first meets them (a hash would give two platforms one colour).
 */
let assigned: Record<string, string> | undefined;
export function platformColor(platform: string): string {
  assigned ??= JSON.parse(sessionStorage.getItem(COLORS_KEY) ?? '{}') as Record<string, string>;
  if (!assigned[platform]) {
    assigned[platform] = PALETTE[Object.keys(assigned).length % PALETTE.length];
    sessionStorage.setItem(COLORS_KEY, JSON.stringify(assigned));
  }
  return assigned[platform];
}

export function statusLabel(status: string): string {
  return { new: 'New', 'in-review': 'In review', escalated: 'Escalated', dismissed: 'Dismissed' }[status] ?? status;
}
