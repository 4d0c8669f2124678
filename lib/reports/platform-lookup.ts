/**
 * What a platform may learn about its own account: whether it sits in a cluster that spans at least the
 * release threshold of platforms, with the cluster's risk. It never learns another platform's accounts
 * or which platforms they are.
 */
import type { ClusterReport } from '../graph/cluster-repository.js';

/** The answer to `GET /v1/lookup?account=` (and the older `GET /v1/lookup/{account}`). */
export interface PlatformLookup {
  account: string;
  /** True when the account is in a cluster spanning at least `releaseThreshold` platforms. */
  inCrossPlatformCluster: boolean;
  cluster: null | {
    risk: number;
    size: number;
    platformCount: number;
    /** The asking platform's own accounts in the same cluster. */
    yourAccounts: string[];
    detectedAt: string;
  };
}

/** Shapes a cluster report for the platform that asked, withholding what the release threshold withholds. */
export function platformView(platform: string, account: string, report: ClusterReport | null, releaseThreshold: number): PlatformLookup {
  if (!report || report.platforms.length < releaseThreshold) return { account, inCrossPlatformCluster: false, cluster: null };
  return {
    account,
    inCrossPlatformCluster: true,
    cluster: {
      risk: report.risk,
      size: report.size,
      platformCount: report.platforms.length,
      yourAccounts: report.members.filter((member) => member.platform === platform).map((member) => member.account).sort(),
      detectedAt: report.detectedAt,
    },
  };
}
