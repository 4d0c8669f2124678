/**
 * Detection settings: every threshold detection uses, with its unit and the reason for its default.
 * Callers pass a `Partial<DetectionOptions>`; {@link resolveDetectionOptions} merges it over
 * {@link DEFAULT_DETECTION_OPTIONS} and checks it once, at the entry point.
 */
import { SIGNAL_TYPES, type SignalType } from '../contract/signals.js';
import { ValidationError } from '../errors.js';

/** A value per signal type. */
export type PerSignalType<T> = Record<SignalType, T>;

export interface DetectionOptions {
  /**
   * An identifier held by more accounts than this is shared infrastructure (carrier NAT, default
   * device id, test email): it links nothing and is reported in `hubs`. 50 is measured: cutting at 20
   * already loses real actor identifiers (recall 0.97), at 10 badly (0.68).
   */
  hubThreshold: number;
  /**
   * Reliability of each signal type: the weight one shared identifier of that type gives a pair of
   * accounts when only those two hold it and it was observed today. A payment card or phone number is
   * strong evidence of one person; an IP address is weak (households, VPN exits, cafes).
   */
  typeWeights: PerSignalType<number>;
  /**
   * Half-life of evidence per type, in days: a shared observation loses half its weight after this
   * long, counted from the older of the two `observedAtMs`. `Infinity` never ages (a payment card).
   */
  halfLifeDays: PerSignalType<number>;
  /**
   * How fast an identifier's weight falls with the number of accounts holding it: a pair sharing an
   * identifier held by `n` accounts gets `typeWeight * (n - 1) ^ -specificityExponent`. 0 would make a
   * shared VPN exit as telling as a private phone; 1 would let no single identifier glue more than a
   * handful of accounts. Between them, a large actor group held by one reused device still holds.
   */
  specificityExponent: number;
  /**
   * How much an identifier's weight depends on corroboration, per type (0 to 1): corroboration is the
   * share of its holder pairs that also share another, non-IP identifier, and an uncorroborated
   * identifier of a type keeps `1 - corroborationWeight[type]` of its weight. Types differ in how often
   * strangers share them: a device is the type households share (the family tablet) and a username the
   * type strangers pick alike, so both need corroboration most (0.8, 0.9); a phone, email or payment
   * instrument shared without other evidence is still mostly one person (burner phones are exactly
   * that), so they keep half (0.5). IP addresses are never scaled (they are weak already).
   */
  corroborationWeight: PerSignalType<number>;
  /**
   * Two `photo_pdq` hashes link when their Hamming distance is at most this (of 256 bits). 31 is the
   * PDQ authors' recommended match threshold; re-encodes land well inside it, unrelated photos near 128.
   */
  pdqMaxDistance: number;
  /**
   * Bits per chunk of the PDQ multi-index (see lib/detect/pdq-index.ts): 256 / pdqChunkBits chunks,
   * each probed within `floor(pdqMaxDistance / chunks)` bits. 16 (16 chunks, probe radius 1) keeps
   * chance candidates near 0.4% of the index per query; 8-bit chunks would give 12.5%.
   */
  pdqChunkBits: 8 | 16;
  /**
   * Resolution of the Constant Potts Model: an account joins a group only if its link weight to the
   * group exceeds `cpmResolution` per member of the group (the average link to the group must beat it).
   * Unlike modularity it does not depend on the size of the whole graph, so small clusters survive in
   * a large one. 0.04 is measured with `npm run bench:quality` (100k accounts, seeds 42, 7 and 123):
   * 0.025 merged households through shared tablets, 0.06 split actors' profiles off.
   */
  cpmResolution: number;
  /**
   * Two groups found by CPM whose links between them add up to at least this are merged anyway:
   * CPM charges a merge by the product of the group sizes, which splits a large actor whose halves
   * are held together by several strong links. Must be at least `cpmResolution`. Infinity disables it.
   */
  clusterMergeWeight: number;
  /**
   * Evidence ages in whole steps of this many ms (`nowMs` is floored to it), so that runs within one
   * step see identical weights and an incremental run can reuse untouched components exactly. A day is
   * far below every half-life.
   */
  agingStepMs: number;
  /** At most this many links (the strongest) are listed in one cluster's report; the rest are counted only. */
  maxLinksPerCluster: number;
  /**
   * Mixed into fresh cluster ids so that a cluster born in a later run never reuses the id of an
   * earlier one with the same lowest member. Default: the run's `nowMs`.
   */
  idSeed: string | undefined;
  /** Local-moving passes per level of the CPM optimiser before it aggregates anyway. */
  maxMovePasses: number;
}

