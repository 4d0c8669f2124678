import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  authorizeUrl,
  base64UrlEncode,
  checkIdToken,
  codeChallenge,
  discoveryUrl,
  displayName,
  parseCallback,
  parseDiscovery,
  providerFromConfig,
  randomToken,
  signOutUrl,
  SignInError,
  tokenRequestBody,
  type OidcEndpoints,
} from '../../../web/src/oidc.js';

const COGNITO_ISSUER = 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_AbC123';
const cognitoEndpoints: OidcEndpoints = {
  issuer: COGNITO_ISSUER,
  authorization_endpoint: 'https://crosslink-prod-1a2b3c4d.auth.eu-west-2.amazoncognito.com/oauth2/authorize',
  token_endpoint: 'https://crosslink-prod-1a2b3c4d.auth.eu-west-2.amazoncognito.com/oauth2/token',
};
const provider = { issuer: COGNITO_ISSUER, clientId: 'console-client' };

const jwt = (claims: Record<string, unknown>) => `${base64UrlEncode(Buffer.from('{"alg":"RS256"}'))}.${base64UrlEncode(Buffer.from(JSON.stringify(claims)))}.c2ln`;

describe('PKCE', () => {
  // RFC 7636 appendix B; the challenge also checked with `openssl dgst -sha256 -binary | base64` (URL alphabet, no padding).
  it('computes the S256 challenge of the RFC 7636 appendix B verifier', async () => {
    expect(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('agrees with an independent SHA-256 (node:crypto) on random verifiers', async () => {
    for (let i = 0; i < 20; i++) {
      const verifier = randomToken();
      expect(await codeChallenge(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
    }
  });

  it('makes verifiers of 43 unreserved characters that differ each time', () => {
    const verifiers = new Set(Array.from({ length: 50 }, () => randomToken()));
    expect(verifiers.size).toBe(50);
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('configuration and discovery', () => {
  it('derives the Cognito issuer from the region and user pool id in config.json', () => {
    expect(providerFromConfig({ apiUrl: 'https://x', region: 'eu-west-2', userPoolId: 'eu-west-2_AbC123', userPoolClientId: 'console-client' })).toEqual(provider);
  });

  it('takes an existing provider issuer and client id as given, without a trailing slash', () => {
    expect(providerFromConfig({ oidcIssuer: 'https://login.example.org/realms/crosslink/', oidcClientId: 'crosslink-console' })).toEqual({
      issuer: 'https://login.example.org/realms/crosslink',
      clientId: 'crosslink-console',
    });
  });

  it('names no provider without config.json or with empty values (the local stack signs in with the token)', () => {
    expect(providerFromConfig(null)).toBeNull();
    expect(providerFromConfig({ apiUrl: 'https://x', oidcIssuer: '', oidcClientId: '' })).toBeNull();
  });

  it('finds the discovery document under the issuer', () => {
    expect(discoveryUrl(COGNITO_ISSUER)).toBe(`${COGNITO_ISSUER}/.well-known/openid-configuration`);
  });

  it('rejects a discovery document without endpoints and says a Cognito pool needs a domain', () => {
    expect(() => parseDiscovery({ issuer: COGNITO_ISSUER, jwks_uri: 'https://x' }, COGNITO_ISSUER)).toThrow(/needs a domain/);
  });

  it('rejects a discovery document for another issuer', () => {
    expect(() => parseDiscovery({ ...cognitoEndpoints, issuer: 'https://evil.example' }, COGNITO_ISSUER)).toThrow(SignInError);
  });
});

describe('authorization request and callback', () => {
  it('asks for a code with state, nonce, the S256 challenge and the OpenID scopes', () => {
    const url = new URL(authorizeUrl(cognitoEndpoints, { clientId: 'console-client', redirectUri: 'https://d1.cloudfront.net/', state: 's-1', nonce: 'n-1', challenge: 'c-1' }));
    expect(url.origin + url.pathname).toBe(cognitoEndpoints.authorization_endpoint);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'console-client',
      redirect_uri: 'https://d1.cloudfront.net/',
      scope: 'openid email profile',
      state: 's-1',
      nonce: 'n-1',
      code_challenge: 'c-1',
      code_challenge_method: 'S256',
    });
  });

  it('reads a code and its state from the callback', () => {
    expect(parseCallback('?code=abc&state=s-1')).toEqual({ kind: 'code', code: 'abc', state: 's-1' });
  });

  it('reads a refusal from the callback', () => {
    expect(parseCallback('?error=access_denied&error_description=User+cancelled&state=s-1')).toEqual({ kind: 'error', error: 'access_denied', description: 'User cancelled', state: 's-1' });
  });

  it('treats a page without code or error as no callback', () => {
    expect(parseCallback('')).toEqual({ kind: 'none' });
    expect(parseCallback('?state=s-1')).toEqual({ kind: 'none' });
  });

  it('exchanges the code with the verifier and no client secret', () => {
    const body = tokenRequestBody({ code: 'abc', clientId: 'console-client', redirectUri: 'https://d1.cloudfront.net/', verifier: 'v-1' });
    expect(Object.fromEntries(body)).toEqual({ grant_type: 'authorization_code', code: 'abc', client_id: 'console-client', redirect_uri: 'https://d1.cloudfront.net/', code_verifier: 'v-1' });
  });
});

describe('ID token checks', () => {
  const claims = { iss: COGNITO_ISSUER, aud: 'console-client', sub: 'u-1', nonce: 'n-1', exp: 2_000, email: 'dana@example.org' };

  it('accepts a token for this client, issuer and sign-in, and names its user by e-mail', () => {
    expect(displayName(checkIdToken(jwt(claims), { provider, nonce: 'n-1', nowSeconds: 1_000 }))).toBe('dana@example.org');
  });

  it('rejects a token from another sign-in (nonce)', () => {
    expect(() => checkIdToken(jwt(claims), { provider, nonce: 'n-2', nowSeconds: 1_000 })).toThrow(/nonce/);
  });

  it('rejects a token for another client', () => {
    expect(() => checkIdToken(jwt({ ...claims, aud: ['other'] }), { provider, nonce: 'n-1', nowSeconds: 1_000 })).toThrow(/another application/);
  });

  it('rejects a token from another issuer', () => {
    expect(() => checkIdToken(jwt({ ...claims, iss: 'https://evil.example' }), { provider, nonce: 'n-1', nowSeconds: 1_000 })).toThrow(/issued by/);
  });

  it('rejects an expired token', () => {
    expect(() => checkIdToken(jwt(claims), { provider, nonce: 'n-1', nowSeconds: 2_000 })).toThrow(/expired/);
  });

  it('rejects something that is not a JWT', () => {
    expect(() => checkIdToken('opaque', { provider, nonce: 'n-1', nowSeconds: 1_000 })).toThrow(/not a JWT/);
  });
});

describe('sign-out', () => {
  const request = { clientId: 'console-client', redirectUri: 'https://d1.cloudfront.net/', idToken: 'id.t.k' };

  it("uses the provider's end_session_endpoint with the ID token hint when it names one", () => {
    const url = new URL(signOutUrl({ ...cognitoEndpoints, issuer: 'https://login.example.org', end_session_endpoint: 'https://login.example.org/logout' }, request)!);
    expect(url.origin + url.pathname).toBe('https://login.example.org/logout');
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: 'console-client', post_logout_redirect_uri: 'https://d1.cloudfront.net/', id_token_hint: 'id.t.k' });
  });

  it("uses Cognito's /logout on the hosted domain, which Cognito's discovery document does not name", () => {
    expect(signOutUrl(cognitoEndpoints, request)).toBe(
      'https://crosslink-prod-1a2b3c4d.auth.eu-west-2.amazoncognito.com/logout?client_id=console-client&logout_uri=https%3A%2F%2Fd1.cloudfront.net%2F',
    );
  });

  it("uses Cognito's own /logout parameters even if its discovery document names an end_session_endpoint", () => {
    const url = new URL(signOutUrl({ ...cognitoEndpoints, end_session_endpoint: 'https://crosslink-prod-1a2b3c4d.auth.eu-west-2.amazoncognito.com/logout' }, request)!);
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: 'console-client', logout_uri: 'https://d1.cloudfront.net/' });
  });

  it('has nowhere to go for a provider with neither', () => {
    expect(signOutUrl({ ...cognitoEndpoints, issuer: 'https://login.example.org' }, request)).toBeNull();
  });
});
