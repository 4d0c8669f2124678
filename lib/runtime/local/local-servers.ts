/**
 * The embedded AWS API servers of the local stack: dynalite (the DynamoDB API on LevelDB, persisted
 * under the state folder; on a thread of its own) and local-aws-sqs (the SQS API, in memory), plus the
 * table and queues Crosslink needs, created as the CDK stack creates them.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createSqsServer } from 'local-aws-sqs';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GSI1, MAX_RECEIVE_COUNT, PARTITION_KEY, RANKING_INDEX, SORT_KEY, TTL_ATTRIBUTE } from '../../graph/table-schema.js';

export { MAX_RECEIVE_COUNT };

export interface LocalServers {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  stopDynamo(): Promise<void>;
  /** Milliseconds the DynamoDB server's thread has spent working since it started (for benchmarks: how busy the server was). */
  dynamoBusyMs(): number;
  /** Listens again on the same port, over the same data (for fault tests). */
  restartDynamo(): Promise<void>;
  stop(): Promise<void>;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/**
 * The DynamoDB API server on its own thread (lib/runtime/local/dynamo-server-thread.mjs), driven by
 * commands: the server's work runs beside the handlers', as a remote service's does.
 */
function startDynamoThread(options: Record<string, unknown>): { command(name: 'listen' | 'stop' | 'close'): Promise<number>; terminate(): Promise<number>; busyMs(): number } {
  const thread = new Worker(new URL('./dynamo-server-thread.mjs', import.meta.url), { workerData: { options } });
  const waiting = new Map<number, { resolve(port: number): void; reject(error: Error): void }>();
  let next = 0;
  thread.on('message', ({ id, port, error }: { id: number; port: number; error?: string }) => {
    const answer = waiting.get(id);
    waiting.delete(id);
    if (error !== undefined) answer?.reject(new Error(`local DynamoDB server: ${error}`));
    else answer?.resolve(port);
  });
  const failAll = (error: Error) => {
    for (const answer of waiting.values()) answer.reject(error);
    waiting.clear();
  };
  thread.on('error', failAll);
  thread.on('exit', (code) => failAll(new Error(`local DynamoDB server thread exited (${code})`)));
  return {
    command(name) {
      return new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        thread.postMessage({ id, command: name });
      });
    },
    terminate: () => thread.terminate(),
    busyMs: () => thread.performance.eventLoopUtilization().active,
  };
}

export async function startLocalServers(
  stateDir: string,
  /** How long the DynamoDB server keeps a new table CREATING (tests set it, as DynamoDB takes seconds). */
  options: { createTableMs?: number } = {},
): Promise<LocalServers> {
  const dynamoDir = join(stateDir, 'dynamodb');
  mkdirSync(dynamoDir, { recursive: true });
  const dynamo = startDynamoThread({ path: dynamoDir, createTableMs: options.createTableMs ?? 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoPort = await dynamo.command('listen');
  const sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const sqsPort = (sqsServer.address() as AddressInfo).port;
  return {
    dynamodbEndpoint: `http://127.0.0.1:${dynamoPort}`,
    sqsEndpoint: `http://127.0.0.1:${sqsPort}`,
    // An outage as clients see it: the port refuses connections and open ones are cut. LevelDB stays open:
    // closing it under requests in flight makes dynalite throw from its callbacks. Requests already
    // inside finish their writes, like a server whose answers were lost.
    dynamoBusyMs: () => dynamo.busyMs(),
    stopDynamo: async () => {
      await dynamo.command('stop');
    },
    async restartDynamo() {
      await dynamo.command('stop');
      await dynamo.command('listen');
    },
    async stop() {
      await Promise.all([dynamo.command('close').then(() => dynamo.terminate()), close(sqsServer)]);
    },
  };
}

/** Asks `probe` every `everyMs` until it answers something, for up to `timeoutMs`; then fails naming `what` it waited for. */
export async function pollUntil<T>(what: string, timeoutMs: number, everyMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** How long {@link ensureTable} waits for a table it created to become ACTIVE. */
const TABLE_ACTIVE_WAIT_MS = 10_000;

/**
 * Creates the Crosslink table (keys, indexes, TTL) unless it exists. A table kept from a version
 * without the ranking index is refused: dynalite cannot add an index to a table (DynamoDB can, and the
 * CDK stack does), so local state that old has to be started afresh.
 */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    client.destroy();
    if (!Table?.GlobalSecondaryIndexes?.some((index) => index.IndexName === RANKING_INDEX.name)) {
      throw new Error(
        `the local table ${tableName} predates the ranking index (${RANKING_INDEX.name}), which the local DynamoDB server cannot add to an existing table: move the state folder's dynamodb directory aside (or start with a new state folder) and ingest again`,
      );
    }
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: SORT_KEY, AttributeType: 'S' },
        { AttributeName: GSI1.partitionKey, AttributeType: 'S' },
        { AttributeName: GSI1.sortKey, AttributeType: 'S' },
        { AttributeName: RANKING_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: RANKING_INDEX.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: GSI1.name,
          KeySchema: [
            { AttributeName: GSI1.partitionKey, KeyType: 'HASH' },
            { AttributeName: GSI1.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: RANKING_INDEX.name,
          KeySchema: [
            { AttributeName: RANKING_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: RANKING_INDEX.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...RANKING_INDEX.attributes] },
        },
      ],
    }),
  );
  // dynalite answers CreateTable while the table is still CREATING and makes it ACTIVE a timer tick
  // later; a request in between is refused as if the table did not exist (seen under load in CI).
  await pollUntil(`the local table ${tableName} to be ACTIVE after it was created`, TABLE_ACTIVE_WAIT_MS, 5, async () =>
    (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus === 'ACTIVE' ? true : undefined,
  );
  try {
    await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }));
  } catch {
    // dynalite does not implement TTL; expiry is then enforced by readers (see SignalRepository) only on AWS.
  }
  client.destroy();
}

/** Creates the signal queue and its dead-letter queue; returns their URLs. */
export async function ensureQueues(sqs: SQSClient, prefix: string, visibilityTimeoutSeconds: number): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  const dead = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-signals-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }));
  const deadArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dead.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-signals`,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadArn, maxReceiveCount: MAX_RECEIVE_COUNT }),
      },
    }),
  );
  return { queueUrl: main.QueueUrl!, deadLetterQueueUrl: dead.QueueUrl! };
}

/** Creates the queue of detection component tasks (the deployed stack's component queue); returns its URL and ARN. */
export async function ensureTaskQueue(sqs: SQSClient, prefix: string): Promise<{ queueUrl: string; queueArn: string }> {
  // A task records its own failure on the run, so it is never retried and needs no dead-letter queue.
  const created = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-detect-tasks`, Attributes: { VisibilityTimeout: '300' } }));
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  return { queueUrl: created.QueueUrl!, queueArn };
}
