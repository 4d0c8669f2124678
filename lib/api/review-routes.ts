/**
 * Routes for the investigator console: the filtered queue and its counts, review state, notes,
 * verdicts, evidence paths, cluster context, audit log and exports. Registered before the staff routes,
 * so that `GET /v1/clusters` with a console filter is served here and a view of a report (opened, or
 * reached through an account lookup) is audited; the context and evidence paths, which show members too,
 * are audited by the review service.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { platformIdSchema } from '../contract/platforms.js';
import { REVIEW_STATUSES } from '../graph/cluster-repository.js';
import { isQueueCursor } from '../graph/review-repository.js';
import { EXPORT_FORMATS, type ExportFormat } from '../reports/export.js';
import type { ReviewService } from '../reports/review-service.js';
import type { StaffPrincipal } from './auth.js';
import { parseJsonBody, parseQuery } from './request.js';
import type { StaffGuard } from './staff-routes.js';
import { ValidationError } from '../errors.js';
import { fileAnswer, LAMBDA_ANSWER_BYTES } from './file-answer.js';

export interface ReviewRouteDeps {
  review: ReviewService;
  /** The most an export may answer with (Lambda's limit, {@link LAMBDA_ANSWER_BYTES}, unless set; tests set it low). */
  maxAnswerBytes?: number;
}

/**
 * A reviewer may name themselves (the local token is shared); the audit log keeps the token's subject beside it.
 * The name is percent-encoded UTF-8 (`encodeURIComponent`), so that a name in any script fits a header.
 */
export const REVIEWER_HEADER = 'x-crosslink-reviewer';

const statusList = REVIEW_STATUSES.join(', ');
const count = (name: string, max: number) =>
  z.coerce.number({ error: `${name} must be a number` }).int({ error: `${name} must be a whole number` }).min(0, { error: `${name} must be at least 0` }).max(max, { error: `${name} must be at most ${max}` });
const riskBound = (name: string) => z.coerce.number({ error: `${name} must be a number from 0 to 100` }).min(0, { error: `${name} must be at least 0` }).max(100, { error: `${name} must be at most 100` });
const nameSchema = (field: string) => z.string().trim().min(1, { error: `${field} must not be empty` }).max(64, { error: `${field} must be at most 64 characters` });

/** The query params the console adds to `GET /v1/clusters` (any of them, or a queue cursor, routes the list here). */
const QUEUE_PARAMS = ['status', 'platform', 'minSize', 'maxSize', 'minRisk', 'maxRisk', 'updatedSince', 'assignee'] as const;

const queueQuerySchema = z.object({
  limit: z.coerce.number({ error: 'limit must be a number' }).int({ error: 'limit must be a whole number' }).min(1, { error: 'limit must be at least 1' }).max(500, { error: 'limit must be at most 500' }).default(50),
  cursor: z.string().max(2048).optional(),
  status: z
    .enum(['any', 'open', ...REVIEW_STATUSES], { error: `status must be any, open (not dismissed), or one of ${statusList}` })
    .default('any')
    .transform((status) => (status === 'any' ? undefined : status)),
  platform: platformIdSchema.optional(),
  minPlatforms: count('minPlatforms', 100).optional(),
  minSize: count('minSize', 1_000_000).optional(),
  maxSize: count('maxSize', 1_000_000).optional(),
  minRisk: riskBound('minRisk').optional(),
  maxRisk: riskBound('maxRisk').optional(),
  updatedSince: z.iso.datetime({ offset: true, error: 'updatedSince must be an ISO-8601 date-time, e.g. 2026-11-01T00:00:00Z' }).transform((at) => new Date(at).toISOString()).optional(),
  assignee: nameSchema('assignee').optional(),
});

const reviewChangeSchema = z
  .object({
    status: z.enum(REVIEW_STATUSES, { error: `status must be one of ${statusList}` }).optional(),
    assignee: nameSchema('assignee').nullable().optional(),
  })
  .strict()
  .refine((change) => change.status !== undefined || change.assignee !== undefined, { error: 'send status and/or assignee (null unassigns)' });

const noteSchema = z.object({ text: z.string({ error: 'text is required: the note' }).trim().min(1, { error: 'text must not be empty' }).max(4000, { error: 'text must be at most 4000 characters' }) });

const accountRefSchema = z
  .object(
    {
      platform: platformIdSchema,
      account: z.string({ error: 'account is required: the platform\'s account id, 1-128 characters' }).min(1, { error: 'account must be 1-128 characters' }).max(128, { error: 'account must be 1-128 characters' }),
    },
    { error: 'expected {"platform","account"}' },
  )
  .strict();

const verdictSchema = z
  .object({
    a: accountRefSchema,
    b: accountRefSchema,
    kind: z.enum(['same-actor', 'not-same-actor'], { error: 'kind must be same-actor or not-same-actor' }),
    clusterId: z.string({ error: 'clusterId must be a cluster id (a string)' }).min(1).max(128).optional(),
  })
  .strict();

const pageSchema = z.object({
  limit: z.coerce.number({ error: 'limit must be a number' }).int().min(1, { error: 'limit must be at least 1' }).max(500, { error: 'limit must be at most 500' }).default(100),
  cursor: z.string().max(2048).optional(),
});

