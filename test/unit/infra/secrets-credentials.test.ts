import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { CredentialsSecretError, secretsManagerCredentialsLoader } from '../../../lib/runtime/aws/secrets-credentials.js';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:crosslink/test/credentials-AbCdEf';
const document = { platforms: [{ id: 'snapchat', secret: 's'.repeat(32) }], investigatorToken: 't'.repeat(32) };

/** A Secrets Manager client double that answers from a list and counts requests. */
function fakeClient(answers: Array<string | undefined | Error>) {
  const sent: GetSecretValueCommand[] = [];
  return {
    sent,
    send: async (command: GetSecretValueCommand) => {
      sent.push(command);
      const answer = answers[Math.min(sent.length - 1, answers.length - 1)];
      if (answer instanceof Error) throw answer;
      return { SecretString: answer };
    },
  };
}

describe('Function: secretsManagerCredentialsLoader', () => {
  it('reads and validates the document from the named secret', async () => {
    const client = fakeClient([JSON.stringify(document)]);
    const load = secretsManagerCredentialsLoader(client as never, SECRET_ARN);
    await expect(load()).resolves.toEqual(document);
    expect(client.sent[0].input).toEqual({ SecretId: SECRET_ARN });
  });

  it('reuses the document within the cache period and reads it again after', async () => {
    let now = 0;
    const client = fakeClient([JSON.stringify(document)]);
    const load = secretsManagerCredentialsLoader(client as never, SECRET_ARN, { cacheSeconds: 300, now: () => now });
    await load();
    now = 299_000;
    await load();
    expect(client.sent).toHaveLength(1);
    now = 300_000;
    await load();
    expect(client.sent).toHaveLength(2);
  });

  it('shares one request between concurrent callers', async () => {
    const client = fakeClient([JSON.stringify(document)]);
    const load = secretsManagerCredentialsLoader(client as never, SECRET_ARN);
    await Promise.all([load(), load(), load()]);
    expect(client.sent).toHaveLength(1);
  });

  it('does not cache a failure: the next call asks again', async () => {
    const client = fakeClient([new Error('throttled'), JSON.stringify(document)]);
    const load = secretsManagerCredentialsLoader(client as never, SECRET_ARN);
    await expect(load()).rejects.toThrow('throttled');
    await expect(load()).resolves.toEqual(document);
  });

  it('names the field when the document has the wrong shape, without echoing secrets', async () => {
    const client = fakeClient([JSON.stringify({ platforms: [{ id: 'snapchat', secret: 'short' }], investigatorToken: 't'.repeat(32) })]);
    const load = secretsManagerCredentialsLoader(client as never, SECRET_ARN);
    const error = await load().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialsSecretError);
    expect((error as Error).message).toContain('platforms.0.secret');
    expect((error as Error).message).not.toContain('short');
  });

  it('refuses a secret that is not JSON or holds no string', async () => {
    await expect(secretsManagerCredentialsLoader(fakeClient(['not json']) as never, SECRET_ARN)()).rejects.toThrow(/not valid JSON/);
    await expect(secretsManagerCredentialsLoader(fakeClient([undefined]) as never, SECRET_ARN)()).rejects.toThrow(/no string value/);
  });
});
