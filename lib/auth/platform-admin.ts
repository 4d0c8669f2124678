/**
 * Operator actions on platform credentials: list, add, rotate, remove. Pure edits of the credentials
 * document; where it is kept (a file locally, Secrets Manager on AWS) is the caller's.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import { platformIdSchema } from '../contract/platforms.js';
import { ValidationError } from '../errors.js';
import { newSecret, ROTATION_GRACE_HOURS, type CredentialsDocument } from './credentials.js';

/** Loads and saves the credentials document (read-modify-write). */
export interface CredentialsDocumentStore {
  read(): Promise<CredentialsDocument>;
  write(document: CredentialsDocument): Promise<void>;
}

export class PlatformAdmin {
  /** The edit in progress: edits run one after another, so that none starts from a document another is about to replace. */
  private editing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: CredentialsDocumentStore,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async list(): Promise<Array<{ id: string; rotating: boolean; requestsPerMinute?: number }>> {
    const doc = await this.store.read();
    const now = this.clock().getTime();
    return doc.platforms.map((p) => ({
      id: p.id,
      rotating: Boolean(p.previousSecretExpiresAt && Date.parse(p.previousSecretExpiresAt) > now),
      requestsPerMinute: p.requestsPerMinute,
    }));
  }

  /** Runs one read-modify-write of the document after the ones already started (a failed one does not stop the next). */
  private edit<T>(change: () => Promise<T>): Promise<T> {
    const result = this.editing.then(change, change);
    this.editing = result.catch(() => undefined);
    return result;
  }

  /** Adds a platform and returns its new secret (shown once: hand it to the platform over a secure channel). */
  async add(id: string, options: { requestsPerMinute?: number } = {}): Promise<{ id: string; secret: string }> {
    const parsed = platformIdSchema.safeParse(id);
    if (!parsed.success) throw new ValidationError(`platform id "${id}" is not valid: ${parsed.error.issues[0]?.message}`);
    return this.edit(() => this.addNow(id, options));
  }

  private async addNow(id: string, options: { requestsPerMinute?: number }): Promise<{ id: string; secret: string }> {
    const doc = await this.store.read();
    if (doc.platforms.some((p) => p.id === id)) throw new ConflictError(`platform ${id} exists already: rotate its secret instead`);
    const secret = newSecret();
    await this.store.write({ ...doc, platforms: [...doc.platforms, { id, secret, requestsPerMinute: options.requestsPerMinute }] });
    return { id, secret };
  }

  /** Issues a new secret; the old one keeps working for {@link ROTATION_GRACE_HOURS} hours. */
  async rotate(id: string): Promise<{ id: string; secret: string; previousSecretExpiresAt: string }> {
    return this.edit(() => this.rotateNow(id));
  }

  private async rotateNow(id: string): Promise<{ id: string; secret: string; previousSecretExpiresAt: string }> {
    const doc = await this.store.read();
    const platform = doc.platforms.find((p) => p.id === id);
    if (!platform) throw new NotFoundError(`no platform ${id}: list them with GET /v1/platforms`);
    const secret = newSecret();
    const previousSecretExpiresAt = new Date(this.clock().getTime() + ROTATION_GRACE_HOURS * 3_600_000).toISOString();
    await this.store.write({
      ...doc,
      platforms: doc.platforms.map((p) => (p.id === id ? { ...p, secret, previousSecret: p.secret, previousSecretExpiresAt } : p)),
    });
    return { id, secret, previousSecretExpiresAt };
  }

  /** Removes a platform: its signatures stop working at once. Its stored signals stay until withdrawn or expired. */
  async remove(id: string): Promise<void> {
    return this.edit(() => this.removeNow(id));
  }

  private async removeNow(id: string): Promise<void> {
    const doc = await this.store.read();
    if (!doc.platforms.some((p) => p.id === id)) throw new NotFoundError(`no platform ${id}: list them with GET /v1/platforms`);
    await this.store.write({ ...doc, platforms: doc.platforms.filter((p) => p.id !== id) });
  }
}
