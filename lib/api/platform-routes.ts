/** Routes for platforms, each behind the platform gate (signature, rate, replay). */
import type { Context, Hono } from 'hono';
import type { PlatformGate } from '../auth/platform-gate.js';
import { accountIdSchema } from '../contract/signals.js';
import { ValidationError } from '../errors.js';
import type { SignalRepository } from '../graph/signal-repository.js';
import type { IngestService } from '../ingest/ingest-service.js';
import type { InvestigatorService } from '../reports/investigator-service.js';
import type { ReviewService } from '../reports/review-service.js';
import { platformView } from '../reports/platform-lookup.js';
import { admitPlatform } from './auth.js';
import { bodilessSigningContent } from '../auth/signing.js';
import { readLimitedBody } from './request.js';

export interface PlatformRouteDeps {
  gate: PlatformGate;
  ingest: IngestService;
  signals: Pick<SignalRepository, 'withdrawAccount'>;
  investigator: Pick<InvestigatorService, 'accountCluster'>;
  /** A cluster must span at least this many platforms before a platform-facing lookup reveals it. */
  releaseThreshold: number;
  /** Where a lookup that revealed a cluster is recorded: the cluster's audit log. */
  audit: Pick<ReviewService, 'viewed'>;
}

function accountParam(c: Context): string {
  const parsed = accountIdSchema.safeParse(c.req.param('account'));
  if (!parsed.success) throw new ValidationError(`account ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Runs `work` for an admitted platform; a failure releases the replay claim so the same request can be retried. */
async function asPlatform<T>(c: Context, deps: PlatformRouteDeps, work: (platform: string, body: Buffer) => Promise<T>): Promise<T> {
  const body = await readLimitedBody(c);
  // A request without a body signs its method and path, so that two of them never share a signature.
  const signed = c.req.method === 'POST' ? body : bodilessSigningContent(c.req.method, c.req.path);
  const admitted = await admitPlatform(c, deps.gate, signed);
  try {
    return await work(admitted.platform, body);
  } catch (error) {
    await admitted.release().catch(() => undefined);
    throw error;
  }
}

export function registerPlatformRoutes(app: Hono, deps: PlatformRouteDeps): void {
  app.post('/v1/signals', async (c) => c.json(await asPlatform(c, deps, (platform, body) => deps.ingest.submit(platform, body.toString('utf8'))), 202));

  app.delete('/v1/accounts/:account', async (c) => {
    const account = accountParam(c);
    const result = await asPlatform(c, deps, (platform) => deps.signals.withdrawAccount(platform, account, new Date().toISOString()));
    return c.json({ account, withdrawn: true, signalsDeleted: result.signalsDeleted, note: 'gone from clusters and reports after the next detection run' }, 202);
  });

  app.get('/v1/lookup/:account', async (c) => {
    const account = accountParam(c);
    return c.json(
      await asPlatform(c, deps, async (platform) => {
        const report = await deps.investigator.accountCluster({ platform, account });
        const view = platformView(platform, account, report, deps.releaseThreshold);
        // Telling a platform about a cluster discloses it, as a staff read does: the cluster's log keeps both.
        if (report && view.cluster) {
          const own = view.cluster.yourAccounts.length;
          const told = `told the risk, size and platform count, and its ${own} own account${own === 1 ? '' : 's'} in the cluster`;
          await deps.audit.viewed(report.id, `platform ${platform}`, `looked up its account ${platform}/${account} (GET /v1/lookup): ${told}`);
        }
        return view;
      }),
    );
  });
}
