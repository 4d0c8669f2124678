/**
 * Serves the built console at `/` from the local stack's HTTP server (in AWS, S3 and CloudFront serve
 * `web/dist`). API routes are registered first, so only paths no route answers reach the files.
 */
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';
import { DIST_DIR, ensureConsoleBuilt } from './build.js';

/**
 * Builds the console if its build is missing or stale, then serves it.
 *
 * @example
 * const app = createApi(deps);
 * await serveConsole(app); // GET / -> web/dist/index.html
 */
export async function serveConsole(app: Hono): Promise<{ built: boolean; ms: number }> {
  const build = await ensureConsoleBuilt();
  app.use('/*', async (c, next) => {
    if (c.req.path.startsWith('/v1/')) return next();
    c.header('cache-control', 'no-cache');
    return serveStatic({ root: DIST_DIR })(c, next);
  });
  return build;
}
