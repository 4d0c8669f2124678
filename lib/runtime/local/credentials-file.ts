/**
 * The local stack's credentials: `<home>/credentials.json`, created on first start with a random
 * secret for each sample platform and a random investigator token, readable only by its owner.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { credentialsDocumentSchema, type CredentialsDocument } from '../../auth/credentials.js';
import { ValidationError } from '../../errors.js';

/** The platforms a fresh local stack knows, so that the demo can post as several of them. */
export const SAMPLE_PLATFORMS = ['chatapp', 'photoshare', 'gamehub', 'clipvideo', 'friendnet'] as const;

const newSecret = () => randomBytes(32).toString('hex');

export function loadOrCreateCredentials(path: string): CredentialsDocument {
  if (existsSync(path)) {
    const parsed = credentialsDocumentSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new ValidationError(`${path} is not a valid credentials file (${parsed.error.issues[0]?.message}): fix it or delete it to have a new one made`);
    return parsed.data;
  }
  const document: CredentialsDocument = {
    platforms: SAMPLE_PLATFORMS.map((id) => ({ id, secret: newSecret() })),
    investigatorToken: newSecret(),
    operatorToken: newSecret(),
  };
  saveCredentials(path, document);
  return document;
}

export function saveCredentials(path: string, document: CredentialsDocument): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
}
