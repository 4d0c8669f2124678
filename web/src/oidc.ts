/**
 * Sign-in through an OpenID Connect provider (the deployment's Cognito user pool, or the operator's
 * own): OAuth 2.0 authorization code with PKCE (RFC 7636, S256) for a public client.
 * The pure parts (PKCE, URLs, callback parsing, claims) take their inputs as arguments, so they run
 * in Node tests as they run in the browser; {@link beginSignIn} and {@link completeSignIn} wire them
 * to `location`, `sessionStorage` and `fetch`.
 */

/** What `/config.json` says about the identity provider (the stack writes one of the two shapes). */
export interface RuntimeConfig {
  apiUrl?: string;
  region?: string;
  userPoolId?: string;
  userPoolClientId?: string;
  oidcIssuer?: string;
  oidcClientId?: string;
}

/** The identity provider the console signs in with. */
export interface OidcProvider {
  /** The issuer URL, as in the tokens' `iss` claim. */
  issuer: string;
  clientId: string;
}

/** The endpoints of an OpenID provider's discovery document that the console uses. */
export interface OidcEndpoints {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

/** Thrown when a sign-in step fails; the message says what happened and what to do. */
export class SignInError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignInError';
  }
}

/** The scopes the console asks for; `openid` makes the token endpoint return an ID token. */
export const SIGN_IN_SCOPES = ['openid', 'email', 'profile'];

/**
 * The provider `/config.json` names, or null when it names none (the local stack: sign in with the token).
 *
 * @example
 * providerFromConfig({ region: 'eu-west-2', userPoolId: 'eu-west-2_abc', userPoolClientId: '1example' });
 * // { issuer: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_abc', clientId: '1example' }
 */
export function providerFromConfig(config: RuntimeConfig | null): OidcProvider | null {
  if (!config) return null;
  if (config.oidcIssuer && config.oidcClientId) return { issuer: config.oidcIssuer.replace(/\/+$/, ''), clientId: config.oidcClientId };
  if (config.region && config.userPoolId && config.userPoolClientId) {
    const suffix = config.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    return { issuer: `https://cognito-idp.${config.region}.${suffix}/${config.userPoolId}`, clientId: config.userPoolClientId };
  }
  return null;
}

/** Where the provider's discovery document is. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** Checks a discovery document: it must be for `issuer` and name the two endpoints the code flow needs. */
export function parseDiscovery(document: unknown, issuer: string): OidcEndpoints {
  const doc = (document ?? {}) as Partial<OidcEndpoints>;
  if (typeof doc.authorization_endpoint !== 'string' || typeof doc.token_endpoint !== 'string') {
    throw new SignInError(`The identity provider ${issuer} names no authorization or token endpoint. On Cognito the user pool needs a domain (see docs/operations.md).`);
  }
  if (doc.issuer !== undefined && doc.issuer.replace(/\/+$/, '') !== issuer.replace(/\/+$/, '')) {
    throw new SignInError(`The discovery document is for ${doc.issuer}, not ${issuer}: check oidcIssuer in config.json.`);
  }
  return {
    issuer,
    authorization_endpoint: doc.authorization_endpoint,
    token_endpoint: doc.token_endpoint,
    ...(typeof doc.end_session_endpoint === 'string' ? { end_session_endpoint: doc.end_session_endpoint } : {}),
  };
}

/** base64url without padding (RFC 4648 §5), as PKCE and JWTs use it. */
export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlDecode(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}

/** A random string of `bytes` random bytes, base64url: 32 bytes give a 43-character PKCE verifier. */
export function randomToken(bytes = 32, crypto: Crypto = globalThis.crypto): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * The S256 code challenge of a PKCE verifier: base64url(SHA-256(verifier)).
 *
 * @example
 * await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'); // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
 */
export async function codeChallenge(verifier: string, crypto: Crypto = globalThis.crypto): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