const exportSchema = z.object({
  format: z.enum(Object.keys(EXPORT_FORMATS) as [ExportFormat, ...ExportFormat[]], { error: `format must be one of ${Object.keys(EXPORT_FORMATS).join(', ')}` }).default('json'),
});

/** `platform/account` (the account may itself contain slashes). */
const pathEndSchema = z.string({ error: 'from and to are required, as platform/account' }).transform((value, ctx) => {
  const cut = value.indexOf('/');
  if (cut <= 0 || cut === value.length - 1) {
    ctx.addIssue({ code: 'custom', message: 'must be platform/account, e.g. chatapp/a-1' });
    return z.NEVER;
  }
  return { platform: value.slice(0, cut), account: value.slice(cut + 1) };
});
const pathQuerySchema = z.object({ from: pathEndSchema, to: pathEndSchema });

function actorOf(c: Context, principal: StaffPrincipal): string {
  const header = c.req.header(REVIEWER_HEADER);
  if (!header?.trim()) return principal.subject;
  let claimed: string;
  try {
    claimed = decodeURIComponent(header).trim();
  } catch {
    throw new ValidationError(`${REVIEWER_HEADER} must be percent-encoded UTF-8 (encodeURIComponent of the name)`);
  }
  // Names and email addresses as identity providers give them (O'Brien, dana+crosslink@…); parentheses are
  // the audit log's, around the token's subject, and control characters would break its lines.
  if (!/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}()]{1,64}$/u.test(claimed)) throw new ValidationError(`${REVIEWER_HEADER} must be 1-64 characters, without parentheses or control characters`);
  return `${claimed} (${principal.subject})`;
}

export function registerReviewRoutes(app: Hono, deps: ReviewRouteDeps, staff: StaffGuard): void {
  const { review } = deps;

  app.get('/v1/clusters', async (c, next) => {
    const query = c.req.query();
    if (!QUEUE_PARAMS.some((name) => name in query) && !isQueueCursor(query.cursor)) return next();
    await staff(c);
    const { limit, cursor, ...filters } = parseQuery(queueQuerySchema, c);
    return c.json(await review.queue(filters, { limit, cursor }));
  });

  app.get('/v1/queue/counts', async (c) => {
    await staff(c);
    return c.json(await review.counts());
  });

  // The report itself is the staff routes' answer; a successful read of it is audited here.
  app.get('/v1/clusters/:id', async (c, next) => {
    const principal = await staff(c);
    await next();
    if (c.res.status === 200) await review.viewed(c.req.param('id'), actorOf(c, principal));
  });

  // An account lookup answers the report of the account's cluster: audited as a view of that cluster.
  app.get('/v1/accounts/:platform/:account', async (c, next) => {
    const principal = await staff(c);
    await next();
    if (c.res.status !== 200) return;
    const { cluster } = (await c.res.clone().json()) as { cluster: { id: string } | null };
    if (cluster) await review.viewed(cluster.id, actorOf(c, principal), `looked up ${c.req.param('platform')}/${c.req.param('account')} and opened its cluster report`);
  });

  app.get('/v1/clusters/:id/context', async (c) => {
    const principal = await staff(c);
    return c.json(await review.context(c.req.param('id'), actorOf(c, principal)));
  });

  app.get('/v1/clusters/:id/review', async (c) => {
    await staff(c);
    return c.json(await review.review(c.req.param('id')));
  });

  app.patch('/v1/clusters/:id/review', async (c) => {
    const principal = await staff(c);
    const change = await parseJsonBody(reviewChangeSchema, c);
    return c.json({ clusterId: c.req.param('id'), ...(await review.updateReview(c.req.param('id'), change, actorOf(c, principal))) });
  });

  app.post('/v1/clusters/:id/notes', async (c) => {
    const principal = await staff(c);
    const { text } = await parseJsonBody(noteSchema, c);
    return c.json(await review.addNote(c.req.param('id'), text, actorOf(c, principal)), 201);
  });

  app.get('/v1/clusters/:id/audit', async (c) => {
    await staff(c);
    return c.json(await review.auditLog(c.req.param('id'), parseQuery(pageSchema, c)));
  });

  app.get('/v1/clusters/:id/path', async (c) => {
    const principal = await staff(c);
    const { from, to } = parseQuery(pathQuerySchema, c);
    return c.json(await review.path(c.req.param('id'), from, to, actorOf(c, principal)));
  });

  app.get('/v1/clusters/:id/export', async (c) => {
    const principal = await staff(c);
    const { format } = parseQuery(exportSchema, c);
    const id = c.req.param('id');
    const { fileName, body } = await review.export(id, format, actorOf(c, principal));
    const file = fileAnswer(body, c.req.header('accept-encoding'), deps.maxAnswerBytes ?? LAMBDA_ANSWER_BYTES, `the ${format.toUpperCase()} export of cluster ${id}`);
    return c.body(file.body, 200, {
      'content-type': EXPORT_FORMATS[format].mediaType,
      'content-disposition': `attachment; filename="${fileName}"`,
      vary: 'accept-encoding',
      ...(file.encoding ? { 'content-encoding': file.encoding } : {}),
    });
  });

  app.post('/v1/verdicts', async (c) => {
    const principal = await staff(c);
    const body = await parseJsonBody(verdictSchema, c);
    return c.json(await review.recordVerdict(body, actorOf(c, principal)), 201);
  });
}
