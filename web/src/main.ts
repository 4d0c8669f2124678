/**
 * The investigator console: a hash router over three pages (sign-in, queue, cluster) and a print view.
 * Routes: `#/signin`, `#/queue?<filters>`, `#/cluster/<id>`, `#/cluster/<id>/print`.
 */
import { ApiError, clearSession, currentSession, getJson, saveSession } from './api.js';
import { h, notice, replace } from './dom.js';
import { renderQueue } from './queue.js';

const main = document.getElementById('main')!;
const account = document.getElementById('account')!;

/** The cluster page (and sigma with it) loads on first use, so that the queue's first paint does not wait for it. */
let clusterPage: typeof import('./cluster.js') | undefined;
const loadClusterPage = async () => (clusterPage ??= await import('./cluster.js'));

/** Each page gets a signal that aborts when the user navigates away, so late answers do not paint over the next page. */
let pageController = new AbortController();

function renderAccountBar(): void {
  const session = currentSession();
  if (!session) {
    replace(account);
    return;
  }
  replace(
    account,
    h('span', { class: 'who' }, session.reviewer ? `Signed in as ${session.reviewer}` : 'Signed in'),
    h('button', { type: 'button', class: 'link-button', onclick: () => signOut() }, 'Sign out'),
  );
}

function signOut(): void {
  clearSession();
  location.hash = '#/signin';
}

function renderSignIn(reason?: string): void {
  document.title = 'Sign in · Crosslink';
  const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-help' });
  const reviewer = h('input', { id: 'reviewer', name: 'reviewer', type: 'text', autocomplete: 'name', maxlength: 64, 'aria-describedby': 'reviewer-help' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' }, reason ? notice('error', reason) : null);
  const form = h(
    'form',
    {
      class: 'signin card',
      onsubmit: async (event: SubmitEvent) => {
        event.preventDefault();
        const session = { token: token.value.trim(), reviewer: reviewer.value.trim() };
        replace(status, notice('loading', 'Checking the token…'));
        try {
          await getJson('/v1/status', session);
          saveSession(session);
          location.hash = '#/queue';
        } catch (error) {
          replace(status, notice('error', error instanceof ApiError && error.status === 401 ? 'That token was not accepted.' : (error as Error).message, 'Use the investigatorToken from credentials.json (the path `npm start` printed).'));
          token.focus();
        }
      },
    },
    h('h1', {}, 'Sign in to the Crosslink console'),
    h('label', { for: 'token' }, 'Investigator token'),
    token,
    h('p', { id: 'token-help', class: 'help' }, 'Locally: investigatorToken in .crosslink/credentials.json. It is kept in this tab only and forgotten when you close it.'),
    h('label', { for: 'reviewer' }, 'Your name (optional)'),
    reviewer,
    h('p', { id: 'reviewer-help', class: 'help' }, 'Shown in the audit log beside the token, and used for "Assign to me".'),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    status,
  );
  replace(main, form);
  token.focus();
}

async function route(): Promise<void> {
  pageController.abort();
  clusterPage?.disposeClusterPage();
  pageController = new AbortController();
  const signal = pageController.signal;
  renderAccountBar();
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'signin' || !currentSession()) {
    renderSignIn(parts[0] !== 'signin' && location.hash && location.hash !== '#/' ? 'Sign in to continue.' : undefined);
    return;
  }
  try {
    if ((parts[0] === 'cluster' || parts[0] === 'clusters') && parts[1]) await (await loadClusterPage()).renderCluster(main, decodeURIComponent(parts[1]), { print: parts[2] === 'print', signal });
    else await renderQueue(main, new URLSearchParams(query), signal);
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof ApiError && error.status === 401) {
      clearSession();
      renderSignIn(error.message);
      return;
    }
    replace(main, notice('error', (error as Error).message, 'Reload the page to retry.', h('a', { href: '#/queue', class: 'button' }, 'Back to the queue')));
  }
}

// The skip link must not touch the hash: the hash is the router's.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => void route());
void route();
