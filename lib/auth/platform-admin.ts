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

  /**
   * One read-modify-write of the document, after the ones already started (a failed one does not stop
   * the next): `change` gets the document as stored and gives back the document to store and the answer.
   */
  private edit<T>(change: (doc: CredentialsDocument) => { doc: CredentialsDocument; result: T }): Promise<T> {
    const run = async () => {
      const { doc, result } = change(await this.store.read());
      await this.store.write(doc);
      return result;
    };
    const done = this.editing.then(run, run);
    this.editing = done.catch(() => undefined);
    return done;
  }

  /** Adds a platform and returns its new secret (shown once: hand it to the platform over a secure channel). */
  async add(id: string, options: { requestsPerMinute?: number } = {}): Promise<{ id: string; secret: string }> {
    const parsed = platformIdSchema.safeParse(id);
    if (!parsed.success) throw new ValidationError(`platform id "${id}" is not valid: ${parsed.error.issues[0]?.message}`);
    return this.edit((doc) => {
      if (doc.platforms.some((p) => p.id === id)) throw new ConflictError(`platform ${id} exists already: rotate its secret instead`);
      const secret = newSecret();
      return { doc: { ...doc, platforms: [...doc.platforms, { id, secret, requestsPerMinute: options.requestsPerMinute }] }, result: { id, secret } };
    });
  }

  /** Issues a new secret; the old one keeps working for {@link ROTATION_GRACE_HOURS} hours. */
  async rotate(id: string): Promise<{ id: string; secret: string; previousSecretExpiresAt: string }> {
    return this.edit((doc) => {
      if (!doc.platforms.some((p) => p.id === id)) throw new NotFoundError(`no platform ${id}: list them with GET /v1/platforms`);
      const secret = newSecret();
      const previousSecretExpiresAt = new Date(this.clock().getTime() + ROTATION_GRACE_HOURS * 3_600_000).toISOString();
      return {
        doc: { ...doc, platforms: doc.platforms.map((p) => (p.id === id ? { ...p, secret, previousSecret: p.secret, previousSecretExpiresAt } : p)) },
        result: { id, secret, previousSecretExpiresAt },
      };
    });
  }

  /** Removes a platform: its signatures stop working at once. Its stored signals stay until withdrawn or expired. */
  async remove(id: string): Promise<void> {
    return this.edit((doc) => {
      if (!doc.platforms.some((p) => p.id === id)) throw new NotFoundError(`no platform ${id}: list them with GET /v1/platforms`);
      return { doc: { ...doc, platforms: doc.platforms.filter((p) => p.id !== id) }, result: undefined };
    });
  }
}
