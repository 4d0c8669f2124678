/**
 * The graph a run keeps for the next one: its encoding, and the changes applied to it (what the
 * table holds now, and what changed, which an incremental closure starts from).
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { applyChanges, decodeRunGraph, encodeRunGraph, type GraphChanges, type RunGraph, type StoredMembership } from '../../../lib/runs/run-graph.js';
import { hashed, NOW_MS, pdqVariant, seen } from '../detect/fixtures.js';

const NOW_S = NOW_MS / 1000;
const live = (account: string, type: Parameters<typeof seen>[1], label: string, daysAgo = 1, lifetimeS = 3600): StoredMembership => ({ ...seen(account, type, label, daysAgo), expiresAtS: NOW_S + lifetimeS });

function graphOf(memberships: StoredMembership[], extra: Partial<RunGraph> = {}): RunGraph {
  return { memberships, facts: new Map(), withdrawnAt: new Map(), components: [], hubs: [], ...extra };
}

/** A message's signals as the consumer logs them. */
function storedSignals(platform: string, receivedAt: string, signals: Array<[account: string, type: StoredMembership['type'], value: string, observedAt: string]>, lifetimeS = 3600) {
  return { platform, receivedAt, expiresAtS: NOW_S + lifetimeS, signals: signals.map(([account, type, value, observedAt]) => ({ account, type, value, observedAt })) };
}

const noChanges = (): GraphChanges => ({ stored: [], reread: new Map(), factsOf: { accounts: [], facts: new Map() } });
const keys = (memberships: StoredMembership[]) => memberships.map((m) => `${m.account}|${m.type}|${m.value}|${m.observedAtMs}`).sort();

describe('Function: encodeRunGraph / decodeRunGraph', () => {
  it('gives back the graph it was given', async () => {
    const photo = hashed('photo');
    const graph = graphOf(
      [live('snap#a', 'phone', 'p1'), live('wa#b', 'phone', 'p1', 3), live('wa#b', 'photo_pdq', photo), live('insta#c', 'photo_pdq', pdqVariant(photo, 9), 2, 99)],
      {
        facts: new Map([
          ['snap#a', { createdAtMs: NOW_MS - 5, minorContacts7d: 3 }],
          ['wa#b', { reports30d: 2, expiresAtS: NOW_S + 86_400 }],
        ]),
        withdrawnAt: new Map([['fb#gone', '2026-11-27T10:00:00.000Z']]),
        components: [['snap#a', 'wa#b'], ['fb#verdict-only', 'insta#c']],
        hubs: [{ type: 'ip', value: hashed('nat'), accounts: 900, values: [hashed('nat')] }],
      },
    );
    expect(decodeRunGraph(await encodeRunGraph(graph))).toEqual(graph);
  });

  it('gives back identifier values that are not 64 lowercase hex characters as they were', async () => {
    const odd = ['legacy-value', hashed('upper').toUpperCase(), hashed('short').slice(0, 62), ''];
    const graph = graphOf(odd.map((value, i) => ({ account: `snap#${i}`, type: 'username' as const, value, observedAtMs: NOW_MS - i, expiresAtS: NOW_S + 60 })));
    expect(decodeRunGraph(await encodeRunGraph(graph))).toEqual(graph);
  });

  it('reads a graph from stored bytes at any offset (parts joined into a pooled buffer)', async () => {
    const graph = graphOf([live('snap#a', 'phone', 'p1'), live('wa#b', 'phone', 'p1', 3)]);
    const bytes = await encodeRunGraph(graph);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeRunGraph(shifted.subarray(3))).toEqual(graph);
  });

  it('refuses a graph of another format, so that the run reads the table instead', () => {
    expect(decodeRunGraph(gzipSync(JSON.stringify({ format: 999 })))).toBeUndefined();
  });
});

