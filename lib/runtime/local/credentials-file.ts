/**
 * The local stack's credentials: `<home>/credentials.json`, created on first start with a random
 * secret for each sample platform and random staff tokens, readable only by its owner (mode 0600).
 * On AWS the same document lives in Secrets Manager, encrypted with the stack's KMS key.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { credentialsDocumentSchema, newSecret, type CredentialsDocument } from '../../auth/credentials.js';
import type { CredentialsDocumentStore } from '../../auth/platform-admin.js';
import { ValidationError } from '../../errors.js';

/** The platforms a fresh local stack knows, so that the demo can post as several of them. */
export const SAMPLE_PLATFORMS = ['chatapp', 'photoshare', 'gamehub', 'clipvideo', 'friendnet'] as const;

export class CredentialsFile implements CredentialsDocumentStore {
  private document: CredentialsDocument;

  constructor(private readonly path: string) {
    this.document = existsSync(path) ? this.load() : this.create();
  }

  /** The document as last read or written by this process. */
  current(): CredentialsDocument {
    return this.document;
  }

  async read(): Promise<CredentialsDocument> {
    return this.document;
  }

  async write(document: CredentialsDocument): Promise<void> {
    this.save(credentialsDocumentSchema.parse(document));
  }

  private load(): CredentialsDocument {
    const parsed = credentialsDocumentSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
    if (!parsed.success) throw new ValidationError(`${this.path} is not a valid credentials file (${parsed.error.issues[0]?.message}): fix it or delete it to have a new one made`);
    return parsed.data;
  }

  private create(): CredentialsDocument {
    const document = { platforms: SAMPLE_PLATFORMS.map((id) => ({ id, secret: newSecret() })), investigatorToken: newSecret(), operatorToken: newSecret() };
    this.save(document);
    return document;
  }

  private save(document: CredentialsDocument): void {
    mkdirSync(dirname(this.path), { recursive: true });
    // Write then rename, so that a crash never leaves half a file.
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
    this.document = document;
  }
}
