/**
 * Who may call Crosslink: platform secrets (for request signatures) and investigator tokens.
 * A port with two adapters: a JSON file for the local stack, Secrets Manager on AWS.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { platformIdSchema } from '../contract/platforms.js';

/** The credentials document, the same shape in `.crosslink/credentials.json` and in Secrets Manager. */
export const credentialsDocumentSchema = z.object({
  platforms: z.array(z.object({ id: platformIdSchema, secret: z.string().min(16) })),
  investigatorToken: z.string().min(16),
  operatorToken: z.string().min(16).optional(),
});
export type CredentialsDocument = z.infer<typeof credentialsDocumentSchema>;

/** The roles a caller can hold. */
export type Role = 'platform' | 'investigator' | 'operator';

/** Looks up secrets; implementations may cache. */
export interface CredentialStore {
  /** The signing secret of a platform, or undefined when the platform is unknown. */
  platformSecret(platformId: string): Promise<string | undefined>;
  /** The role a bearer token grants, or undefined when it grants none. */
  roleForToken(token: string): Promise<Exclude<Role, 'platform'> | undefined>;
}

function sameSecret(a: string, b: string): boolean {
  // Compare digests so that the comparison is constant-time whatever the lengths.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/** A credential store over one credentials document held in memory. */
export class DocumentCredentialStore implements CredentialStore {
  constructor(private readonly load: () => Promise<CredentialsDocument>) {}

  async platformSecret(platformId: string): Promise<string | undefined> {
    const doc = await this.load();
    return doc.platforms.find((p) => p.id === platformId)?.secret;
  }

  async roleForToken(token: string): Promise<'investigator' | 'operator' | undefined> {
    const doc = await this.load();
    if (sameSecret(token, doc.investigatorToken)) return 'investigator';
    if (doc.operatorToken && sameSecret(token, doc.operatorToken)) return 'operator';
    return undefined;
  }
}
