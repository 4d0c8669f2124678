/**
 * The HTTP API: routes for platforms (signed) and for investigators (bearer/JWT), served by the same
 * app in Lambda (through hono/aws-lambda) and on the local stack (through @hono/node-server).
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { CredentialStore } from '../auth/credentials.js';
import { MAX_BODY_BYTES } from '../contract/signals.js';
import { PayloadTooLargeError, ValidationError } from '../errors.js';
import type { IngestService } from '../ingest/ingest-service.js';
import type { InvestigatorService } from '../reports/investigator-service.js';
import type { DetectionDispatcher } from '../runs/detection-dispatcher.js';
import type { DetectionRunner } from '../runs/detection-runner.js';
import { authenticatePlatform, requireRole, type StaffAuthenticator } from './auth.js';
import { errorResponse, type ApiLogger } from './errors.js';

/** Which routes an app serves: on AWS the platform and investigator APIs are separate functions. */
export type ApiSurface = 'platform' | 'investigator' | 'all';

export interface ApiDeps {
  credentials: CredentialStore;
  staffAuthenticator: StaffAuthenticator;
  ingest: IngestService;
  investigator: InvestigatorService;
  detection: Pick<DetectionRunner, 'start'>;
  dispatcher: DetectionDispatcher;
  logger: ApiLogger;
}

const listQuerySchema = z.object({
  limit: z.coerce.number({ error: 'limit must be a number' }).int({ error: 'limit must be a whole number' }).min(1, { error: 'limit must be at least 1' }).max(500, { error: 'limit must be at most 500' }).default(50),
  cursor: z.string().max(2048).optional(),
  minPlatforms: z.coerce.number({ error: 'minPlatforms must be a number' }).int().min(1, { error: 'minPlatforms must be at least 1' }).max(100).optional(),
});

function parseQuery<T>(schema: z.ZodType<T>, c: Context): T {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new ValidationError(parsed.error.issues.map((issue) => issue.message).join('; '));
  return parsed.data;
}

async function readLimitedBody(c: Context): Promise<Buffer> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) throw new PayloadTooLargeError(`body is ${declared} bytes, over the ${MAX_BODY_BYTES}-byte limit: split the batch`);
  const body = Buffer.from(await c.req.arrayBuffer());
  if (body.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(`body is ${body.length} bytes, over the ${MAX_BODY_BYTES}-byte limit: split the batch`);
  return body;
}

export function createApi(deps: ApiDeps, surface: ApiSurface = 'all'): Hono {
  const app = new Hono();
  app.onError((error, c) => errorResponse(error, c, deps.logger));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}: see the API section of the README` }, 404));
  app.get('/health', (c) => c.json({ ok: true }));

  if (surface !== 'investigator') {
    app.post('/v1/signals', async (c) => {
      const body = await readLimitedBody(c);
      const platform = await authenticatePlatform(c, body, deps.credentials);
      const answer = await deps.ingest.submit(platform, body.toString('utf8'));
      return c.json(answer, 202);
    });
  }

  if (surface !== 'platform') {
    const staff = async (c: Context, roles: Array<'investigator' | 'operator'> = ['investigator']) => {
      const principal = await deps.staffAuthenticator(c);
      requireRole(principal, roles);
      return principal;
    };
    app.get('/v1/status', async (c) => {
      await staff(c, ['investigator', 'operator']);
      return c.json(await deps.investigator.status());
    });
    app.post('/v1/detect', async (c) => {
      await staff(c);
      const { runId, alreadyRunning } = await deps.detection.start('on-demand');
      if (!alreadyRunning) await deps.dispatcher.dispatch(runId);
      return c.json({ runId, alreadyRunning }, 202);
    });
    app.get('/v1/runs/:runId', async (c) => {
      await staff(c, ['investigator', 'operator']);
      return c.json(await deps.investigator.run(c.req.param('runId')));
    });
    app.get('/v1/clusters', async (c) => {
      await staff(c);
      const query = parseQuery(listQuerySchema, c);
      const page = await deps.investigator.clusters(query);
      return c.json({ clusters: page.clusters, next: page.next, runId: page.runId });
    });
    app.get('/v1/clusters/:id', async (c) => {
      await staff(c);
      return c.json(await deps.investigator.cluster(c.req.param('id')));
    });
    app.get('/v1/accounts/:platform/:account', async (c) => {
      await staff(c);
      const cluster = await deps.investigator.accountCluster({ platform: c.req.param('platform'), account: c.req.param('account') });
      return c.json({ platform: c.req.param('platform'), account: c.req.param('account'), cluster });
    });
  }
  return app;
}
