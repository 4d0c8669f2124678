/**
 * The graph each detection run saw (lib/runs/run-graph.ts), kept beside the run so that the next
 * incremental run starts from it instead of reading the whole table. Stored gzipped in parts under the
 * run's partition; the head (written last) says how many parts make it, so a graph whose writing was
 * cut short is never read. A full run's graph is kept whole for {@link RUN_GRAPH_DAYS} days (TTL). An
 * incremental run's graph is kept as an overlay of the last whole one (the accounts rewritten since,
 * lib/runs/run-graph.ts `overlayOf`), which is a few percent of its size, and expires with it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { decodeGraphOverlay, decodeRunGraph, encodeGraphOverlay, encodeRunGraph, overlayOf, withOverlay, type RunGraph } from '../runs/run-graph.js';
import { batchWriteAll } from './batch-write.js';
import { runPk } from './keys.js';
import { inParallel } from './in-parallel.js';

/** Bytes per stored part: under DynamoDB's 400 KB item limit with room for the keys. */
const PART_BYTES = 350_000;
/** How long a run's graph is kept: longer than the time between scheduled full runs. */
export const RUN_GRAPH_DAYS = 3;
/**
 * An overlay is kept while it holds at most this share of the graph's memberships; beyond it (many
 * incremental runs since the last full one, or a large change) the graph is kept whole again.
 */
export const MAX_OVERLAY_SHARE = 0.2;
/** An overlay is laid over a whole graph only while that graph has at least this long to live; else the graph is kept whole. */
const MIN_BASE_LIFE_S = 86_400;

const partSk = (part: number) => `GRAPH#${String(part).padStart(5, '0')}`;
const SK_GRAPH_HEAD = 'GRAPH#HEAD';

/** A kept graph, and the whole graph it is an overlay of (itself when kept whole) with the accounts rewritten since. */
export interface KeptGraph {
  graph: RunGraph;
  base: { runId: string; expiresAt: number; rewritten: string[] };
}

/** What a graph's head item says. */
interface GraphHead {
  parts: number;
  bytes: number;
  expiresAt: number;
  base?: string;
}

/**
 * How a graph was kept: its size in bytes (gzipped), for an overlay the run whose whole graph it lies
 * over, and the `base` that {@link RunGraphRepository.get} will return with it.
 */
export interface GraphKept {
  bytes: number;
  laidOver?: string;
  base: KeptGraph['base'];
}

export class RunGraphRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly nowS: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /**
   * Stores a run's graph: as an overlay of `over` (the whole graph the previous run's graph lies over,
   * and every account rewritten since it) when that is small and the whole graph lives long enough;
   * else whole.
   */
  async put(runId: string, graph: RunGraph, over?: KeptGraph['base']): Promise<GraphKept> {
    if (over && over.expiresAt - this.nowS() >= MIN_BASE_LIFE_S) {
      const overlay = overlayOf(graph, over.rewritten);
      if (overlay.graph.memberships.length <= MAX_OVERLAY_SHARE * graph.memberships.length) {
        const bytes = await encodeGraphOverlay(overlay);
        await this.putBytes(runId, bytes, over.expiresAt, over.runId);
        return { bytes: bytes.length, laidOver: over.runId, base: { runId: over.runId, expiresAt: over.expiresAt, rewritten: overlay.accounts } };
      }
    }
    const bytes = await encodeRunGraph(graph);
    const expiresAt = this.nowS() + RUN_GRAPH_DAYS * 86_400;
    await this.putBytes(runId, bytes, expiresAt);
    return { bytes: bytes.length, base: { runId, expiresAt, rewritten: [] } };
  }

  /** A run's graph, or undefined when none is stored whole (not kept, expired, cut short, or of an older format), nor its base. */
  async get(runId: string): Promise<KeptGraph | undefined> {
    const head = await this.getHead(runId);
    if (!head) return undefined;
    if (head.base === undefined) {
      const stored = await this.getBytes(runId, head);
      const graph = stored && decodeRunGraph(stored.bytes);
      return graph ? { graph, base: { runId, expiresAt: head.expiresAt, rewritten: [] } } : undefined;
    }
    // The overlay and the whole graph it lies over, read side by side.
    const baseRunId = head.base;
    const [stored, base] = await Promise.all([
      this.getBytes(runId, head),
      this.getHead(baseRunId).then((baseHead) => (baseHead && baseHead.base === undefined ? this.getBytes(baseRunId, baseHead) : undefined)),
    ]);
    if (!stored || !base) return undefined;
    const [whole, overlay] = [decodeRunGraph(base.bytes), decodeGraphOverlay(stored.bytes)];
    if (!whole || !overlay) return undefined;
    return { graph: withOverlay(whole, overlay), base: { runId: baseRunId, expiresAt: base.expiresAt, rewritten: overlay.accounts } };
  }

  private async putBytes(runId: string, bytes: Buffer, expiresAt: number, base?: string): Promise<void> {
    const parts = Math.ceil(bytes.length / PART_BYTES);
    await batchWriteAll(
      this.db,
      this.tableName,
      Array.from({ length: parts }, (_, part) => ({
        PutRequest: { Item: { pk: runPk(runId), sk: partSk(part), kind: 'run-graph', body: bytes.subarray(part * PART_BYTES, (part + 1) * PART_BYTES), expiresAt } },
      })),
    );
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: runPk(runId), sk: SK_GRAPH_HEAD, kind: 'run-graph', parts, bytes: bytes.length, expiresAt, ...(base ? { base } : {}) } }),
    );
  }

  /** A graph's head (parts, bytes, expiry, the run it lies over), or undefined when there is none or it has expired. */
  private async getHead(runId: string): Promise<GraphHead | undefined> {
    const head = (await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: runPk(runId), sk: SK_GRAPH_HEAD }, ConsistentRead: true }))).Item;
    if (!head) return undefined;
    // DynamoDB deletes expired items within days, not at once: an expired graph is not used.
    if (typeof head.expiresAt === 'number' && head.expiresAt <= this.nowS()) return undefined;
    return { parts: Number(head.parts), bytes: Number(head.bytes), expiresAt: Number(head.expiresAt), base: head.base === undefined ? undefined : String(head.base) };
  }

  /** The bytes a head names, its parts read side by side; undefined when any part is missing or the sizes disagree. */
  private async getBytes(runId: string, head: GraphHead): Promise<{ bytes: Buffer; expiresAt: number } | undefined> {
    const parts: Array<Uint8Array | undefined> = new Array(head.parts);
    await inParallel(
      Array.from({ length: head.parts }, (_, part) => part),
      async (part) => {
        const item = (await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: runPk(runId), sk: partSk(part) }, ConsistentRead: true }))).Item;
        parts[part] = item?.body as Uint8Array | undefined;
      },
    );
    if (parts.some((part) => part === undefined)) return undefined;
    const bytes = Buffer.concat(parts as Uint8Array[]);
    return bytes.length === head.bytes ? { bytes, expiresAt: head.expiresAt } : undefined;
  }
}
