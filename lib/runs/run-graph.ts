/**
 * The graph as a detection run saw it, kept for the next run: every live membership (with when it
 * expires), account facts, withdrawals, and the components and hubs detection formed over it. An
 * incremental run starts from the previous run's graph, applies what changed since (the change log
 * carries the stored signals themselves) and recomputes only the closure of the changes
 * (lib/detect/incremental.ts), without reading the whole table.
 *
 * Plain data and pure functions: the repository (lib/graph/run-graph-repository.ts) stores the bytes.
 */
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { SIGNAL_TYPES, type SignalType } from '../contract/signals.js';
import type { HubRecord } from '../detect/account-graph.js';
import { identKey } from '../detect/incremental.js';
import type { AccountFacts, Membership } from '../detect/model.js';
import { appendAll } from '../append-all.js';

/** A membership with the moment its signal expires (DynamoDB's TTL, seconds since the epoch). */
export interface StoredMembership extends Membership {
  expiresAtS: number;
}

/** An account's facts with the moment its record expires (absent for a record stored before records expired). */
export interface StoredFacts extends AccountFacts {
  expiresAtS?: number;
}

export interface RunGraph {
  memberships: StoredMembership[];
  facts: Map<string, StoredFacts>;
  /** Withdrawn accounts and when: their signals received until then are never linked. */
  withdrawnAt: Map<string, string>;
  /** Every component of two or more accounts as detection formed it (an incremental core is made of whole ones). */
  components: string[][];
  /** Identifiers excluded as hubs, with every value a hub photo family covers. */
  hubs: HubRecord[];
}

/** Signals one stored message added, as the change log keeps them. */
export interface StoredSignals {
  platform: string;
  receivedAt: string;
  expiresAtS: number;
  /**
   * Written on condition, as a message stored late is (SignalRepository.putSignals): a signal whose
   * stored copy expires later was left as it was.
   */
  keepLater?: boolean;
  signals: Array<{ account: string; type: SignalType; value: string; observedAt: string }>;
}

/** What changed in the table since a run's graph was taken. */
export interface GraphChanges {
  /** Signals stored since, in the order they were stored. */
  stored: StoredSignals[];
  /** Accounts read afresh from the table (after deletions and withdrawals): they replace the graph's. */
  reread: Map<string, { memberships: StoredMembership[]; withdrawnAt?: string }>;
  /** Facts now of accounts whose facts may have changed (an absent entry: none stored). */
  factsOf: { accounts: readonly string[]; facts: ReadonlyMap<string, StoredFacts> };
}

/** Bumped whenever the encoding changes: a graph of another format is not used (the run reads the table instead). */
const FORMAT = 4;

/** Identifier values as the contract has them (keyed hashes and PDQ hashes): stored as 32 bytes each. */
const HEX64 = /^[0-9a-f]{64}$/;
const VALUE_BYTES = 32;
const TYPE_INDEX = new Map<string, number>(SIGNAL_TYPES.map((type, index) => [type, index]));
/** Memberships interned between two yields to the event loop (a few tens of milliseconds of work). */
const MEMBERSHIPS_PER_STEP = 32_768;
const gzipAsync = promisify(gzip);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Where the identifier values start: after the format, the head's length and the head, padded to 8 bytes. */
const valuesOffset = (headLength: number) => 8 + Math.ceil(headLength / 8) * 8;

/**
 * The run graph, gzipped: the format number and the length of a JSON head (accounts written once each,
 * identifier types, facts, withdrawals, components, hubs), padded to 8 bytes; then the identifier
 * values as 32 raw bytes each (the 64 hex characters they are; any other value is kept in the head);
 * then the memberships as four binary columns (observed at and expiry as doubles, account and
 * identifier as 32-bit ids), aligned so that they are read in place.
 *
 * Identifiers are interned per type on their value, and accounts on their key, without building a
 * key string per membership: the values of a decoded graph are shared strings whose hashes V8 keeps.
 * The work yields to the event loop every {@link MEMBERSHIPS_PER_STEP} memberships and compresses off
 * the main thread, so that writes in flight beside it (a task saving its clusters) keep going.
 */
