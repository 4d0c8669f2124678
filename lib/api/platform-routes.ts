/**
 * Routes for platforms, each behind the platform gate (signature, rate, replay).
 *
 * A withdrawal and a lookup name the account in the query (`?account=<id>`): an account id may hold any
 * character, and API Gateway HTTP APIs are reported to hand the Lambda its path percent-decoded (and cut
 * at a decoded `?`) while the query stays as sent (docs/faults.md). The older forms with the account in
 * the path stay served for clients that use them.
 */
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
import { bodilessSigningContent, rawQueryOf } from '../auth/signing.js';
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

/** The account named in the path (`/v1/lookup/:account`), checked as every account id is. */
function accountParam(c: Context): string {
  return checkedAccount(c.req.param('account'));
}

/** The account named in the query (`?account=<id>`), given once and checked as every account id is. */
function accountQuery(c: Context): string {
  const given = c.req.queries('account') ?? [];
  if (given.length > 1) throw new ValidationError(`the account query parameter is given ${given.length} times: send it once`);
  if (given.length === 0 || given[0] === '') {
    throw new ValidationError('missing the account query parameter: send ?account=<your account id>, percent-encoded');
  }
  return checkedAccount(given[0]);
}

function checkedAccount(candidate: string | undefined): string {
  const parsed = accountIdSchema.safeParse(candidate);
  if (!parsed.success) throw new ValidationError(`account ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Runs `work` for an admitted platform; a failure releases the replay claim so the same request can be retried. */
async function asPlatform<T>(c: Context, deps: PlatformRouteDeps, work: (platform: string, body: Buffer) => Promise<T>): Promise<T> {
  const body = await readLimitedBody(c);
  // A request without a body signs its method, path and query, so that two of them never share a signature.
  const signed = c.req.method === 'POST' ? body : bodilessSigningContent(c.req.method, c.req.path, rawQueryOf(c.req.url));
  const admitted = await admitPlatform(c, deps.gate, signed);
  try {
    return await work(admitted.platform, body);
  } catch (error) {
    await admitted.release().catch(() => undefined);
    throw error;
  }
}

export function registerPlatformRoutes(app: Hono, deps: PlatformRouteDeps): void {
  app.post('/v1/signals', async (c) => c.json(await asPlatform(c, deps, (platform, body) => deps.ingest.submit(platform, body)), 202));

  const withdraw = async (c: Context, account: string) => {
    const result = await asPlatform(c, deps, (platform) => deps.signals.withdrawAccount(platform, account, new Date().toISOString()));
    return c.json({ account, withdrawn: true, signalsDeleted: result.signalsDeleted, note: 'gone from clusters and reports after the next detection run' }, 202);
  };
  app.delete('/v1/accounts', (c) => withdraw(c, accountQuery(c)));
  app.delete('/v1/accounts/:account', (c) => withdraw(c, accountParam(c)));

  const lookup = async (c: Context, account: string) =>
    c.json(
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
  app.get('/v1/lookup', (c) => lookup(c, accountQuery(c)));
  app.get('/v1/lookup/:account', (c) => lookup(c, accountParam(c)));
}
