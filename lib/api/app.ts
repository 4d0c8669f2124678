/**
 * The HTTP API: routes for platforms (signed) and for staff (bearer token locally, JWT on AWS), served
 * by the same app in Lambda (hono/aws-lambda) and on the local stack (@hono/node-server).
 */
import { Hono } from 'hono';
import { errorResponse, type ApiLogger } from './errors.js';
import { registerPlatformRoutes, type PlatformRouteDeps } from './platform-routes.js';
import { registerStaffRoutes, staffGuard, type StaffRouteDeps } from './staff-routes.js';
import { registerReviewRoutes, type ReviewRouteDeps } from './review-routes.js';

/** Which routes an app serves: on AWS the platform and staff APIs are separate functions. */
export type ApiSurface = 'platform' | 'investigator' | 'all';

export interface ApiDeps {
  platform: PlatformRouteDeps;
  staff: StaffRouteDeps;
  /** The console's review routes; absent where no console is served. */
  review?: ReviewRouteDeps;
  logger: ApiLogger;
}

export function createApi(deps: ApiDeps, surface: ApiSurface = 'all'): Hono {
  const app = new Hono();
  app.onError((error, c) => errorResponse(error, c, deps.logger));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}: see the API section of the README` }, 404));
  app.get('/health', (c) => c.json({ ok: true }));
  if (surface !== 'investigator') registerPlatformRoutes(app, deps.platform);
  if (surface !== 'platform') {
    const staff = staffGuard(deps.staff.staffAuthenticator);
    if (deps.review) registerReviewRoutes(app, deps.review, staff);
    registerStaffRoutes(app, deps.staff, staff);
  }
  return app;
}
