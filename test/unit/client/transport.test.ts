import { describe, expect, it } from 'vitest';
import { SubmitError } from '../../../lib/client/errors.js';
import { parseRetryAfter, SignalsTransport } from '../../../lib/client/transport.js';

/** A fetch that answers from a script, one response per call. */
function scriptedFetch(responses: (() => Response)[]): { fetch: typeof fetch; calls: RequestInit[] } {
  const calls: RequestInit[] = [];
  return {
    calls,
    fetch: (async (_url: string | URL | Request, init?: RequestInit) => {
      calls.push(init ?? {});
      const next = responses.shift();
      if (!next) throw new Error('no more scripted responses');
      return next();
    }) as typeof fetch,
  };
}

const accepted = () => new Response(JSON.stringify({ accepted: 1, accountsAccepted: 0, rejected: [] }), { status: 202 });

function transport(fetchImpl: typeof fetch, sleeps: number[] = []) {
  return new SignalsTransport({
    baseUrl: 'http://crosslink.test/prod/',
    platform: 'chatapp',
    secret: 'chatapp-secret-0123456789abcdef',
    fetch: fetchImpl,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });
}

describe('Class: SignalsTransport', () => {
  it('posts to /v1/signals under the base URL, keeping a stage path', () => {
    expect(transport(scriptedFetch([]).fetch).endpoint).toBe('http://crosslink.test/prod/v1/signals');
  });

  it.each([400, 403, 413])('stops at once on %i with the server message', async (status) => {
    const { fetch, calls } = scriptedFetch([() => new Response(JSON.stringify({ error: 'fix this' }), { status })]);

    const failure = await transport(fetch).send('{}').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SubmitError);
    expect((failure as SubmitError).message).toBe(`Crosslink answered ${status}: fix this`);
    expect(calls).toHaveLength(1);
  });

  it('retries a replayed-signature 409 with a new signature', async () => {
    const { fetch, calls } = scriptedFetch([() => new Response('{"error":"replayed"}', { status: 409 }), accepted]);

    const result = await transport(fetch).send('{"signals":[]}');

    expect(result.attempts).toBe(2);
    const signatures = calls.map((call) => (call.headers as Record<string, string>)['x-crosslink-signature']);
    expect(signatures[0]).not.toBe(signatures[1]);
  });

  it('honours a Retry-After given as an HTTP date', async () => {
    const sleeps: number[] = [];
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const { fetch } = scriptedFetch([() => new Response('{}', { status: 503, headers: { 'retry-after': inTenSeconds } }), accepted]);

    await transport(fetch, sleeps).send('{}');

    expect(sleeps[0]).toBeGreaterThan(8_000);
    expect(sleeps[0]).toBeLessThanOrEqual(10_500);
  });

  it('refuses a 2xx answer that is not the Crosslink answer shape', async () => {
    const { fetch } = scriptedFetch([() => new Response('<html>hello</html>', { status: 200 })]);

    await expect(transport(fetch).send('{}')).rejects.toThrow(/not JSON: is --url the Crosslink API/);
  });
});

describe('Function: parseRetryAfter', () => {
  it.each([
    ['7', 7000],
    ['0', 0],
    ['1.5', 1500],
    [null, undefined],
    ['soon', undefined],
  ])('reads %j as %j ms', (header, expected) => {
    expect(parseRetryAfter(header)).toBe(expected);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    const now = Date.parse('2026-01-31T12:00:00Z');
    expect(parseRetryAfter('Sat, 31 Jan 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sat, 31 Jan 2026 11:00:00 GMT', now)).toBe(0);
  });
});
