/**
 * Who may call Crosslink: platform secrets (for request signatures) and staff tokens.
 * A port with two adapters: a JSON file for the local stack, Secrets Manager (KMS-encrypted) on AWS.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { platformIdSchema } from '../contract/platforms.js';

/** How long a platform's previous secret keeps working after a rotation, so that it can roll its fleet. */
export const ROTATION_GRACE_HOURS = 24;

/** One platform's credential. */
export const platformCredentialSchema = z.object({
  id: platformIdSchema,
  secret: z.string().min(16),
  /** The secret before the last rotation, valid until `previousSecretExpiresAt`. */
  previousSecret: z.string().min(16).optional(),
  previousSecretExpiresAt: z.string().optional(),
  /** Signed requests per minute this platform may make (default: the deployment's). */
  requestsPerMinute: z.number().int().positive().optional(),
});
export type PlatformCredential = z.infer<typeof platformCredentialSchema>;

/** The credentials document, the same shape in `.crosslink/credentials.json` and in Secrets Manager. */
export const credentialsDocumentSchema = z.object({
  platforms: z.array(platformCredentialSchema),
  investigatorToken: z.string().min(16),
  operatorToken: z.string().min(16).optional(),
});
export type CredentialsDocument = z.infer<typeof credentialsDocumentSchema>;

/** The roles a caller can hold. */
export type Role = 'platform' | 'investigator' | 'operator';

/** Looks up secrets; implementations may cache. */
export interface CredentialStore {
  /** The secrets a platform's signature may be made with (current first), empty when the platform is unknown. */
  platformSecrets(platformId: string): Promise<string[]>;
  /** The platform's own request rate limit, if it has one. */
  platformRequestsPerMinute(platformId: string): Promise<number | undefined>;
  /** The role a bearer token grants, or undefined when it grants none. */
  roleForToken(token: string): Promise<Exclude<Role, 'platform'> | undefined>;
}

/** A fresh random secret or token: 256 bits, hex. */
export const newSecret = (): string => randomBytes(32).toString('hex');

function sameSecret(a: string, b: string): boolean {
  // Compare digests so that the comparison is constant-time whatever the lengths.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/** A credential store over one credentials document, loaded through the given function (which may cache). */
export class DocumentCredentialStore implements CredentialStore {
  constructor(
    private readonly load: () => Promise<CredentialsDocument>,
    private readonly clock: () => number = Date.now,
  ) {}

  async platformSecrets(platformId: string): Promise<string[]> {
    const platform = (await this.load()).platforms.find((p) => p.id === platformId);
    if (!platform) return [];
    const secrets = [platform.secret];
    if (platform.previousSecret && platform.previousSecretExpiresAt && Date.parse(platform.previousSecretExpiresAt) > this.clock()) {
      secrets.push(platform.previousSecret);
    }
    return secrets;
  }

  async platformRequestsPerMinute(platformId: string): Promise<number | undefined> {
    return (await this.load()).platforms.find((p) => p.id === platformId)?.requestsPerMinute;
  }

  async roleForToken(token: string): Promise<'investigator' | 'operator' | undefined> {
    const doc = await this.load();
    if (sameSecret(token, doc.investigatorToken)) return 'investigator';
    if (doc.operatorToken && sameSecret(token, doc.operatorToken)) return 'operator';
    return undefined;
  }
}
