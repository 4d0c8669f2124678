/**
 * A full run's tasks get the current clusters of their accounts from the coordinator's one read of the
 * ranking, instead of each task reading pointers: the same clusters a task's pointer reads would find.
 */
import { describe, expect, it } from 'vitest';
import { withPreviousClusters } from '../../../lib/runs/detection-runner.js';
import type { ComponentTask } from '../../../lib/runs/component-partition.js';

const task = (accounts: string[]): ComponentTask => ({ accounts, identifiers: [], memberships: [], facts: [] });
const cluster = (id: string, members: string[]) => ({ id, members, head: { rankSk: `000010#${id}`, fingerprint: id.repeat(4) } });

describe('withPreviousClusters', () => {
  it('gives each task the clusters holding any of its accounts, and a cluster split across tasks to each of them', () => {
    const tasks = [task(['snap#a', 'wa#b']), task(['fb#c', 'insta#d']), task(['tiktok#e', 'snap#f'])];
    const current = [cluster('c1', ['snap#a', 'wa#b']), cluster('c2', ['wa#x', 'fb#c', 'tiktok#e']), cluster('c3', ['gone#y', 'gone#z'])];

    const withPrevious = withPreviousClusters(tasks, current);

    expect(withPrevious.map((t) => t.previous!.map((c) => c.id))).toEqual([['c1'], ['c2'], ['c2']]);
    // The rest of each task is unchanged, and the clusters keep their heads (no second read of them).
    expect(withPrevious[0]).toMatchObject(tasks[0]);
    expect(withPrevious[1].previous![0].head).toEqual(current[1].head);
  });

  it('gives a task no clusters when none of its accounts is in one', () => {
    expect(withPreviousClusters([task(['snap#new'])], [cluster('c1', ['snap#a', 'wa#b'])])[0].previous).toEqual([]);
  });
});