describe('Function: applyChanges', () => {
  it('adds stored signals, touching their accounts and identifiers only', () => {
    const base = graphOf([live('snap#a', 'phone', 'p1'), live('wa#b', 'email', 'e1')]);
    const changes = { ...noChanges(), stored: [storedSignals('insta', '2026-11-28T00:00:00.000Z', [['c', 'phone', hashed('phone:p1'), '2026-11-27T00:00:00.000Z']])] };

    const { graph, touched, changedIdentifiers } = applyChanges(base, changes, NOW_MS);

    expect(graph.memberships).toHaveLength(3);
    expect(graph.memberships).toContainEqual({ account: 'insta#c', type: 'phone', value: hashed('phone:p1'), observedAtMs: Date.parse('2026-11-27T00:00:00.000Z'), expiresAtS: NOW_S + 3600 });
    expect(touched).toEqual(['insta#c']);
    expect(changedIdentifiers).toEqual([{ type: 'phone', value: hashed('phone:p1') }]);
  });

  it('counts a signal seen again as a change only when it was observed at another time', () => {
    const old = live('snap#a', 'phone', 'p1', 10);
    const observedAt = new Date(old.observedAtMs).toISOString();
    const same = applyChanges(graphOf([old]), { ...noChanges(), stored: [storedSignals('snap', '2026-11-28T00:00:00.000Z', [['a', 'phone', old.value, observedAt]], 7200)] }, NOW_MS);
    expect(same.touched).toEqual([]);
    expect(same.graph.memberships[0].expiresAtS).toBe(NOW_S + 7200);

    const later = applyChanges(graphOf([old]), { ...noChanges(), stored: [storedSignals('snap', '2026-11-28T00:00:00.000Z', [['a', 'phone', old.value, '2026-11-27T12:00:00.000Z']])] }, NOW_MS);
    expect(later.touched).toEqual(['snap#a']);
    expect(later.graph.memberships[0].observedAtMs).toBe(Date.parse('2026-11-27T12:00:00.000Z'));
  });

  it('keeps the last of two writes of the same signal, in the order they were stored', () => {
    const value = hashed('phone:p1');
    const changes = {
      ...noChanges(),
      stored: [
        storedSignals('snap', '2026-11-28T00:00:00.000Z', [['a', 'phone', value, '2026-11-20T00:00:00.000Z']]),
        storedSignals('snap', '2026-11-28T00:00:01.000Z', [['a', 'phone', value, '2026-11-25T00:00:00.000Z']]),
      ],
    };
    const { graph } = applyChanges(graphOf([]), changes, NOW_MS);
    expect(graph.memberships.map((m) => m.observedAtMs)).toEqual([Date.parse('2026-11-25T00:00:00.000Z')]);
  });

  it('drops signals that expired since, reporting what they linked', () => {
    const expiring = live('snap#a', 'device', 'd1', 1, 10);
    const { graph, touched, changedIdentifiers } = applyChanges(graphOf([expiring, live('wa#b', 'device', 'd1')]), noChanges(), NOW_MS + 10_000);
    expect(keys(graph.memberships)).toEqual(keys([live('wa#b', 'device', 'd1')]));
    expect(touched).toEqual(['snap#a']);
    expect(changedIdentifiers).toEqual([{ type: 'device', value: expiring.value }]);
  });

  it('replaces a re-read account with what the table holds, reporting the identifiers it lost', () => {
    const base = graphOf([live('snap#a', 'phone', 'p1'), live('snap#a', 'email', 'e1'), live('wa#b', 'phone', 'p1')]);
    const reread = new Map([['snap#a', { memberships: [live('snap#a', 'email', 'e1')] }]]);
    const { graph, touched, changedIdentifiers } = applyChanges(base, { ...noChanges(), reread }, NOW_MS);
    expect(keys(graph.memberships)).toEqual(keys([live('snap#a', 'email', 'e1'), live('wa#b', 'phone', 'p1')]));
    expect(touched).toEqual(['snap#a']);
    expect(changedIdentifiers).toEqual([{ type: 'phone', value: hashed('phone:p1') }]);
  });

  it('never links signals received before the account was withdrawn, even when stored after', () => {
    const stored = [
      storedSignals('snap', '2026-11-27T11:00:00.000Z', [['a', 'phone', hashed('phone:p1'), '2026-11-27T10:00:00.000Z']]),
      storedSignals('snap', '2026-11-27T13:00:00.000Z', [['a', 'email', hashed('email:e1'), '2026-11-27T13:00:00.000Z']]),
    ];
    const kept = applyChanges(graphOf([]), { ...noChanges(), stored }, NOW_MS);
    expect(kept.graph.memberships.map((m) => m.type).sort()).toEqual(['email', 'phone']);

    const base = graphOf([live('snap#a', 'phone', 'p1')], { withdrawnAt: new Map([['snap#a', '2026-11-27T12:00:00.000Z']]) });
    const withdrawn = applyChanges(base, { ...noChanges(), stored }, NOW_MS);
    expect(withdrawn.graph.memberships.map((m) => m.type)).toEqual(['email']);
    expect(withdrawn.touched).toEqual(['snap#a']);
  });

  it('leaves a copy that expires later when a message stored late carries the signal, as its conditional write did', () => {
    const value = hashed('phone:p1');
    const newer = storedSignals('snap', '2026-11-27T13:00:00.000Z', [['a', 'phone', value, '2026-11-27T13:00:00.000Z']], 7200);
    const late = { ...storedSignals('snap', '2026-11-27T11:00:00.000Z', [['a', 'phone', value, '2026-11-27T10:00:00.000Z']], 3600), keepLater: true };
    // Withdrawn between the two: the older message's copy would count as received before the withdrawal.
    const base = graphOf([], { withdrawnAt: new Map([['snap#a', '2026-11-27T12:00:00.000Z']]) });

    const { graph } = applyChanges(base, { ...noChanges(), stored: [newer, late] }, NOW_MS);
    expect(graph.memberships).toEqual([{ account: 'snap#a', type: 'phone', value, observedAtMs: Date.parse('2026-11-27T13:00:00.000Z'), expiresAtS: NOW_S + 7200 }]);

    // A late message whose copy expires later still replaces the one held; one stored in time always does.
    const later = { ...storedSignals('snap', '2026-11-27T14:00:00.000Z', [['a', 'phone', value, '2026-11-27T14:00:00.000Z']], 9000), keepLater: true };
    expect(applyChanges(base, { ...noChanges(), stored: [newer, later] }, NOW_MS).graph.memberships.map((m) => m.expiresAtS)).toEqual([NOW_S + 9000]);
    const inTime = storedSignals('snap', '2026-11-27T12:30:00.000Z', [['a', 'phone', value, '2026-11-27T12:30:00.000Z']], 3600);
    expect(applyChanges(base, { ...noChanges(), stored: [newer, inTime] }, NOW_MS).graph.memberships.map((m) => m.expiresAtS)).toEqual([NOW_S + 3600]);
  });

  it('touches an account whose facts changed, and not one whose facts were sent again unchanged', () => {
    const base = graphOf([live('snap#a', 'phone', 'p1')], { facts: new Map([['snap#a', { minorContacts7d: 2 }], ['wa#b', { reports30d: 1 }]]) });
    const facts = new Map([
      ['snap#a', { minorContacts7d: 9 }],
      ['wa#b', { reports30d: 1 }],
    ]);
    const { graph, touched } = applyChanges(base, { ...noChanges(), factsOf: { accounts: ['snap#a', 'wa#b'], facts } }, NOW_MS);
    expect(touched).toEqual(['snap#a']);
    expect(graph.facts.get('snap#a')).toEqual({ minorContacts7d: 9 });
  });

  it('drops account records expired since, touching their accounts; one sent again unchanged only moves its expiry', () => {
    const base = graphOf([live('snap#a', 'phone', 'p1'), live('wa#b', 'phone', 'p1')], {
      facts: new Map([
        ['snap#a', { minorContacts7d: 4, expiresAtS: NOW_S - 1 }],
        ['wa#b', { reports30d: 1, expiresAtS: NOW_S + 60 }],
        ['insta#c', { reports30d: 2 }],
      ]),
    });
    const refreshed = new Map([['wa#b', { reports30d: 1, expiresAtS: NOW_S + 7200 }]]);

    const { graph, touched, rewritten } = applyChanges(base, { ...noChanges(), factsOf: { accounts: ['wa#b'], facts: refreshed } }, NOW_MS);

    expect(graph.facts.has('snap#a')).toBe(false);
    expect(graph.facts.get('wa#b')).toEqual({ reports30d: 1, expiresAtS: NOW_S + 7200 });
    expect(graph.facts.get('insta#c')).toEqual({ reports30d: 2 });
    expect(touched).toEqual(['snap#a']);
    expect(rewritten.sort()).toEqual(['snap#a', 'wa#b']);
  });
});
