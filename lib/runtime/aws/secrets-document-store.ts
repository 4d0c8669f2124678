/**
 * The credentials document in Secrets Manager as a `CredentialsDocumentStore`, so that the
 * operator routes (`/v1/platforms`) manage platforms on AWS as `credentials.json` does locally.
 *
 * Reading goes through `secretsManagerCredentialsLoader` (one parser, one set of messages) with no
 * cache: an operator's edit must start from the current document. Every warm Lambda's
 * `DocumentCredentialStore` keeps its own cached copy, so an added, rotated or removed platform is
 * seen by the APIs within that cache's lifetime (`DEFAULT_CREDENTIALS_CACHE_SECONDS`, 5 minutes).
 */
import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { credentialsDocumentSchema, type CredentialsDocument } from '../../auth/credentials.js';
import type { CredentialsDocumentStore } from '../../auth/platform-admin.js';
import { ConflictError } from '../../errors.js';
import { secretsManagerCredentialsLoader } from './secrets-credentials.js';

/**
 * Reads and writes the credentials secret. A write is refused when the secret's current version is
 * no longer the one this store last read (another operator's change in between): the caller gets a
 * 409 and runs the command again, instead of silently undoing the other change.
 *
 * Secrets Manager has no conditional put, so the check is a read just before the put: it narrows
 * the window to a few milliseconds rather than closing it. One store serves one request at a time
 * (a Lambda container runs one invocation at once), which the remembered version relies on.
 *
 * @example
 * const admin = new PlatformAdmin(new SecretsManagerDocumentStore(new SecretsManagerClient({}), process.env.CREDENTIALS_SECRET_ARN!));
 * await admin.rotate('chatapp'); // GetSecretValue, GetSecretValue (version check), PutSecretValue
 */
export class SecretsManagerDocumentStore implements CredentialsDocumentStore {
  private readVersionId: string | undefined;

  constructor(
    private readonly client: Pick<SecretsManagerClient, 'send'>,
    private readonly secretId: string,
    /** Makes the new version's id (`ClientRequestToken`); injected by tests. */
    private readonly newVersionId: () => string = randomUUID,
  ) {}

  /**
   * The current document, validated.
   *
   * @throws CredentialsSecretError when the secret is not a credentials document.
   */
  async read(): Promise<CredentialsDocument> {
    const { document, versionId } = await this.readCurrent();
    this.readVersionId = versionId;
    return document;
  }

  /**
   * Stores `document` as the secret's new current version.
   *
   * @throws ConflictError when the secret changed since {@link read}, or was never read by this store.
   * @throws ZodError when the document is not a credentials document (a bug in the caller: nothing is written).
   */
  async write(document: CredentialsDocument): Promise<void> {
    const valid = credentialsDocumentSchema.parse(document);
    const expected = this.readVersionId;
    const { versionId: current } = await this.readCurrent();
    if (expected === undefined || current !== expected) {
      throw new ConflictError('the platform credentials changed while this change was being made (another operator?): run the command again');
    }
    const versionId = this.newVersionId();
    // ClientRequestToken makes a retried put (by the SDK, after a lost answer) create one version, not two.
    await this.client.send(new PutSecretValueCommand({ SecretId: this.secretId, SecretString: JSON.stringify(valid), ClientRequestToken: versionId }));
    this.readVersionId = versionId;
  }

  /** The current version through the shared loader, noting the version id it answered with. */
  private async readCurrent(): Promise<{ document: CredentialsDocument; versionId: string | undefined }> {
    let versionId: string | undefined;
    const noting = {
      send: async (command: GetSecretValueCommand) => {
        const answer = await this.client.send(command);
        versionId = answer.VersionId;
        return answer;
      },
    } as Pick<SecretsManagerClient, 'send'>;
    const document = await secretsManagerCredentialsLoader(noting, this.secretId, { cacheSeconds: 0 })();
    return { document, versionId };
  }
}
