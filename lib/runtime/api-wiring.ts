/** Builds the API's dependencies from the core services; the local stack and Lambda differ only in what they pass. */
import type { ApiDeps } from '../api/app.js';
import type { StaffAuthenticator } from '../api/auth.js';
import type { CredentialStore } from '../auth/credentials.js';
import type { PlatformAdmin } from '../auth/platform-admin.js';
import { PlatformGate } from '../auth/platform-gate.js';
import type { DetectionDispatcher } from '../runs/detection-dispatcher.js';
import type { Core } from './core.js';

export function apiDeps(
  core: Core,
  edge: {
    credentials: CredentialStore;
    staffAuthenticator: StaffAuthenticator;
    dispatcher: DetectionDispatcher;
    platformAdmin?: PlatformAdmin;
    logger: ApiDeps['logger'];
  },
): ApiDeps {
  return {
    platform: {
      gate: new PlatformGate({
        credentials: edge.credentials,
        replayGuard: core.replayGuard,
        rateLimiter: core.rateLimiter,
        defaultRequestsPerMinute: core.config.defaultRequestsPerMinute,
      }),
      ingest: core.ingest,
      signals: core.signals,
      investigator: core.investigator,
      releaseThreshold: core.config.releaseThreshold,
      audit: core.review,
    },
    staff: {
      staffAuthenticator: edge.staffAuthenticator,
      investigator: core.investigator,
      detection: core.runner,
      dispatcher: edge.dispatcher,
      platformAdmin: edge.platformAdmin,
      signals: core.signals,
    },
    review: { review: core.review },
    logger: edge.logger,
  };
}