/** The redirect URI: the console's origin and a slash, which the app client registers exactly. */
export function redirectUriFor(origin: string): string {
  return `${origin}/`;
}

/** The URL that sends the browser to the provider's sign-in page. */
export function authorizeUrl(endpoints: OidcEndpoints, request: { clientId: string; redirectUri: string; state: string; nonce: string; challenge: string }): string {
  const url = new URL(endpoints.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    scope: SIGN_IN_SCOPES.join(' '),
    state: request.state,
    nonce: request.nonce,
    code_challenge: request.challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

/** What the provider sent back to the redirect URI: a code, an error, or nothing (not a callback). */
export type Callback = { kind: 'code'; code: string; state: string } | { kind: 'error'; error: string; description: string; state: string } | { kind: 'none' };

/** Reads the query string the provider redirected to (`?code=&state=` or `?error=&error_description=`). */
export function parseCallback(search: string): Callback {
  const params = new URLSearchParams(search);
  const state = params.get('state') ?? '';
  const error = params.get('error');
  if (error) return { kind: 'error', error, description: params.get('error_description') ?? '', state };
  const code = params.get('code');
  if (code) return { kind: 'code', code, state };
  return { kind: 'none' };
}

/** The form body of the code exchange (public client: the verifier stands in for a secret). */
export function tokenRequestBody(request: { code: string; clientId: string; redirectUri: string; verifier: string }): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code: request.code,
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    code_verifier: request.verifier,
  });
}

/** The claims the console reads from an ID token (display and checks only: the API verifies the signature). */
export interface IdTokenClaims {
  iss?: string;
  aud?: string | string[];
  sub?: string;
  exp?: number;
  nonce?: string;
  email?: string;
  name?: string;
  'cognito:username'?: string;
}

/** Decodes a JWT's payload without verifying it. */
export function decodeJwtPayload(token: string): IdTokenClaims {
  const payload = token.split('.')[1];
  if (!payload) throw new SignInError('The identity provider returned a token that is not a JWT.');
  try {
    return JSON.parse(base64UrlDecode(payload)) as IdTokenClaims;
  } catch {
    throw new SignInError('The identity provider returned a token whose claims cannot be read.');
  }
}

/**
 * Checks the ID token was issued by `provider` for this console and this sign-in (nonce), and is not
 * expired; the signature is the API's JWT authorizer's to check. Returns its claims.
 */
export function checkIdToken(idToken: string, expected: { provider: OidcProvider; nonce: string; nowSeconds: number }): IdTokenClaims {
  const claims = decodeJwtPayload(idToken);
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss?.replace(/\/+$/, '') !== expected.provider.issuer) throw new SignInError(`The ID token was issued by ${claims.iss}, not ${expected.provider.issuer}.`);
  if (!audiences.includes(expected.provider.clientId)) throw new SignInError('The ID token was issued for another application.');
  if (claims.nonce !== expected.nonce) throw new SignInError('The ID token belongs to another sign-in (nonce mismatch): sign in again.');
  if (typeof claims.exp === 'number' && claims.exp <= expected.nowSeconds) throw new SignInError('The ID token has already expired: check this computer\'s clock, then sign in again.');
  return claims;
}

/** The name shown for a signed-in user and recorded beside the JWT subject in the audit log. */
export function displayName(claims: IdTokenClaims): string {
  return claims.email ?? claims.name ?? claims['cognito:username'] ?? claims.sub ?? '';
}

/**
 * Where sign-out sends the browser: Cognito's `/logout` on the hosted domain (with its own
 * `client_id` and `logout_uri` parameters), or another provider's `end_session_endpoint` (OpenID
 * RP-initiated logout). Null when the provider offers neither: then only the console forgets the token.
 */
