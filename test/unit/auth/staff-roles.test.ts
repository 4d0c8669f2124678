/** The JWT groups claim grants a role only for the exact group names (found in review: a substring matched). */
import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { apiGatewayJwtAuthenticator } from '../../../lib/api/auth.js';

const contextWith = (claims: Record<string, unknown>) => ({ env: { event: { requestContext: { authorizer: { jwt: { claims } } } } } }) as unknown as Context;
const roleOf = (groups: unknown) => apiGatewayJwtAuthenticator()(contextWith({ sub: 'user-1', 'cognito:groups': groups })).then((p) => p.role, (e: Error) => e.name);

describe('apiGatewayJwtAuthenticator', () => {
  it('maps the exact groups, in the forms API Gateway passes them', async () => {
    expect(await roleOf('[investigators]')).toBe('investigator');
    expect(await roleOf('[investigators operators]')).toBe('operator');
    expect(await roleOf('operators')).toBe('operator');
    expect(await roleOf('investigators,operators')).toBe('operator');
    expect(await roleOf(['investigators'])).toBe('investigator');
  });

  it('grants no role for a group whose name merely contains a staff group name', async () => {
    expect(await roleOf('[operators-pending]')).toBe('ForbiddenError');
    expect(await roleOf('[former-operators]')).toBe('ForbiddenError');
    expect(await roleOf('[investigators.readonly]')).toBe('ForbiddenError');
  });
});
