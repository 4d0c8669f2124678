/**
 * The JWT groups claim grants a role only for the exact group names (found in review: a substring matched),
 * and a user in both staff groups holds the rights of both (found in review: operators won, and such a
 * user was refused every investigator route).
 */
import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { apiGatewayJwtAuthenticator } from '../../../lib/api/auth.js';
import { staffGuard } from '../../../lib/api/staff-routes.js';

const contextWith = (claims: Record<string, unknown>) => ({ env: { event: { requestContext: { authorizer: { jwt: { claims } } } } } }) as unknown as Context;
const withGroups = (groups: unknown) => contextWith({ sub: 'user-1', 'cognito:groups': groups });
const rolesOf = (groups: unknown) => apiGatewayJwtAuthenticator()(withGroups(groups)).then((p) => p.roles, (e: Error) => e.name);

describe('apiGatewayJwtAuthenticator', () => {
  it('maps the exact groups, in the forms API Gateway passes them', async () => {
    expect(await rolesOf('[investigators]')).toEqual(['investigator']);
    expect(await rolesOf('[investigators operators]')).toEqual(['investigator', 'operator']);
    expect(await rolesOf('operators')).toEqual(['operator']);
    expect(await rolesOf('investigators,operators')).toEqual(['investigator', 'operator']);
    expect(await rolesOf(['investigators'])).toEqual(['investigator']);
  });

  it('grants no role for a group whose name merely contains a staff group name', async () => {
    expect(await rolesOf('[operators-pending]')).toBe('ForbiddenError');
    expect(await rolesOf('[former-operators]')).toBe('ForbiddenError');
    expect(await rolesOf('[investigators.readonly]')).toBe('ForbiddenError');
  });
});

describe('staffGuard: a user in both the investigators and the operators group', () => {
  const guard = staffGuard(apiGatewayJwtAuthenticator());
  const outcome = (groups: string, roles: Array<'investigator' | 'operator'>) => guard(withGroups(groups), roles).then(() => 'allowed', (e: Error) => e.message);

  it('may use the investigator routes and the operator routes', async () => {
    expect(await outcome('[investigators operators]', ['investigator'])).toBe('allowed');
    expect(await outcome('[investigators operators]', ['operator'])).toBe('allowed');
  });

  it('leaves a user in one group with that group only', async () => {
    expect(await outcome('[operators]', ['investigator'])).toBe('the operator role may not do this: it needs investigator');
    expect(await outcome('[investigators]', ['operator'])).toBe('the investigator role may not do this: it needs operator');
  });
});
