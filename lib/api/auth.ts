/**
 * Who is calling: a platform proves itself by signing the request; an investigator or operator by a
 * bearer token (locally) or by the JWT that API Gateway's authorizer already verified (on AWS).
 */
import type { Context } from 'hono';
import { PLATFORM_HEADER, SIGNATURE_HEADER, SIGNATURE_PROBLEM_MESSAGES, TIMESTAMP_HEADER, verifySignature } from '../auth/signing.js';
import type { CredentialStore, Role } from '../auth/credentials.js';
import { AuthenticationError, ForbiddenError } from '../errors.js';

/** The caller of an investigator route. */
export interface StaffPrincipal {
  role: Exclude<Role, 'platform'>;
  /** Who it is, for audit (token holder or JWT subject). */
  subject: string;
}

/** Resolves the caller of an investigator route, or throws 401/403. */
export type StaffAuthenticator = (c: Context) => Promise<StaffPrincipal>;

/** Checks a platform's signature over the exact raw body; returns the platform id. */
export async function authenticatePlatform(c: Context, rawBody: Buffer, credentials: CredentialStore): Promise<string> {
  const platform = c.req.header(PLATFORM_HEADER);
  if (!platform) throw new AuthenticationError(`missing ${PLATFORM_HEADER} header: send your platform id`);
  const secret = await credentials.platformSecret(platform);
  if (!secret) throw new AuthenticationError(`unknown platform "${platform}": check ${PLATFORM_HEADER} against the id the operator issued`);
  const problem = verifySignature({
    secret,
    timestampHeader: c.req.header(TIMESTAMP_HEADER),
    signatureHeader: c.req.header(SIGNATURE_HEADER),
    rawBody,
  });
  if (problem) throw new AuthenticationError(SIGNATURE_PROBLEM_MESSAGES[problem]);
  return platform;
}

/** Bearer tokens from the credential store: the local stack's (and a token-based deployment's) authenticator. */
export function bearerTokenAuthenticator(credentials: CredentialStore): StaffAuthenticator {
  return async (c) => {
    const header = c.req.header('authorization');
    if (!header) {
      if (c.req.header(SIGNATURE_HEADER) || c.req.header(PLATFORM_HEADER)) {
        throw new ForbiddenError('platform credentials cannot read investigator endpoints');
      }
      throw new AuthenticationError('missing Authorization header: send "Authorization: Bearer <investigator token>"');
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new AuthenticationError('Authorization must be "Bearer <investigator token>"');
    const role = await credentials.roleForToken(match[1]);
    if (!role) throw new AuthenticationError('the bearer token is not valid: use the investigator token from credentials.json');
    return { role, subject: role === 'investigator' ? 'investigator-token' : 'operator-token' };
  };
}

/** Trusts the claims of a JWT that API Gateway's JWT authorizer verified before the Lambda ran. */
export function apiGatewayJwtAuthenticator(options: { roleClaim?: string } = {}): StaffAuthenticator {
  const roleClaim = options.roleClaim ?? 'cognito:groups';
  return async (c) => {
    const event = (c.env as { event?: { requestContext?: { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } } } | undefined)?.event;
    const claims = event?.requestContext?.authorizer?.jwt?.claims;
    if (!claims || typeof claims.sub !== 'string') throw new AuthenticationError('missing or invalid JWT: sign in through the identity provider');
    const groups = String(claims[roleClaim] ?? '');
    const role = /\boperators?\b/.test(groups) ? 'operator' : 'investigator';
    return { role, subject: String(claims.email ?? claims.sub) };
  };
}

/** Refuses a principal whose role is not among those allowed. */
export function requireRole(principal: StaffPrincipal, allowed: Array<StaffPrincipal['role']>): void {
  if (!allowed.includes(principal.role)) throw new ForbiddenError(`the ${principal.role} role may not do this: it needs ${allowed.join(' or ')}`);
}
