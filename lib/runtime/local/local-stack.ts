/**
 * The whole of Crosslink on one machine: the embedded DynamoDB and SQS API servers, the HTTP API,
 * a queue worker feeding the consumer handler, and detection on demand and after ingest goes quiet.
 * It plays the part AWS Lambda plays in a deployment: it calls the same handlers over the same services.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createConsumeHandler } from '../../../functions/consume-signals.js';
import { createComponentHandler } from '../../../functions/detect.js';
import { createApi } from '../../api/app.js';
import { bearerTokenAuthenticator } from '../../api/auth.js';
import { DocumentCredentialStore, type CredentialsDocument } from '../../auth/credentials.js';
import { dynamoDocumentClient, sqsClient } from '../aws/clients.js';
import type { CrosslinkConfig } from '../config.js';
import type { DetectionOptions } from '../../detect/options.js';
import { DEFAULT_HUB_THRESHOLD, DEFAULT_RELEASE_THRESHOLD, DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_RETENTION_DAYS } from '../config.js';
import { buildCore, type Core } from '../core.js';
import { CredentialsFile } from './credentials-file.js';
import { PlatformAdmin } from '../../auth/platform-admin.js';
import { apiDeps } from '../api-wiring.js';
import { ensureQueues, ensureTable, ensureTaskQueue, pollUntil, startLocalServers, type LocalServers } from './local-servers.js';
import { QueueWorker } from './queue-worker.js';
import { serveConsole } from '../../../web/serve.js';
import type { RunRecord } from '../../graph/run-repository.js';

export interface LocalStackOptions {
  /** State folder (dynamodb/, credentials.json). */
  home: string;
  /** HTTP port; 0 picks a free one. */
  port?: number;
  /** Run detection once ingest has been quiet this long after new signals (ms); 0 turns it off. */
  quietDetectMs?: number;
  /** Queue visibility timeout: how soon a failed message is retried (s). */
  visibilityTimeoutSeconds?: number;
  hubThreshold?: number;
  /** Detection settings over the defaults (`npm start` reads them from `DETECTION_OPTIONS`). */
  detectionOptions?: Partial<DetectionOptions>;
  /** Core memberships one incremental task takes (lib/runs/closure-partition.ts); tests set it low to cut closures into several tasks. */
  closureTaskMemberships?: number;
  retentionDays?: number;
  releaseThreshold?: number;
  /** Default per-platform request rate (per minute). */
  requestsPerMinute?: number;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** Queue worker loops running at once, as Lambda runs several consumers (default 1). */
  workerConcurrency?: number;
}

export interface LocalStack {
  baseUrl: string;
  home: string;
  credentialsPath: string;
  credentials: CredentialsDocument;
  core: Core;
  servers: LocalServers;
  /** The SQS client the stack uses (tests send raw messages with it). */
  sqs: SQSClient;
  worker: QueueWorker;
  /** Resolves once the signal queue has nothing waiting or in flight, or rejects at the deadline. */
  waitForDrain(timeoutMs?: number): Promise<void>;
  /** Resolves with the run once it is no longer running. */
  waitForRun(runId: string, timeoutMs?: number): Promise<RunRecord>;
  stop(): Promise<void>;
}

const TABLE_NAME = 'crosslink';
const POLL_MS = 50;

// --- endpoints.json: how ops commands (`npm run dlq`) find a running local stack ---
/** Where a running local stack says where its servers and queues are; removed when it stops. */
export const ENDPOINTS_FILE = 'endpoints.json';

/** The content of `<home>/endpoints.json`. */
export interface LocalEndpoints {
  baseUrl: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
}

/**
 * Reads the endpoints of the local stack running with state folder `home`.
 *
 * @throws {Error} naming the file when no stack is running there (the file is absent).
 */
