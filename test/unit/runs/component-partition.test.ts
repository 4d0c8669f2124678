/**
 * A full run's partition into component tasks, at the size where arrays stop fitting on the stack:
 * one component larger than 100,000 memberships is one task holding every membership.
 */
import { describe, expect, it } from 'vitest';
import type { Membership } from '../../../lib/detect/model.js';
import { resolveDetectionOptions } from '../../../lib/detect/options.js';
import { partitionIntoTasks } from '../../../lib/runs/component-partition.js';
import { appendAll } from '../../../lib/append-all.js';

const NOW_MS = Date.parse('2026-11-29T00:00:00Z');
const hex = (n: number) => n.toString(16).padStart(64, '0');

describe('partitionIntoTasks', () => {
  it('makes a component of 160,000 memberships one task, every membership once', () => {
    // A chain: account i holds devices i and i + 1, so all 80,000 accounts form one component.
    const memberships: Membership[] = [];
    for (let i = 0; i < 80_000; i++) {
      for (const device of [i, i + 1]) memberships.push({ account: `snap#u${i}`, type: 'device', value: hex(device), observedAtMs: NOW_MS });
    }
    const { tasks, components } = partitionIntoTasks({ memberships, accounts: new Map(), verdicts: [], nowMs: NOW_MS }, resolveDetectionOptions({}));

    expect(tasks).toHaveLength(1);
    expect(tasks[0].memberships).toHaveLength(memberships.length);
    expect(new Set(tasks[0].memberships)).toEqual(new Set(memberships));
    expect(tasks[0].accounts).toHaveLength(80_000);
    expect(components.length).toBeGreaterThan(0);
  });
});

describe('appendAll', () => {
  it('appends more items than fit as arguments on the stack, in order', () => {
    const items = Array.from({ length: 300_000 }, (_, i) => i);
    const target = appendAll([-1], items);
    expect(target).toHaveLength(300_001);
    expect(target[0]).toBe(-1);
    expect(target[300_000]).toBe(299_999);
    expect(() => [-1].push(...items)).toThrow(RangeError);
  });
});