export async function encodeRunGraph(graph: RunGraph): Promise<Buffer> {
  const accountIds = new Map<string, number>();
  const accounts: string[] = [];
  const accountId = (key: string) => {
    let id = accountIds.get(key);
    if (id === undefined) {
      id = accounts.length;
      accountIds.set(key, id);
      accounts.push(key);
    }
    return id;
  };
  const identIds = SIGNAL_TYPES.map(() => new Map<string, number>());
  const identTypes: number[] = [];
  const identValues: string[] = [];
  const count = graph.memberships.length;
  const observedAtMs = new Float64Array(count);
  const expiresAtS = new Float64Array(count);
  const account = new Int32Array(count);
  const ident = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    if (i % MEMBERSHIPS_PER_STEP === MEMBERSHIPS_PER_STEP - 1) await nextTurn();
    const m = graph.memberships[i];
    const type = TYPE_INDEX.get(m.type)!;
    const ofType = identIds[type];
    let id = ofType.get(m.value);
    if (id === undefined) {
      id = identValues.length;
      ofType.set(m.value, id);
      identTypes.push(type);
      identValues.push(m.value);
    }
    observedAtMs[i] = m.observedAtMs;
    expiresAtS[i] = m.expiresAtS;
    account[i] = accountId(m.account);
    ident[i] = id;
  }
  const facts = [...graph.facts].map(([key, f]) => [accountId(key), f.createdAtMs ?? null, f.minorContacts7d ?? null, f.reports30d ?? null, f.expiresAtS ?? null]);
  const components = graph.components.map((members) => members.map(accountId));
  const textValues: Array<[number, string]> = [];
  identValues.forEach((value, id) => {
    if (!HEX64.test(value)) textValues.push([id, value]);
  });
  const headJson = JSON.stringify({ count, accounts, identTypes, textValues, facts, withdrawn: [...graph.withdrawnAt], components, hubs: graph.hubs });
  const headLength = Buffer.byteLength(headJson);
  const valuesAt = valuesOffset(headLength);
  const columnsAt = valuesAt + identValues.length * VALUE_BYTES;
  const all = Buffer.alloc(columnsAt + count * 24, 0x20);
  all.writeUInt32LE(FORMAT, 0);
  all.writeUInt32LE(headLength, 4);
  all.write(headJson, 8, 'utf8');
  identValues.forEach((value, id) => {
    const at = valuesAt + id * VALUE_BYTES;
    if (all.write(value, at, VALUE_BYTES, 'hex') !== VALUE_BYTES) all.fill(0, at, at + VALUE_BYTES);
  });
  all.set(new Uint8Array(observedAtMs.buffer), columnsAt);
  all.set(new Uint8Array(expiresAtS.buffer), columnsAt + count * 8);
  all.set(new Uint8Array(account.buffer), columnsAt + count * 16);
  all.set(new Uint8Array(ident.buffer), columnsAt + count * 20);
  return gzipAsync(all, { level: 1 });
}