export function readLocalEndpoints(home: string): LocalEndpoints {
  const path = join(home, ENDPOINTS_FILE);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LocalEndpoints;
  } catch (error) {
    throw new Error(`no running local stack found (${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): start it with \`npm start\` or pass --home`);
  }
}
// --- end endpoints.json ---

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const logger = new Logger({ serviceName: 'crosslink-local', logLevel: options.logLevel ?? 'WARN' });
  const servers = await startLocalServers(options.home);
  await ensureTable(servers.dynamodbEndpoint, TABLE_NAME);
  const sqs = sqsClient({ sqs: servers.sqsEndpoint });
  const { queueUrl, deadLetterQueueUrl } = await ensureQueues(sqs, 'crosslink', options.visibilityTimeoutSeconds ?? 10);
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const taskQueue = await ensureTaskQueue(sqs, 'crosslink');
  const config: CrosslinkConfig = {
    tableName: TABLE_NAME,
    signalQueueUrl: queueUrl,
    signalDeadLetterQueueUrl: deadLetterQueueUrl,
    detectTaskQueueUrl: taskQueue.queueUrl,
    retentionDays: options.retentionDays ?? DEFAULT_RETENTION_DAYS,
    hubThreshold: options.hubThreshold ?? DEFAULT_HUB_THRESHOLD,
    releaseThreshold: options.releaseThreshold ?? DEFAULT_RELEASE_THRESHOLD,
    defaultRequestsPerMinute: options.requestsPerMinute ?? DEFAULT_REQUESTS_PER_MINUTE,
    detectionOptions: options.detectionOptions ?? {},
    closureTaskMemberships: options.closureTaskMemberships,
  };
  const core = buildCore({ db: dynamoDocumentClient({ dynamodb: servers.dynamodbEndpoint }), sqs, config });
  const credentialsPath = join(options.home, 'credentials.json');
  const credentialsFile = new CredentialsFile(credentialsPath);
  const credentialStore = new DocumentCredentialStore(() => credentialsFile.read());

  // Detection runs in this process, one at a time; the runner coalesces concurrent requests.
  const runsInFlight = new Set<Promise<unknown>>();
  const dispatcher = {
    async dispatch(runId: string) {
      const work = core.runner.execute(runId).finally(() => runsInFlight.delete(work));
      runsInFlight.add(work);
    },
  };

  let storedSinceRun = 0;
  let lastStoredAt = 0;
  const quietDetectMs = options.quietDetectMs ?? 3_000;
  const consume = createConsumeHandler(core.messageStore, logger);
  const worker = new QueueWorker({
    sqs,
    queueUrl,
    queueArn,
    handler: consume as never,
    concurrency: options.workerConcurrency,
    log: (message) => logger.warn(message),
    onProcessed: (stored) => {
      if (stored > 0) {
        storedSinceRun += stored;
        lastStoredAt = Date.now();
      }
    },
    onIdle: () => {
      if (quietDetectMs <= 0 || storedSinceRun === 0 || Date.now() - lastStoredAt < quietDetectMs || runsInFlight.size > 0) return;
      storedSinceRun = 0;
      void core.runner
        .start('quiet-ingest')
        .then(({ runId, alreadyRunning }) => (alreadyRunning ? undefined : dispatcher.dispatch(runId)))
        .catch((error) => logger.warn('quiet-ingest detection did not start', { error: (error as Error).message }));
    },
  });
  worker.start();
  // Detection's component tasks, fed to the component handler as the deployed component queue feeds its Lambda.
  const taskWorker = new QueueWorker({
    sqs,
    queueUrl: taskQueue.queueUrl,
    queueArn: taskQueue.queueArn,
    handler: createComponentHandler(core.runner) as never,
    batchSize: 1,
    log: (message) => logger.warn(message),
  });
  taskWorker.start();

  const app = createApi(
    apiDeps(core, {
      credentials: credentialStore,
      staffAuthenticator: bearerTokenAuthenticator(credentialStore),
      dispatcher,
      platformAdmin: new PlatformAdmin(credentialsFile),
      logger,
    }),
  );
  // The investigator console at `/` (built from web/ when its build is missing or stale).
  await serveConsole(app);
  const server: ServerType = await new Promise((resolve) => {
    const started = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: '127.0.0.1' }, () => resolve(started));
  });
  const port = (server.address() as AddressInfo).port;
  const endpoints: LocalEndpoints = {
    baseUrl: `http://127.0.0.1:${port}`,
    dynamodbEndpoint: servers.dynamodbEndpoint,
    sqsEndpoint: servers.sqsEndpoint,
    tableName: TABLE_NAME,
    queueUrl,
    deadLetterQueueUrl,
  };
  writeFileSync(join(options.home, ENDPOINTS_FILE), `${JSON.stringify(endpoints, null, 2)}\n`);

  return {
    baseUrl: endpoints.baseUrl,
    home: options.home,
    credentialsPath,
    get credentials() {
      return credentialsFile.current();
    },
    core,
    servers,
    sqs,
    worker,
    waitForDrain: (timeoutMs = 30_000) =>
      pollUntil('the signal queue to drain', timeoutMs, POLL_MS, async () => {
        const depth = await core.queue.depth();
        return depth.waiting === 0 && depth.inFlight === 0 ? true : undefined;
      }).then(() => undefined),
    waitForRun: (runId, timeoutMs = 60_000) =>
      pollUntil(`detection run ${runId}`, timeoutMs, POLL_MS, async () => {
        const run = await core.runs.get(runId);
        return run && run.status !== 'running' ? run : undefined;
      }),
    async stop() {
      rmSync(join(options.home, ENDPOINTS_FILE), { force: true });
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await Promise.all([worker.stop(), taskWorker.stop()]);
      await Promise.allSettled([...runsInFlight]);
      await servers.stop();
    },
  };
}
