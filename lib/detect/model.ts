/**
 * What detection takes and gives: plain data, no AWS, no graphology types.
 * The storage layer fills a {@link DetectionInput}; {@link detectClusters} (lib/detect/detect.ts) returns a {@link DetectionResult}.
 */
import type { SignalType } from '../contract/signals.js';
import type { AccountGraph } from './account-graph.js';

/** One account seen with one hashed identifier. `account` is `accountKey({platform, account})`, i.e. `platform#account`. */
export interface Membership {
  account: string;
  type: SignalType;
  value: string;
  /** When the platform observed it, ms since the epoch. */
  observedAtMs: number;
}

/** Behavioural metadata of one account (risk only). */
export interface AccountFacts {
  createdAtMs?: number;
  minorContacts7d?: number;
  reports30d?: number;
}

/** An investigator's verdict on two accounts. */
export interface Verdict {
  a: string;
  b: string;
  kind: 'same-actor' | 'not-same-actor';
  by: string;
  atMs: number;
}

/** A cluster of an earlier run, for stable ids. */
export interface PreviousCluster {
  id: string;
  members: string[];
}

export interface DetectionInput {
  memberships: Membership[];
  accounts: Map<string, AccountFacts>;
  verdicts?: Verdict[];
  previousClusters?: PreviousCluster[];
  nowMs: number;
  /**
   * When set, only these accounts are clustered (whole components of them: an incremental closure's
   * core); the other accounts' memberships are there so that the core's weights are exact.
   */
  core?: ReadonlySet<string>;
  /** Total holders of identifiers over the hub threshold whose holders the input does not all hold (with `core`). */
  holderTotals?: ReadonlyMap<string, number>;
  /**
   * The account graph of exactly this input, when the caller built it already (an incremental closure's
   * partition has): `buildAccountGraph` over `memberships`, the verdict accounts (of `core`, when set),
   * `holderTotals`, at `nowMs` floored to the ageing step. Detection builds it when absent.
   */
  graph?: AccountGraph;
}

/** One link between two accounts in a cluster and the evidence that makes it. */
export interface ClusterLink {
  a: string;
  b: string;
  weight: number;
  evidence: LinkEvidence[];
}

/**
 * One shared identifier behind a link: its weight after specificity and ageing, and the older of the
 * two observations (the one ageing counts from). For a `photo_pdq` near match, `value` is `a`'s hash,
 * `matchedValue` is `b`'s and `distance` their Hamming distance.
 */
export interface LinkEvidence {
  type: SignalType;
  value: string;
  weight: number;
  observedAtMs: number;
  matchedValue?: string;
  distance?: number;
}

export interface RiskReason {
  /** Machine name of the factor: `platforms`, `profiles`, `minor-contacts`, `creation-burst`, `reports`. */
  factor: string;
  /** Points this factor adds to the score. */
  points: number;
  /** The reason in words an investigator reads. */
  detail: string;
}

export interface DetectedCluster {
  id: string;
  members: string[];
  platforms: string[];
  links: ClusterLink[];
  risk: { score: number; reasons: RiskReason[] };
  /** Verdicts that shaped this cluster. */
  verdicts: Verdict[];
}

/** An identifier shared by so many accounts that it was left out as shared infrastructure. */
export interface ExcludedHub {
  type: SignalType;
  value: string;
  accounts: number;
}

/** How this run's clusters relate to the previous run's (all lists sorted). */
export interface ClusterLineage {
  /** Ids carried over from the previous run. */
  kept: string[];
  /** Ids new in this run. */
  born: string[];
  /** Previous ids that no cluster of this run carries. */
  dissolved: string[];
  /** A previous cluster whose members are now in two or more clusters. */
  splits: Array<{ from: string; into: string[] }>;
  /** A cluster of this run whose members were in two or more previous clusters. */
  merges: Array<{ into: string; from: string[] }>;
}

export interface DetectionResult {
  /** Highest risk first (ties: larger first, then by id). */
  clusters: DetectedCluster[];
  /** Excluded identifiers, most-shared first. */
  hubs: ExcludedHub[];
  /** Splits and merges relative to `previousClusters` (filled by detectClusters). */
  lineage?: ClusterLineage;
  /** `same-actor` verdicts not applied because they contradict a `not-same-actor` verdict (filled by detectClusters). */
  verdictConflicts?: Verdict[];
  stats: {
    accounts: number;
    memberships: number;
    links: number;
    components: number;
    largestComponent: number;
    clusters: number;
    crossPlatformClusters: number;
    timingsMs: Record<string, number>;
  };
}