/** Reads what {@link encodeRunGraph} wrote; undefined for another format. */
export function decodeRunGraph(bytes: Uint8Array): RunGraph | undefined {
  let all = gunzipSync(bytes);
  if (all.length < 8 || all.readUInt32LE(0) !== FORMAT) return undefined;
  // The columns are read in place when the buffer is aligned as it was written (a fresh one is); else
  // copied into a buffer of its own (not one from Node's pool, which may start anywhere).
  if (all.byteOffset % 8 !== 0) {
    const aligned = new Uint8Array(new ArrayBuffer(all.length));
    aligned.set(all);
    all = Buffer.from(aligned.buffer);
  }
  const headLength = all.readUInt32LE(4);
  const body = JSON.parse(all.toString('utf8', 8, 8 + headLength));
  const count: number = body.count;
  const accounts: string[] = body.accounts;
  const types = (body.identTypes as number[]).map((type) => SIGNAL_TYPES[type]);
  const valuesAt = valuesOffset(headLength);
  const values: string[] = new Array(types.length);
  for (let id = 0; id < types.length; id++) values[id] = all.toString('hex', valuesAt + id * VALUE_BYTES, valuesAt + (id + 1) * VALUE_BYTES);
  for (const [id, value] of body.textValues as Array<[number, string]>) values[id] = value;
  const columnsAt = all.byteOffset + valuesAt + types.length * VALUE_BYTES;
  const observedAtMs = new Float64Array(all.buffer, columnsAt, count);
  const expiresAtS = new Float64Array(all.buffer, columnsAt + count * 8, count);
  const account = new Int32Array(all.buffer, columnsAt + count * 16, count);
  const ident = new Int32Array(all.buffer, columnsAt + count * 20, count);
  const memberships: StoredMembership[] = new Array(count);
  for (let i = 0; i < count; i++) {
    memberships[i] = { account: accounts[account[i]], type: types[ident[i]], value: values[ident[i]], observedAtMs: observedAtMs[i], expiresAtS: expiresAtS[i] };
  }
  const facts = new Map<string, StoredFacts>();
  for (const [id, createdAtMs, minorContacts7d, reports30d, expiresAtS] of body.facts as Array<[number, number | null, number | null, number | null, number | null]>) {
    const fact: StoredFacts = {};
    if (createdAtMs !== null) fact.createdAtMs = createdAtMs;
    if (minorContacts7d !== null) fact.minorContacts7d = minorContacts7d;
    if (reports30d !== null) fact.reports30d = reports30d;
    if (expiresAtS !== null) fact.expiresAtS = expiresAtS;
    facts.set(accounts[id], fact);
  }
  return {
    memberships,
    facts,
    withdrawnAt: new Map(body.withdrawn),
    components: (body.components as number[][]).map((members) => members.map((id) => accounts[id])),
    hubs: body.hubs,
  };
}

function sameFacts(a: AccountFacts | undefined, b: AccountFacts | undefined): boolean {
  return a?.createdAtMs === b?.createdAtMs && a?.minorContacts7d === b?.minorContacts7d && a?.reports30d === b?.reports30d && (a === undefined) === (b === undefined);
}

/**
 * The graph now: the previous run's graph with the changes applied, signals and account records
 * expired since dropped.
 * Returns the accounts whose memberships or facts differ and every identifier gained, lost or
 * observed anew by one of them (what an incremental closure starts from), and every account whose
 * memberships or facts were rewritten in any way (a signal sent again with a later expiry is not a
 * change to detection, but the graph kept for the next run must have it). `replaced` names every
 * account whose membership list may differ at all (changed or with a signal expired): every other
 * account's memberships are the base's own objects, which is what patching an index of the base
 * (lib/detect/graph-index.ts) relies on. Components and hubs are the previous run's: the caller
 * replaces them with what detection forms now.
 */
