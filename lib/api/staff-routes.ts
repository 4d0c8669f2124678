/** Routes for investigators (read clusters, run detection) and operators (manage platforms). */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { PlatformAdmin } from '../auth/platform-admin.js';
import type { SignalRepository } from '../graph/signal-repository.js';
import type { InvestigatorService } from '../reports/investigator-service.js';
import type { DetectionDispatcher } from '../runs/detection-dispatcher.js';
import type { DetectionRunner } from '../runs/detection-runner.js';
import { requireRole, type StaffAuthenticator, type StaffPrincipal, type StaffRole } from './auth.js';
import { parseJsonBody, parseQuery } from './request.js';
import { ValidationError } from '../errors.js';

export interface StaffRouteDeps {
  staffAuthenticator: StaffAuthenticator;
  investigator: InvestigatorService;
  detection: Pick<DetectionRunner, 'start'>;
  dispatcher: DetectionDispatcher;
  /** Absent where platforms are managed elsewhere. */
  platformAdmin?: PlatformAdmin;
  signals: Pick<SignalRepository, 'retireKey'>;
}

/** Authenticates the caller and checks its role; the route's first line. */
export type StaffGuard = (c: Context, roles?: StaffRole[]) => Promise<StaffPrincipal>;

const listQuerySchema = z.object({
  limit: z.coerce.number({ error: 'limit must be a number' }).int({ error: 'limit must be a whole number' }).min(1, { error: 'limit must be at least 1' }).max(500, { error: 'limit must be at most 500' }).default(50),
  cursor: z.string().max(2048).optional(),
  minPlatforms: z.coerce.number({ error: 'minPlatforms must be a number' }).int({ error: 'minPlatforms must be a whole number' }).min(1, { error: 'minPlatforms must be at least 1' }).max(100).optional(),
});

const detectQuerySchema = z.object({
  mode: z.enum(['auto', 'full', 'incremental'], { error: 'mode must be auto, full or incremental' }).default('auto'),
});

const statusQuerySchema = z.object({
  count: z.enum(['exact'], { error: 'count must be exact (to count the stored signals, which reads the whole table), or left out' }).optional(),
});

const addPlatformSchema = z.object({
  id: z.string({ error: 'id is required: the new platform id' }),
  requestsPerMinute: z.number().int().positive().optional(),
});

export function staffGuard(authenticate: StaffAuthenticator): StaffGuard {
  return async (c, roles = ['investigator']) => {
    const principal = await authenticate(c);
    requireRole(principal, roles);
    return principal;
  };
}

export function registerStaffRoutes(app: Hono, deps: StaffRouteDeps, staff: StaffGuard): void {
  app.get('/v1/status', async (c) => {
    await staff(c, ['investigator', 'operator']);
    const { count } = parseQuery(statusQuerySchema, c);
    return c.json(await deps.investigator.status({ exact: count === 'exact' }));
  });
  app.post('/v1/detect', async (c) => {
    await staff(c);
    const { mode } = parseQuery(detectQuerySchema, c);
    const { runId, alreadyRunning } = await deps.detection.start('on-demand', mode);
    if (!alreadyRunning) await deps.dispatcher.dispatch(runId);
    return c.json({ runId, alreadyRunning }, 202);
  });
  app.get('/v1/runs/:runId', async (c) => {
    await staff(c, ['investigator', 'operator']);
    return c.json(await deps.investigator.run(c.req.param('runId')));
  });
  app.get('/v1/clusters', async (c) => {
    await staff(c);
    const page = await deps.investigator.clusters(parseQuery(listQuerySchema, c));
    return c.json({ clusters: page.clusters, next: page.next, runId: page.runId });
  });
  app.get('/v1/clusters/:id', async (c) => {
    await staff(c);
    return c.json(await deps.investigator.cluster(c.req.param('id')));
  });
  app.get('/v1/accounts/:platform/:account', async (c) => {
    await staff(c);
    const ref = { platform: c.req.param('platform'), account: c.req.param('account') };
    return c.json({ ...ref, cluster: await deps.investigator.accountCluster(ref) });
  });

  app.post('/v1/keys/:keyId/retire', async (c) => {
    await staff(c, ['operator']);
    const keyId = c.req.param('keyId');
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(keyId)) throw new ValidationError('keyId must be 1-32 letters, digits, dot, dash or underscore');
    return c.json({ keyId, ...(await deps.signals.retireKey(keyId)) });
  });

  const admin = deps.platformAdmin;
  if (!admin) return;
  app.get('/v1/platforms', async (c) => {
    await staff(c, ['operator']);
    return c.json({ platforms: await admin.list() });
  });
  app.post('/v1/platforms', async (c) => {
    await staff(c, ['operator']);
    const body = await parseJsonBody(addPlatformSchema, c);
    return c.json(await admin.add(body.id, { requestsPerMinute: body.requestsPerMinute }), 201);
  });
  app.post('/v1/platforms/:id/rotate', async (c) => {
    await staff(c, ['operator']);
    return c.json(await admin.rotate(c.req.param('id')));
  });
  app.delete('/v1/platforms/:id', async (c) => {
    await staff(c, ['operator']);
    await admin.remove(c.req.param('id'));
    return c.body(null, 204);
  });
}
