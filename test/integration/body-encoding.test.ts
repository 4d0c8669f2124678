/**
 * The bytes of a `POST /v1/signals` body over real HTTP: a body that is not UTF-8 is refused saying
 * where, never read with replacement characters (which would make distinct account ids one).
 */
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../lib/auth/signing.js';
import { aSignal, hashed } from '../support/factories.js';
import { useTestStack } from '../support/local-stack.js';

const local = useTestStack();

function postBytes(body: Buffer): Promise<Response> {
  const headers = { 'content-type': 'application/json', ...signRequest({ platform: local.platform.id, secret: local.platform.secret, body }) };
  return fetch(`${local.stack.baseUrl}/v1/signals`, { method: 'POST', headers, body: new Uint8Array(body) });
}

describe('POST /v1/signals: the body\'s encoding', () => {
  it('refuses a body encoded in Latin-1, naming the first byte that is not UTF-8', async () => {
    const json = JSON.stringify({ signals: [aSignal({ account: 'josé', value: hashed('latin-1') })] });
    const response = await postBytes(Buffer.from(json, 'latin1'));

    expect(response.status).toBe(400);
    const offset = Buffer.from(json, 'latin1').indexOf(0xe9);
    expect((await response.json()).error).toBe(`body is not valid UTF-8 (byte ${offset} is 0xe9): send the JSON encoded as UTF-8`);
  });

  it('reads a UTF-8 body that starts with a byte-order mark', async () => {
    const json = JSON.stringify({ signals: [aSignal({ account: 'bom-1', value: hashed('bom-1') })] });
    const response = await postBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json, 'utf8')]));

    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 1, accountsAccepted: 0, rejected: [] });
  });
});
