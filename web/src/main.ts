/**
 * The investigator console: a hash router over three pages (sign-in, queue, cluster) and a print view.
 * Routes: `#/signin`, `#/queue?<filters>`, `#/cluster/<id>`, `#/cluster/<id>/print`.
 * Sign-in: with the investigator token when the site has no `/config.json` (the local stack); through
 * the identity provider it names otherwise (AWS: the deployment's Cognito user pool), see oidc.ts.
 */
import { ApiError, clearSession, currentSession, getJson, saveSession } from './api.js';
import { h, notice, replace } from './dom.js';
import { beginSignIn, completeSignIn, discover, parseCallback, providerFromConfig, redirectUriFor, signOutUrl, type OidcEndpoints, type OidcProvider, type RuntimeConfig } from './oidc.js';
import { renderQueue } from './queue.js';

/** The identity provider `/config.json` names, with its endpoints; null on the local stack. */
type IdentityProvider = { provider: OidcProvider; endpoints: OidcEndpoints } | null;

const SIGNED_OUT_KEY = 'crosslink.signedOut';

async function loadRuntimeConfig(): Promise<RuntimeConfig | null> {
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    return response.ok ? ((await response.json()) as RuntimeConfig) : null;
  } catch {
    return null;
  }
}

// Asked on first need only, so that a signed-in page load does not wait for it.
let identityProvider: Promise<IdentityProvider> | undefined;
function identity(): Promise<IdentityProvider> {
  identityProvider ??= loadRuntimeConfig().then(async (config) => {
    const provider = providerFromConfig(config);
    return provider ? { provider, endpoints: await discover(provider) } : null;
  });
  identityProvider.catch(() => (identityProvider = undefined));
  return identityProvider;
}

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

async function signOut(): Promise<void> {
  const idToken = currentSession()?.token;
  clearSession();
  const idp = await identity().catch(() => null);
  const url = idp && signOutUrl(idp.endpoints, { clientId: idp.provider.clientId, redirectUri: redirectUriFor(location.origin), idToken });
  if (!url) {
    location.hash = '#/signin';
    return;
  }
  // The provider sends the browser back to the console's root: this tells the page it was a sign-out.
  sessionStorage.setItem(SIGNED_OUT_KEY, '1');
  location.assign(url);
}

/** The sign-in page: the token form locally, a button to the identity provider on AWS. */
async function renderSignInPage(reason: string | undefined, signal: AbortSignal): Promise<void> {
  let idp: IdentityProvider;
  try {
    idp = await identity();
  } catch (error) {
    if (!signal.aborted) replace(main, notice('error', (error as Error).message, 'Reload the page to retry.'));
    return;
  }
  if (signal.aborted) return;
  if (!idp) renderSignIn(reason);
  else renderProviderSignIn(idp, reason);
}

function renderProviderSignIn(idp: NonNullable<IdentityProvider>, reason?: string): void {
  document.title = 'Sign in · Crosslink';
  const signedOut = sessionStorage.getItem(SIGNED_OUT_KEY) !== null;
  sessionStorage.removeItem(SIGNED_OUT_KEY);
  const returnTo = location.hash && !location.hash.startsWith('#/signin') ? location.hash : '#/queue';
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' }, reason ? notice('error', reason) : signedOut ? notice('empty', 'You are signed out.', 'Sign in again to continue.') : null);
  const button = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      onclick: async () => {
        replace(status, notice('loading', 'Going to the sign-in page…'));
        try {
          await beginSignIn(idp.provider, idp.endpoints, returnTo);
        } catch (error) {
          replace(status, notice('error', (error as Error).message));
        }
      },
    },
    'Sign in',
  );
  replace(
    main,
    h(
      'div',
      { class: 'signin card' },
      h('h1', {}, 'Sign in to the Crosslink console'),
      h('p', { class: 'help' }, `You will sign in on ${new URL(idp.endpoints.authorization_endpoint).host} with your investigator account, then come back here. Your sign-in is kept in this tab only.`),
      button,
      status,
    ),
  );
  button.focus();
}

/** When the page is the identity provider's callback (`/?code=&state=`), finishes the sign-in and cleans the URL. */
async function finishSignInIfCallback(): Promise<string | undefined> {
  if (parseCallback(location.search).kind === 'none') return undefined;
  const search = location.search;
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  try {
    const idp = await identity();
    if (!idp) return undefined;
    const signedIn = await completeSignIn(idp.provider, idp.endpoints, search);
    if (!signedIn) return undefined;
    saveSession({ token: signedIn.idToken, reviewer: signedIn.name });
    history.replaceState(null, '', `${location.pathname}${signedIn.returnTo}`);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
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
    await renderSignInPage(signInReason ?? (parts[0] !== 'signin' && location.hash && location.hash !== '#/' ? 'Sign in to continue.' : undefined), signal);
    signInReason = undefined;
    return;
  }
  try {
    if ((parts[0] === 'cluster' || parts[0] === 'clusters') && parts[1]) await (await loadClusterPage()).renderCluster(main, decodeURIComponent(parts[1]), { print: parts[2] === 'print', signal });
    else await renderQueue(main, new URLSearchParams(query), signal);
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof ApiError && error.status === 401) {
      clearSession();
      renderAccountBar();
      await renderSignInPage(error.message, signal);
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
/** Why the last sign-in through the identity provider failed, shown once on the sign-in page. */
let signInReason: string | undefined;
signInReason = await finishSignInIfCallback();
window.addEventListener('hashchange', () => void route());
void route();
