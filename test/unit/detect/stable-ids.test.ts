import { describe, expect, it } from 'vitest';
import { detectClusters } from '../../../lib/detect/detect.js';
import { assignClusterIds, freshClusterId } from '../../../lib/detect/stable-ids.js';
import { DAY_MS, input, NOW_MS, seen } from './fixtures.js';

const pair = (x: string, y: string, label: string) => [seen(x, 'phone', label), seen(y, 'phone', label)];

describe('Function: assignClusterIds', () => {
  it('keeps the id of a previous cluster with the same members', () => {
    const { ids, lineage } = assignClusterIds([{ members: ['a#1', 'b#2'] }], [{ id: 'c-old', members: ['a#1', 'b#2'] }], 'seed');

    expect(ids).toEqual(['c-old']);
    expect(lineage).toEqual({ kept: ['c-old'], born: [], dissolved: [], splits: [], merges: [] });
  });

  it('keeps the id when a cluster grows', () => {
    const { ids } = assignClusterIds([{ members: ['a#1', 'b#2', 'c#3'] }], [{ id: 'c-old', members: ['a#1', 'b#2'] }], 'seed');

    expect(ids).toEqual(['c-old']);
  });

  it('gives the larger part of a split the old id and records the split', () => {
    const { ids, lineage } = assignClusterIds(
      [{ members: ['a#1', 'a#2', 'a#3'] }, { members: ['b#1', 'b#2'] }],
      [{ id: 'c-old', members: ['a#1', 'a#2', 'a#3', 'b#1', 'b#2'] }],
      'seed',
    );

    expect(ids[0]).toBe('c-old');
    expect(ids[1]).not.toBe('c-old');
    expect(lineage.splits).toEqual([{ from: 'c-old', into: [ids[0], ids[1]].sort() }]);
    expect(lineage.born).toEqual([ids[1]]);
  });

  it('records a merge of two previous clusters, keeping the id of the closer one', () => {
    const { ids, lineage } = assignClusterIds(
      [{ members: ['a#1', 'a#2', 'a#3', 'b#1', 'b#2'] }],
      [
        { id: 'c-a', members: ['a#1', 'a#2', 'a#3'] },
        { id: 'c-b', members: ['b#1', 'b#2'] },
      ],
      'seed',
    );

    expect(ids).toEqual(['c-a']);
    expect(lineage.merges).toEqual([{ into: 'c-a', from: ['c-a', 'c-b'] }]);
    expect(lineage.dissolved).toEqual(['c-b']);
  });

  it('never hands out a fresh id that a previous cluster used', () => {
    const collision = freshClusterId('seed', 'x#1');

    const { ids } = assignClusterIds([{ members: ['x#1', 'x#2'] }], [{ id: collision, members: ['other#1', 'other#2'] }], 'seed');

    expect(ids[0]).not.toBe(collision);
    expect(ids[0]).toBe(freshClusterId('seed', 'x#1', 1));
  });

  it('derives fresh ids from the lowest member and the seed, the same every time', () => {
    const once = assignClusterIds([{ members: ['x#1', 'x#2'] }], [], 'run-1').ids[0];
    const again = assignClusterIds([{ members: ['x#1', 'x#2'] }], [], 'run-1').ids[0];
    const laterRun = assignClusterIds([{ members: ['x#1', 'x#2'] }], [], 'run-2').ids[0];

    expect(again).toBe(once);
    expect(laterRun).not.toBe(once);
  });
});

describe('Function: detectClusters (stable ids across runs)', () => {
  it('keeps ids of clusters that persist and records what changed', () => {
    const first = detectClusters(input([...pair('snap#a', 'insta#a', 'a'), ...pair('snap#b', 'insta#b', 'b')]));
    const idOf = (result: typeof first, member: string) => result.clusters.find((c) => c.members.includes(member))!.id;

    const second = detectClusters(
      input([...pair('snap#a', 'insta#a', 'a'), seen('wa#a', 'phone', 'a'), ...pair('snap#c', 'insta#c', 'c')], {
        previousClusters: first.clusters.map(({ id, members }) => ({ id, members })),
        nowMs: NOW_MS + DAY_MS,
      }),
    );

    expect(idOf(second, 'wa#a')).toBe(idOf(first, 'snap#a'));
    expect(second.lineage?.dissolved).toEqual([idOf(first, 'snap#b')]);
    expect(second.lineage?.born).toEqual([idOf(second, 'snap#c')]);
  });
});