const DAY_MS = 86_400_000;

/**
 * The defaults, tuned on the benchmark world (`npm run bench:quality`); see docs/detection.md for how
 * an operator tunes them.
 *
 * @example
 * detectClusters(input, { hubThreshold: 100, halfLifeDays: { ...DEFAULT_DETECTION_OPTIONS.halfLifeDays, ip: 7 } });
 */
export const DEFAULT_DETECTION_OPTIONS: Readonly<DetectionOptions> = Object.freeze({
  hubThreshold: 50,
  typeWeights: Object.freeze({
    payment: 1.0,
    phone: 1.0,
    email: 1.0,
    device: 0.8,
    photo_pdq: 0.9,
    username: 0.3,
    ip: 0.01,
  }),
  halfLifeDays: Object.freeze({
    payment: Infinity,
    phone: 730,
    email: 730,
    device: 365,
    photo_pdq: 365,
    username: 365,
    ip: 30,
  }),
  specificityExponent: 0.5,
  corroborationWeight: Object.freeze({
    payment: 0.5,
    phone: 0.5,
    email: 0.5,
    device: 0.8,
    photo_pdq: 0.7,
    username: 0.9,
    ip: 0,
  }),
  pdqMaxDistance: 31,
  pdqChunkBits: 16,
  cpmResolution: 0.04,
  clusterMergeWeight: 0.3,
  agingStepMs: DAY_MS,
  maxLinksPerCluster: 2000,
  idSeed: undefined,
  maxMovePasses: 20,
}) as Readonly<DetectionOptions>;

/** Thrown when detection options are out of range; the message names the option and its range. */
export class DetectionOptionsError extends ValidationError {}

/**
 * Merges options over the defaults and checks them.
 *
 * @throws DetectionOptionsError when a threshold is out of range.
 * @example
 * resolveDetectionOptions({ hubThreshold: 0 }); // throws: hubThreshold must be a whole number >= 2, got 0
 */
export function resolveDetectionOptions(options: Partial<DetectionOptions> = {}): DetectionOptions {
  const merged: DetectionOptions = {
    ...DEFAULT_DETECTION_OPTIONS,
    ...options,
    typeWeights: { ...DEFAULT_DETECTION_OPTIONS.typeWeights, ...options.typeWeights },
    halfLifeDays: { ...DEFAULT_DETECTION_OPTIONS.halfLifeDays, ...options.halfLifeDays },
    corroborationWeight: { ...DEFAULT_DETECTION_OPTIONS.corroborationWeight, ...options.corroborationWeight },
  };
  const fail = (name: string, range: string, value: unknown) => {
    throw new DetectionOptionsError(`detection option ${name} must be ${range}, got ${String(value)}`);
  };
  if (!Number.isInteger(merged.hubThreshold) || merged.hubThreshold < 2) fail('hubThreshold', 'a whole number >= 2', merged.hubThreshold);
  for (const [type, weight] of Object.entries(merged.typeWeights)) {
    if (!(weight >= 0 && Number.isFinite(weight))) fail(`typeWeights.${type}`, 'a finite number >= 0', weight);
  }
  for (const [type, days] of Object.entries(merged.halfLifeDays)) {
    if (!(days > 0)) fail(`halfLifeDays.${type}`, 'a number of days > 0 (Infinity for no ageing)', days);
  }
  if (!(merged.specificityExponent >= 0 && merged.specificityExponent <= 4)) fail('specificityExponent', 'between 0 and 4', merged.specificityExponent);
  for (const [type, weight] of Object.entries(merged.corroborationWeight)) {
    if (!(weight >= 0 && weight <= 1)) fail(`corroborationWeight.${type}`, 'between 0 and 1', weight);
  }
  if (!Number.isInteger(merged.pdqMaxDistance) || merged.pdqMaxDistance < 0 || merged.pdqMaxDistance > 64) fail('pdqMaxDistance', 'a whole number of bits between 0 and 64', merged.pdqMaxDistance);
  if (merged.pdqChunkBits !== 8 && merged.pdqChunkBits !== 16) fail('pdqChunkBits', '8 or 16', merged.pdqChunkBits);
  if (!(merged.cpmResolution > 0 && Number.isFinite(merged.cpmResolution))) fail('cpmResolution', 'a finite number > 0', merged.cpmResolution);
  if (!(merged.clusterMergeWeight >= merged.cpmResolution)) fail('clusterMergeWeight', `at least cpmResolution (${merged.cpmResolution}), or Infinity`, merged.clusterMergeWeight);
  if (!Number.isInteger(merged.agingStepMs) || merged.agingStepMs < 1) fail('agingStepMs', 'a whole number of ms >= 1', merged.agingStepMs);
  if (!Number.isInteger(merged.maxLinksPerCluster) || merged.maxLinksPerCluster < 1) fail('maxLinksPerCluster', 'a whole number >= 1', merged.maxLinksPerCluster);
  if (!Number.isInteger(merged.maxMovePasses) || merged.maxMovePasses < 1) fail('maxMovePasses', 'a whole number >= 1', merged.maxMovePasses);
  return merged;
}