export function signOutUrl(endpoints: OidcEndpoints, request: { clientId: string; redirectUri: string; idToken?: string }): string | null {
  // Cognito's /logout takes logout_uri, not the OpenID parameters, whatever its discovery document says.
  if (/^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//.test(endpoints.issuer)) {
    const url = new URL('/logout', endpoints.authorization_endpoint);
    url.search = new URLSearchParams({ client_id: request.clientId, logout_uri: request.redirectUri }).toString();
    return url.toString();
  }
  if (endpoints.end_session_endpoint) {
    const url = new URL(endpoints.end_session_endpoint);
    url.searchParams.set('client_id', request.clientId);
    url.searchParams.set('post_logout_redirect_uri', request.redirectUri);
    if (request.idToken) url.searchParams.set('id_token_hint', request.idToken);
    return url.toString();
  }
  return null;
}

// ---- browser wiring -------------------------------------------------------------------------

const PENDING_KEY = 'crosslink.oidc.pending';

/** What the console keeps between the redirect to the provider and the callback (this tab only). */
interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  /** The hash route to return to. */
  returnTo: string;
}

/** Fetches and checks the provider's discovery document. */
export async function discover(provider: OidcProvider, fetchImpl: typeof fetch = fetch): Promise<OidcEndpoints> {
  let response: Response;
  try {
    response = await fetchImpl(discoveryUrl(provider.issuer));
  } catch {
    throw new SignInError(`The identity provider ${provider.issuer} did not answer: check the network, then retry.`);
  }
  if (!response.ok) throw new SignInError(`The identity provider's discovery document answered ${response.status}: check oidcIssuer (or userPoolId) in config.json.`);
  return parseDiscovery(await response.json(), provider.issuer);
}

/** Sends the browser to the provider's sign-in page; the callback returns to `returnTo`. */
export async function beginSignIn(provider: OidcProvider, endpoints: OidcEndpoints, returnTo: string): Promise<void> {
  const pending: PendingSignIn = { state: randomToken(), nonce: randomToken(), verifier: randomToken(), redirectUri: redirectUriFor(location.origin), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const challenge = await codeChallenge(pending.verifier);
  location.assign(authorizeUrl(endpoints, { clientId: provider.clientId, redirectUri: pending.redirectUri, state: pending.state, nonce: pending.nonce, challenge }));
}

/** A completed sign-in: the ID token (what the API's JWT authorizer accepts) and who it names. */
export interface SignedIn {
  idToken: string;
  name: string;
  returnTo: string;
}

/**
 * Finishes a sign-in when the page is the provider's callback: checks the state, exchanges the code
 * (with the verifier) for tokens and checks the ID token. Returns null when the page is no callback.
 */
export async function completeSignIn(provider: OidcProvider, endpoints: OidcEndpoints, search: string, fetchImpl: typeof fetch = fetch): Promise<SignedIn | null> {
  const callback = parseCallback(search);
  if (callback.kind === 'none') return null;
  const stored = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const pending = stored ? (JSON.parse(stored) as PendingSignIn) : null;
  if (!pending || pending.state !== callback.state) throw new SignInError('This sign-in was not started from this tab (state mismatch): sign in again.');
  if (callback.kind === 'error') throw new SignInError(`The identity provider refused the sign-in: ${callback.description || callback.error}.`);
  let response: Response;
  try {
    response = await fetchImpl(endpoints.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenRequestBody({ code: callback.code, clientId: provider.clientId, redirectUri: pending.redirectUri, verifier: pending.verifier }),
    });
  } catch {
    throw new SignInError('The identity provider\'s token endpoint did not answer: sign in again.');
  }
  const body = (await response.json().catch(() => ({}))) as { id_token?: string; error?: string; error_description?: string };
  if (!response.ok || !body.id_token) throw new SignInError(`The identity provider did not issue a token (${body.error_description ?? body.error ?? response.status}): sign in again.`);
  const claims = checkIdToken(body.id_token, { provider, nonce: pending.nonce, nowSeconds: Math.floor(Date.now() / 1000) });
  return { idToken: body.id_token, name: displayName(claims), returnTo: pending.returnTo };
}