export function applyChanges(
  base: RunGraph,
  changes: GraphChanges,
  nowMs: number,
): { graph: RunGraph; touched: string[]; changedIdentifiers: Array<{ type: SignalType; value: string }>; rewritten: string[]; replaced: string[] } {
  const nowS = nowMs / 1000;
  const changing = new Set<string>([...changes.reread.keys(), ...changes.factsOf.accounts]);
  for (const batch of changes.stored) for (const signal of batch.signals) changing.add(`${batch.platform}#${signal.account}`);

  const touched = new Set<string>();
  const changedIdentifiers = new Map<string, { type: SignalType; value: string }>();
  const changed = (m: Membership) => {
    touched.add(m.account);
    changedIdentifiers.set(identKey(m.type, m.value), { type: m.type, value: m.value });
  };

  // Memberships of changing accounts, before and after; everything else carries over unless it expired.
  const memberships: StoredMembership[] = [];
  const before = new Map<string, Map<string, StoredMembership>>();
  const replaced = new Set(changing);
  for (const m of base.memberships) {
    if (m.expiresAtS <= nowS) {
      changed(m);
      replaced.add(m.account);
      continue;
    }
    if (!changing.has(m.account)) {
      memberships.push(m);
      continue;
    }
    let own = before.get(m.account);
    if (!own) before.set(m.account, (own = new Map()));
    own.set(identKey(m.type, m.value), m);
  }
  const after = new Map<string, Map<string, StoredMembership>>();
  for (const account of changing) after.set(account, new Map(before.get(account)));

  const withdrawnAt = new Map(base.withdrawnAt);
  for (const [account, fresh] of changes.reread) if (fresh.withdrawnAt !== undefined) withdrawnAt.set(account, fresh.withdrawnAt);
  for (const batch of changes.stored) {
    for (const signal of batch.signals) {
      const account = `${batch.platform}#${signal.account}`;
      const own = after.get(account)!;
      const key = identKey(signal.type, signal.value);
      // The write replaced the stored item even when it is already expired or predates a withdrawal:
      // then nothing of that identifier on that account is live any more.
      // A late message did not overwrite a copy that expires later (the condition it was written on).
      if (batch.keepLater && (own.get(key)?.expiresAtS ?? -Infinity) > batch.expiresAtS) continue;
      const withdrawn = withdrawnAt.get(account);
      if (batch.expiresAtS <= nowS || (withdrawn !== undefined && batch.receivedAt <= withdrawn)) {
        own.delete(key);
        continue;
      }
      own.set(key, { account, type: signal.type, value: signal.value, observedAtMs: Date.parse(signal.observedAt), expiresAtS: batch.expiresAtS });
    }
  }
  // A re-read account is what the table holds now, whatever the log said.
  for (const [account, fresh] of changes.reread) after.set(account, new Map(fresh.memberships.map((m) => [identKey(m.type, m.value), m])));

  // Accounts whose memberships differ in any field (a later expiry too): what the kept graph must rewrite.
  const rewritten = new Set<string>();
  for (const [account, now] of after) {
    const then = before.get(account) ?? new Map<string, StoredMembership>();
    for (const [key, m] of now) {
      memberships.push(m);
      const was = then.get(key);
      if (was?.observedAtMs !== m.observedAtMs) changed(m);
      if (was?.observedAtMs !== m.observedAtMs || was?.expiresAtS !== m.expiresAtS) rewritten.add(account);
    }
    for (const [key, m] of then) if (!now.has(key)) changed(m);
  }

  const facts = new Map(base.facts);
  // Records expired since (DynamoDB's TTL, and readers, leave them out as they do expired signals).
  for (const [account, fact] of base.facts) {
    if (fact.expiresAtS !== undefined && fact.expiresAtS <= nowS) {
      facts.delete(account);
      touched.add(account);
    }
  }
  for (const account of changes.factsOf.accounts) {
    const now = changes.factsOf.facts.get(account);
    const was = facts.get(account);
    if (sameFacts(was, now)) {
      // The same facts sent again: not a change to detection, but the kept graph must have the later expiry.
      if (now && was!.expiresAtS !== now.expiresAtS) {
        facts.set(account, now);
        rewritten.add(account);
      }
      continue;
    }
    touched.add(account);
    if (now) facts.set(account, now);
    else facts.delete(account);
  }
  return {
    graph: { memberships, facts, withdrawnAt, components: base.components, hubs: base.hubs },
    touched: [...touched],
    changedIdentifiers: [...changedIdentifiers.values()],
    rewritten: [...new Set([...rewritten, ...touched])],
    replaced: [...replaced],
  };
}

/**
 * A graph told as the accounts it rewrote since another graph it was derived from (an incremental
 * run's graph over the last full one): what those accounts hold now and their facts; the components of
 * the accounts regrouped since (the cores of the runs between, which recompute whole components and
 * form new ones only inside themselves); and the parts that are small and replaced whole (withdrawals,
 * hubs). Much smaller than the graph when few accounts changed; {@link withOverlay} gives the graph
 * back from the other one.
 */