/** A string that changes whenever an option that shapes clusters changes (incremental runs compare it). `idSeed` only names new clusters, so it is left out. */
export function optionsFingerprint(options: DetectionOptions): string {
  return JSON.stringify([
    options.hubThreshold,
    options.typeWeights,
    Object.fromEntries(Object.entries(options.halfLifeDays).map(([type, days]) => [type, String(days)])),
    options.specificityExponent,
    options.corroborationWeight,
    options.pdqMaxDistance,
    options.pdqChunkBits,
    options.cpmResolution,
    String(options.clusterMergeWeight),
    options.agingStepMs,
    options.maxLinksPerCluster,
    options.maxMovePasses,
  ]);
}

const PER_TYPE_OPTIONS = ['typeWeights', 'halfLifeDays', 'corroborationWeight'] as const;

/**
 * Reads detection options an operator wrote as JSON (the `DETECTION_OPTIONS` setting): an object of
 * option names to values, per-type options as objects of signal types to numbers, `null` for Infinity
 * (a half-life that never ages, `clusterMergeWeight` off). Unknown names are refused so that a typo
 * never passes silently; the values are checked by {@link resolveDetectionOptions}.
 *
 * @throws DetectionOptionsError naming what to fix.
 * @example
 * parseDetectionOptions('{"cpmResolution":0.05,"halfLifeDays":{"ip":7}}'); // { cpmResolution: 0.05, halfLifeDays: { ip: 7 } }
 * parseDetectionOptions('{"cpmResolutoin":0.05}'); // throws: unknown detection option "cpmResolutoin" (known: hubThreshold, ...)
 */
export function parseDetectionOptions(text: string): Partial<DetectionOptions> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DetectionOptionsError(`detection options must be JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new DetectionOptionsError('detection options must be a JSON object of option names to values');
  const known = Object.keys(DEFAULT_DETECTION_OPTIONS);
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!known.includes(name)) throw new DetectionOptionsError(`unknown detection option "${name}" (known: ${known.join(', ')})`);
    if ((PER_TYPE_OPTIONS as readonly string[]).includes(name)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DetectionOptionsError(`detection option ${name} must be an object of signal types to numbers, e.g. {"ip": 0.02}`);
      const perType: Record<string, unknown> = {};
      for (const [type, number] of Object.entries(value)) {
        if (!(SIGNAL_TYPES as readonly string[]).includes(type)) throw new DetectionOptionsError(`detection option ${name} has unknown signal type "${type}" (known: ${SIGNAL_TYPES.join(', ')})`);
        perType[type] = number === null ? Infinity : number;
      }
      options[name] = perType;
    } else {
      options[name] = value === null ? Infinity : value;
    }
  }
  resolveDetectionOptions(options as Partial<DetectionOptions>);
  return options as Partial<DetectionOptions>;
}
