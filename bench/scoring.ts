/**
 * Scores a clustering against the world's truth: pairwise precision, recall and F1 over all accounts,
 * actor recall (the largest share of each actor's profiles found in one cluster, averaged over actors)
 * and precision at k of the risk ranking (k = number of actors; a ranked cluster is a hit when most of
 * its members are one actor's profiles).
 */
import type { World } from './world.js';

export interface Scores {
  precision: number;
  recall: number;
  f1: number;
  actorRecall: number;
  precisionAtK: number;
  clusters: number;
}

const pairs = (n: number) => (n * (n - 1)) / 2;

/** `ranked` are clusters (member lists) highest risk first; accounts in none are singletons. */
export function scoreClustering(world: World, ranked: ReadonlyArray<readonly string[]>): Scores {
  let predictedPairs = 0;
  let truePositives = 0;
  const bestShare = new Map<string, number>();
  let hits = 0;
  const k = world.actors.size;
  ranked.forEach((members, rank) => {
    predictedPairs += pairs(members.length);
    const byEntity = new Map<string, number>();
    for (const member of members) {
      const entity = world.truth.get(member)!;
      byEntity.set(entity, (byEntity.get(entity) ?? 0) + 1);
    }
    let top = 0;
    let topEntity = '';
    for (const [entity, count] of byEntity) {
      truePositives += pairs(count);
      if (world.actors.has(entity)) bestShare.set(entity, Math.max(bestShare.get(entity) ?? 0, count));
      if (count > top) {
        top = count;
        topEntity = entity;
      }
    }
    if (rank < k && world.actors.has(topEntity) && top * 2 > members.length) hits++;
  });
  const entitySizes = new Map<string, number>();
  for (const entity of world.truth.values()) entitySizes.set(entity, (entitySizes.get(entity) ?? 0) + 1);
  let truePairs = 0;
  for (const size of entitySizes.values()) truePairs += pairs(size);
  let actorRecall = 0;
  for (const [actor, profiles] of world.actors) actorRecall += Math.max(1, bestShare.get(actor) ?? 0) / profiles;
  const precision = predictedPairs === 0 ? 1 : truePositives / predictedPairs;
  const recall = truePairs === 0 ? 1 : truePositives / truePairs;
  return {
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    actorRecall: world.actors.size === 0 ? 1 : actorRecall / world.actors.size,
    precisionAtK: k === 0 ? 1 : hits / k,
    clusters: ranked.filter((members) => members.length > 1).length,
  };
}
