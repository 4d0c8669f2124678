/**
 * The graph each detection run saw (lib/runs/run-graph.ts), kept beside the run so that the next
 * incremental run starts from it instead of reading the whole table. Stored gzipped in parts under the
 * run's partition; the head (written last) says how many parts make it, so a graph whose writing was
 * cut short is never read. Kept {@link RUN_GRAPH_DAYS} days (TTL).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { decodeRunGraph, encodeRunGraph, type RunGraph } from '../runs/run-graph.js';
import { batchWriteAll } from './batch-write.js';
import { runPk } from './keys.js';
import { allItems } from './paginate.js';

/** Bytes per stored part: under DynamoDB's 400 KB item limit with room for the keys. */
const PART_BYTES = 350_000;
/** How long a run's graph is kept: longer than the time between scheduled full runs. */
export const RUN_GRAPH_DAYS = 3;

const partSk = (part: number) => `GRAPH#${String(part).padStart(5, '0')}`;
const SK_GRAPH_HEAD = 'GRAPH#HEAD';

export class RunGraphRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores a run's graph; returns its size in bytes (gzipped). */
  async put(runId: string, graph: RunGraph): Promise<number> {
    const bytes = await encodeRunGraph(graph);
    const expiresAt = Math.floor(Date.now() / 1000) + RUN_GRAPH_DAYS * 86_400;
    const parts = Math.ceil(bytes.length / PART_BYTES);
    await batchWriteAll(
      this.db,
      this.tableName,
      Array.from({ length: parts }, (_, part) => ({
        PutRequest: { Item: { pk: runPk(runId), sk: partSk(part), kind: 'run-graph', body: bytes.subarray(part * PART_BYTES, (part + 1) * PART_BYTES), expiresAt } },
      })),
    );
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { pk: runPk(runId), sk: SK_GRAPH_HEAD, kind: 'run-graph', parts, bytes: bytes.length, expiresAt } }));
    return bytes.length;
  }

  /** A run's graph, or undefined when none is stored whole (not kept, expired, or of an older format). */
  async get(runId: string): Promise<RunGraph | undefined> {
    const items = await allItems(this.db, {
      query: { TableName: this.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :graph)', ExpressionAttributeValues: { ':pk': runPk(runId), ':graph': 'GRAPH#' } },
    });
    const head = items.find((item) => item.sk === SK_GRAPH_HEAD);
    const parts = items.filter((item) => item.sk !== SK_GRAPH_HEAD).sort((a, b) => (a.sk < b.sk ? -1 : 1));
    if (!head || parts.length !== head.parts) return undefined;
    const bytes = Buffer.concat(parts.map((item) => item.body as Uint8Array));
    if (bytes.length !== head.bytes) return undefined;
    return decodeRunGraph(bytes);
  }
}
