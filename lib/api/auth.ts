/**
 * Who is calling: a platform proves itself by signing the request (checked by the PlatformGate); an
 * investigator or operator by a bearer token (locally) or by the JWT API Gateway's authorizer verified (on AWS).
 */
import type { Context } from 'hono';
import type { CredentialStore, Role } from '../auth/credentials.js';
import type { AdmittedRequest, PlatformGate } from '../auth/platform-gate.js';
import { PLATFORM_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../auth/signing.js';
import { AuthenticationError, ForbiddenError } from '../errors.js';

/** A role a staff member can hold. */
export type StaffRole = Exclude<Role, 'platform'>;

/** The caller of a staff route. */
export interface StaffPrincipal {
  /** Every role it holds (one for a token; on AWS one per staff group the user is in), at least one. */
  roles: StaffRole[];
  /** Who it is, for audit (token holder or JWT subject). */
  subject: string;
}

/** Resolves the caller of a staff route, or throws 401/403. */
export type StaffAuthenticator = (c: Context) => Promise<StaffPrincipal>;

/** Runs the platform gate over a request whose raw body has been read. */
export function admitPlatform(c: Context, gate: PlatformGate, rawBody: Buffer): Promise<AdmittedRequest> {
  if (c.req.header('authorization')) {
    throw new ForbiddenError('platform endpoints take signed requests, not bearer tokens: staff credentials cannot submit or withdraw');
  }
  return gate.admit({
    platform: c.req.header(PLATFORM_HEADER),
    timestamp: c.req.header(TIMESTAMP_HEADER),
    signature: c.req.header(SIGNATURE_HEADER),
    rawBody,
    mutating: c.req.method !== 'GET' && c.req.method !== 'HEAD',
  });
}

/** Bearer tokens from the credential store: the local stack's authenticator. */
export function bearerTokenAuthenticator(credentials: CredentialStore): StaffAuthenticator {
  return async (c) => {
    const header = c.req.header('authorization');
    if (!header) {
      if (c.req.header(SIGNATURE_HEADER) || c.req.header(PLATFORM_HEADER)) {
        throw new ForbiddenError('platform credentials cannot use staff endpoints');
      }
      throw new AuthenticationError('missing Authorization header: send "Authorization: Bearer <token>"');
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new AuthenticationError('Authorization must be "Bearer <token>"');
    const role = await credentials.roleForToken(match[1]);
    if (!role) throw new AuthenticationError('the bearer token is not valid: use a token from credentials.json');
    return { roles: [role], subject: `${role}-token` };
  };
}

/** The Cognito groups that grant a staff role. */
const STAFF_GROUPS: Array<{ group: string; role: StaffRole }> = [
  { group: 'investigators', role: 'investigator' },
  { group: 'operators', role: 'operator' },
];

/** Trusts the claims of a JWT that API Gateway's JWT authorizer verified before the Lambda ran. */
export function apiGatewayJwtAuthenticator(options: { groupsClaim?: string } = {}): StaffAuthenticator {
  const groupsClaim = options.groupsClaim ?? 'cognito:groups';
  return async (c) => {
    const event = (c.env as { event?: { requestContext?: { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } } } | undefined)?.event;
    const claims = event?.requestContext?.authorizer?.jwt?.claims;
    if (!claims || typeof claims.sub !== 'string') throw new AuthenticationError('missing or invalid JWT: sign in through the identity provider');
    const groups = groupNames(claims[groupsClaim]);
    // Groups add up: a user in both holds the rights of both, as Cognito group membership reads.
    const roles = STAFF_GROUPS.filter(({ group }) => groups.includes(group)).map(({ role }) => role);
    if (roles.length === 0) throw new ForbiddenError(`the signed-in user is in neither the investigators nor the operators group`);
    return { roles, subject: String(claims.email ?? claims.sub) };
  };
}

/**
 * The group names of a groups claim: an array in the token, which API Gateway passes on as a string
 * (`"[a b]"`, `"a,b"` or `"a"`). Only whole names count: `former-operators` is not `operators`.
 */
function groupNames(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.map(String);
  return String(claim ?? '')
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter((name) => name.length > 0);
}

/** Refuses a principal that holds none of the allowed roles. */
export function requireRole(principal: StaffPrincipal, allowed: StaffRole[]): void {
  if (!principal.roles.some((role) => allowed.includes(role))) {
    throw new ForbiddenError(`the ${principal.roles.join(' and ')} role may not do this: it needs ${allowed.join(' or ')}`);
  }
}
