/**
 * The graph each detection run saw (lib/runs/run-graph.ts), kept beside the run so that the next
 * incremental run starts from it instead of reading the whole table. Stored gzipped in parts under the
 * run's partition; the head (written last) says how many parts make it, so a graph whose writing was
 * cut short is never read. A full run's graph is kept whole for {@link RUN_GRAPH_DAYS} days (TTL). An
 * incremental run's graph is kept as an overlay of the previous run's (the accounts it rewrote and the
 * components it recomputed, lib/runs/run-graph.ts `overlayOf`), a few percent of its size, up to
 * {@link MAX_OVERLAYS} overlays over one whole graph; each expires with that whole graph.
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
 * An overlay is kept while it holds at most this share of the graph's memberships; beyond it (a large
 * change) the graph is kept whole again.
 */
export const MAX_OVERLAY_SHARE = 0.2;
/**
 * Overlays at most between a kept graph and the whole one under it: a graph further up is kept whole.
 * A run started afresh reads them all (one after another, each a few percent of the graph); each
 * overlay spares a run from writing the whole graph.
 */
export const MAX_OVERLAYS = 10;
/** An overlay is laid down only while the whole graph under it has at least this long to live; else the graph is kept whole. */
const MIN_BASE_LIFE_S = 86_400;

const partSk = (part: number) => `GRAPH#${String(part).padStart(5, '0')}`;
const SK_GRAPH_HEAD = 'GRAPH#HEAD';

/** Where a kept graph lies: the run it is the graph of, when the whole graph under it expires, and how many overlays lie between (0: it is whole). */
export interface GraphPlace {
  runId: string;
  expiresAt: number;
  overlays: number;
}

/** A kept graph and where it lies. */
export interface KeptGraph {
  graph: RunGraph;
  place: GraphPlace;
}

/** What a run's graph changed in a kept one: the accounts whose memberships or facts it rewrote, and those whose components it recomputed. */
export interface ChangesSince {
  place: GraphPlace;
  rewritten: readonly string[];
  regrouped: readonly string[];
}

/** What a graph's head item says. */
interface GraphHead {
  parts: number;
  bytes: number;
  expiresAt: number;
  /** The run whose graph this one's overlay lies over. */
  base?: string;
}

/** How a graph was kept: its size in bytes (gzipped), for an overlay the run whose graph it lies over, and where it lies. */
export interface GraphKept {
  bytes: number;
  laidOver?: string;
  place: GraphPlace;
}

export class RunGraphRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly nowS: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /**
   * Stores a run's graph: as an overlay of the kept graph it was derived from (`since`, with what it
   * changed there) when that is small, the chain of overlays under it short enough, and the whole graph
   * under them lives long enough; else whole.
   */
  async put(runId: string, graph: RunGraph, since?: ChangesSince): Promise<GraphKept> {
    if (since && since.place.overlays < MAX_OVERLAYS && since.place.expiresAt - this.nowS() >= MIN_BASE_LIFE_S) {
      const overlay = overlayOf(graph, since.rewritten, since.regrouped);
      if (overlay.graph.memberships.length <= MAX_OVERLAY_SHARE * graph.memberships.length) {
        const bytes = await encodeGraphOverlay(overlay);
        await this.putBytes(runId, bytes, since.place.expiresAt, since.place.runId);
        return { bytes: bytes.length, laidOver: since.place.runId, place: { runId, expiresAt: since.place.expiresAt, overlays: since.place.overlays + 1 } };
      }
    }
    const bytes = await encodeRunGraph(graph);
    const expiresAt = this.nowS() + RUN_GRAPH_DAYS * 86_400;
    await this.putBytes(runId, bytes, expiresAt);
    return { bytes: bytes.length, place: { runId, expiresAt, overlays: 0 } };
  }

  /**
   * A run's graph, or undefined when it or any graph under it is not stored whole (not kept, expired,
   * cut short, or of an older format), or more than {@link MAX_OVERLAYS} overlays lie over the whole one.
   */
  async get(runId: string): Promise<KeptGraph | undefined> {
    // The heads down to the whole graph, then every part side by side.
    const chain: Array<{ runId: string; head: GraphHead }> = [];
    for (let at: string | undefined = runId; at !== undefined; ) {
      if (chain.length > MAX_OVERLAYS) return undefined;
      const head = await this.getHead(at);
      if (!head) return undefined;
      chain.push({ runId: at, head });
      at = head.base;
    }
    const stored = await Promise.all(chain.map(({ runId: id, head }) => this.getBytes(id, head)));
    if (stored.some((bytes) => bytes === undefined)) return undefined;
    const whole = chain[chain.length - 1];
    let graph = decodeRunGraph(stored[chain.length - 1]!.bytes);
    for (let n = chain.length - 2; n >= 0 && graph; n--) {
      const overlay = decodeGraphOverlay(stored[n]!.bytes);
      graph = overlay && withOverlay(graph, overlay);
    }
    return graph ? { graph, place: { runId, expiresAt: whole.head.expiresAt, overlays: chain.length - 1 } } : undefined;
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
