/**
 * The credentials document from Secrets Manager: the AWS adapter behind `DocumentCredentialStore`.
 * The document is read on first use, validated with the same schema as the local `credentials.json`,
 * and cached for a few minutes so that a rotation reaches every warm Lambda without a redeploy.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { credentialsDocumentSchema, type CredentialsDocument } from '../../auth/credentials.js';

/** How long a fetched document is trusted before it is read again: bounds how late a rotation is seen. */
export const DEFAULT_CREDENTIALS_CACHE_SECONDS = 300;

/** Options of {@link secretsManagerCredentialsLoader}. */
export interface SecretsCredentialsOptions {
  /** Seconds a fetched document is reused (default {@link DEFAULT_CREDENTIALS_CACHE_SECONDS}). */
  cacheSeconds?: number;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
}

/**
 * Thrown when the secret holds no string, is not JSON, or is not a credentials document.
 * The message names the secret and the field to fix, never the secret's value. It is deliberately
 * not a CrosslinkError: callers get an opaque 500 and the operator finds the message in the log.
 *
 * @example
 * await load();
 * // CredentialsSecretError: secret arn:aws:secretsmanager:...:crosslink-credentials is not a credentials document: platforms.0.secret: Too small: expected string to have >=16 characters
 */
export class CredentialsSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsSecretError';
  }
}

/**
 * A loader for `DocumentCredentialStore` that reads the document from Secrets Manager.
 * Concurrent callers during a refresh share one request; a failed refresh is not cached.
 *
 * @example
 * const credentials = new DocumentCredentialStore(
 *   secretsManagerCredentialsLoader(new SecretsManagerClient({}), process.env.CREDENTIALS_SECRET_ARN!),
 * );
 */
export function secretsManagerCredentialsLoader(
  client: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
  options: SecretsCredentialsOptions = {},
): () => Promise<CredentialsDocument> {
  const cacheMs = (options.cacheSeconds ?? DEFAULT_CREDENTIALS_CACHE_SECONDS) * 1000;
  const now = options.now ?? Date.now;
  let cached: { document: CredentialsDocument; fetchedAt: number } | undefined;
  let pending: Promise<CredentialsDocument> | undefined;

  const fetchDocument = async (): Promise<CredentialsDocument> => {
    const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (answer.SecretString === undefined) throw new CredentialsSecretError(`secret ${secretId} has no string value: store the credentials document as JSON text`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.SecretString);
    } catch {
      throw new CredentialsSecretError(`secret ${secretId} is not valid JSON: expected {"platforms":[{"id","secret"}],"investigatorToken"}`);
    }
    const result = credentialsDocumentSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new CredentialsSecretError(`secret ${secretId} is not a credentials document: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
    }
    return result.data;
  };

  return async () => {
    if (cached && now() - cached.fetchedAt < cacheMs) return cached.document;
    pending ??= fetchDocument()
      .then((document) => {
        cached = { document, fetchedAt: now() };
        return document;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