export interface GraphOverlay {
  /** Accounts whose memberships or facts the graph holds afresh (possibly none: an account emptied). */
  accounts: string[];
  /**
   * Accounts whose components were recomputed since: the graph's components are those of the other
   * graph that hold none of them, then the overlay's. Absent (an overlay an earlier version wrote): the
   * overlay's components are all of them.
   */
  regrouped?: string[];
  /** The graph, restricted to those accounts' memberships and facts, and to the components of the regrouped accounts. */
  graph: RunGraph;
}

/**
 * An overlay's bytes: the length of its graph's encoding ({@link encodeRunGraph}) as four bytes, that
 * encoding, then its accounts (rewritten and regrouped) as gzipped JSON.
 */
export async function encodeGraphOverlay(overlay: GraphOverlay): Promise<Buffer> {
  const graph = await encodeRunGraph(overlay.graph);
  const accounts = await gzipAsync(JSON.stringify(overlay.regrouped ? { accounts: overlay.accounts, regrouped: overlay.regrouped } : overlay.accounts), { level: 1 });
  const length = Buffer.alloc(4);
  length.writeUInt32LE(graph.length, 0);
  return Buffer.concat([length, graph, accounts]);
}

/** Reads what {@link encodeGraphOverlay} wrote (or an earlier version, whose accounts were a bare list); undefined when its graph is of another format. */
export function decodeGraphOverlay(bytes: Uint8Array): GraphOverlay | undefined {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (all.length < 4) return undefined;
  const length = all.readUInt32LE(0);
  const graph = decodeRunGraph(all.subarray(4, 4 + length));
  if (!graph) return undefined;
  const accounts: string[] | { accounts: string[]; regrouped: string[] } = JSON.parse(gunzipSync(all.subarray(4 + length)).toString('utf8'));
  return Array.isArray(accounts) ? { accounts, graph } : { accounts: accounts.accounts, regrouped: accounts.regrouped, graph };
}

/**
 * `graph` as an overlay of the accounts `rewritten` since the graph it will be laid over, and of those
 * `regrouped` since (every component is carried when that is not known).
 */
export function overlayOf(graph: RunGraph, rewritten: Iterable<string>, regrouped?: Iterable<string>): GraphOverlay {
  const accounts = new Set(rewritten);
  const facts = new Map<string, StoredFacts>();
  for (const account of accounts) {
    const fact = graph.facts.get(account);
    if (fact) facts.set(account, fact);
  }
  const moved = regrouped && new Set(regrouped);
  return {
    accounts: [...accounts],
    ...(moved ? { regrouped: [...moved] } : {}),
    graph: {
      memberships: graph.memberships.filter((m) => accounts.has(m.account)),
      facts,
      withdrawnAt: graph.withdrawnAt,
      // A component lies wholly inside the regrouped accounts or wholly outside them.
      components: moved ? graph.components.filter((members) => members.some((member) => moved.has(member))) : graph.components,
      hubs: graph.hubs,
    },
  };
}

/** The graph an overlay tells, laid over the graph it was made against. */
export function withOverlay(base: RunGraph, overlay: GraphOverlay): RunGraph {
  const accounts = new Set(overlay.accounts);
  const memberships = base.memberships.filter((m) => !accounts.has(m.account));
  for (const m of overlay.graph.memberships) memberships.push(m);
  const facts = new Map(base.facts);
  for (const account of accounts) facts.delete(account);
  for (const [account, fact] of overlay.graph.facts) facts.set(account, fact);
  const regrouped = overlay.regrouped && new Set(overlay.regrouped);
  const components = regrouped ? base.components.filter((members) => !members.some((member) => regrouped.has(member))) : [];
  appendAll(components, overlay.graph.components);
  return { memberships, facts, withdrawnAt: overlay.graph.withdrawnAt, components, hubs: overlay.graph.hubs };
}
