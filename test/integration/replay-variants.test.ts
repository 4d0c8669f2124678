/**
 * A captured signed request must not be accepted twice by varying how the same signature header is
 * written (found in review: the replay fingerprint was over the raw header, the check over its trimmed
 * form); and a platform that signs a DELETE wrongly is told what to sign.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest, SIGNATURE_HEADER } from '../../lib/auth/signing.js';
import { aSignal } from '../support/factories.js';
import { startTestStack } from '../support/local-stack.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack?.cleanup());

describe('replay protection against header variants', () => {
  it('refuses a replay whose signature header differs only by characters the verifier trims', async () => {
    const platform = stack.credentials.platforms[0];
    const body = JSON.stringify({ signals: [aSignal({ account: 'replay-variant' })] });
    const headers: Record<string, string> = { 'content-type': 'application/json', ...signRequest({ platform: platform.id, secret: platform.secret, body }) };
    const send = (signature: string) => fetch(`${stack.baseUrl}/v1/signals`, { method: 'POST', headers: { ...headers, [SIGNATURE_HEADER]: signature }, body });
    const signature = headers[SIGNATURE_HEADER]!;

    expect((await send(signature)).status).toBe(202);
    expect((await send(signature)).status).toBe(409); // the plain replay is caught
    // The same captured request, its signature header followed by a no-break space (byte 0xA0,
    // legal obs-text in HTTP, kept by the server, removed by String.prototype.trim):
    const variant = await send(`${signature}\u00a0`);
    expect(variant.status).toBe(409);
  });
});

describe('bodiless requests signed as the README says', () => {
  it('tells a platform that signed an empty body for a DELETE what to sign instead', async () => {
    const platform = stack.credentials.platforms[0];
    // README: "Other platform routes (signed the same way; for a GET or DELETE the body is empty)".
    const headers = signRequest({ platform: platform.id, secret: platform.secret, body: '' });
    const response = await fetch(`${stack.baseUrl}/v1/accounts/u-1`, { method: 'DELETE', headers });
    expect(response.status).toBe(401);
    expect((await response.json()).error).toContain('<METHOD> <path>');
  });
});
