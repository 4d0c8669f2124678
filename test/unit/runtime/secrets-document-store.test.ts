/**
 * The Secrets Manager credentials store against a fake client that keeps versions as Secrets
 * Manager does (each put becomes AWSCURRENT under its ClientRequestToken). The real service is
 * the AWS boundary that cannot run here; the fake implements only `send` for the two commands.
 */
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { PlatformAdmin } from '../../../lib/auth/platform-admin.js';
import type { CredentialsDocument } from '../../../lib/auth/credentials.js';
import { ConflictError } from '../../../lib/errors.js';
import { CredentialsSecretError } from '../../../lib/runtime/aws/secrets-credentials.js';
import { SecretsManagerDocumentStore } from '../../../lib/runtime/aws/secrets-document-store.js';

const SECRET_ID = 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:crosslink-credentials';

function aDocument(overrides: Partial<CredentialsDocument> = {}): CredentialsDocument {
  return { platforms: [{ id: 'chatapp', secret: 'chatapp-secret-0123456789' }], investigatorToken: 'investigator-token-0123456789', ...overrides };
}

/** A secret with versions, answering GetSecretValue (AWSCURRENT) and PutSecretValue. */
function fakeSecretsManager(initial: string | undefined) {
  let current = { versionId: 'v0', secretString: initial };
  const puts: Array<{ SecretId?: string; SecretString?: string; ClientRequestToken?: string }> = [];
  return {
    puts,
    current: () => current,
    /** Another writer (a second operator) puts a new version. */
    putElsewhere(document: CredentialsDocument) {
      current = { versionId: `other-${puts.length}`, secretString: JSON.stringify(document) };
    },
    async send(command: unknown): Promise<unknown> {
      if (command instanceof GetSecretValueCommand) {
        expect(command.input.SecretId).toBe(SECRET_ID);
        return { VersionId: current.versionId, SecretString: current.secretString, VersionStages: ['AWSCURRENT'] };
      }
      if (command instanceof PutSecretValueCommand) {
        puts.push(command.input);
        current = { versionId: command.input.ClientRequestToken ?? `auto-${puts.length}`, secretString: command.input.SecretString };
        return { VersionId: current.versionId, VersionStages: ['AWSCURRENT'] };
      }
      throw new Error(`the fake does not answer ${String(command)}`);
    },
  };
}

function storeOver(fake: ReturnType<typeof fakeSecretsManager>) {
  let next = 0;
  return new SecretsManagerDocumentStore(fake as never, SECRET_ID, () => `version-${++next}`);
}

describe('Class: SecretsManagerDocumentStore', () => {
  it('reads the current version of the secret as a validated credentials document', async () => {
    const fake = fakeSecretsManager(JSON.stringify(aDocument()));

    const document = await storeOver(fake).read();

    expect(document).toEqual(aDocument());
  });

  it('writes the document as a new current version named by a fresh client request token', async () => {
    const fake = fakeSecretsManager(JSON.stringify(aDocument()));
    const store = storeOver(fake);
    const updated = aDocument({ platforms: [...aDocument().platforms, { id: 'newapp', secret: 'newapp-secret-0123456789' }] });

    await store.write({ ...(await store.read()), platforms: updated.platforms });

    expect(fake.puts).toEqual([{ SecretId: SECRET_ID, SecretString: JSON.stringify(updated), ClientRequestToken: 'version-1' }]);
    expect(await store.read()).toEqual(updated);
  });

  it('refuses a write with ConflictError when another writer changed the secret after the read, keeping their change', async () => {
    const fake = fakeSecretsManager(JSON.stringify(aDocument()));
    const store = storeOver(fake);
    const read = await store.read();
    const theirs = aDocument({ investigatorToken: 'rotated-investigator-token-99' });
    fake.putElsewhere(theirs);

    await expect(store.write({ ...read, platforms: [] })).rejects.toBeInstanceOf(ConflictError);

    expect(fake.puts).toEqual([]);
    expect(JSON.parse(fake.current().secretString!)).toEqual(theirs);
  });

  it('refuses a write that was not preceded by a read', async () => {
    const fake = fakeSecretsManager(JSON.stringify(aDocument()));

    await expect(storeOver(fake).write(aDocument())).rejects.toBeInstanceOf(ConflictError);
    expect(fake.puts).toEqual([]);
  });

  it('lets consecutive edits through: its own put is the version the next write expects', async () => {
    const fake = fakeSecretsManager(JSON.stringify(aDocument()));
    const admin = new PlatformAdmin(storeOver(fake));

    await admin.add('newapp');
    await admin.rotate('newapp');
    await admin.remove('chatapp');

    expect(fake.puts.map((put) => put.ClientRequestToken)).toEqual(['version-1', 'version-2', 'version-3']);
    const stored = JSON.parse(fake.current().secretString!) as CredentialsDocument;
    expect(stored.platforms.map((p) => p.id)).toEqual(['newapp']);
    expect(stored.platforms[0].previousSecret).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never writes a document that is not a credentials document', async () => {
    const fake = fakeSecretsManager(JSON.stringify(aDocument()));
    const store = storeOver(fake);
    await store.read();

    await expect(store.write({ ...aDocument(), investigatorToken: 'short' })).rejects.toThrow(/investigatorToken|16/);
    expect(fake.puts).toEqual([]);
  });

  it('fails with CredentialsSecretError naming the secret when it does not hold a credentials document', async () => {
    const fake = fakeSecretsManager('{"platforms":"none"}');

    await expect(storeOver(fake).read()).rejects.toThrow(CredentialsSecretError);
    await expect(storeOver(fake).read()).rejects.toThrow(SECRET_ID);
  });

  it('reads afresh on every read, so an edit starts from the current document and not a cached one', async () => {
    const fake = fakeSecretsManager(JSON.stringify(aDocument()));
    const store = storeOver(fake);
    await store.read();
    const theirs = aDocument({ platforms: [] });
    fake.putElsewhere(theirs);

    expect(await store.read()).toEqual(theirs);
  });
});
