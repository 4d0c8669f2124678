/**
 * A stand-in for `POST /v1/signals` on a real local HTTP server: it checks signatures with the
 * same verifySignature the API uses, stores signals idempotently (as the real ingest does), and
 * can be scripted to fail the first attempts (503, 429 with Retry-After, dropped connections).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PLATFORM_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../../../lib/auth/signing.js';
import type { RejectedItem, Signal } from '../../../lib/contract/signals.js';

/** What to do with one incoming request instead of answering it normally. */
export type Fault =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'drop' }
  /** Store the batch, then never answer (the answer is lost on the way back). */
  | { kind: 'hang'; afterStoring: boolean };

export interface FakeCrosslinkOptions {
  secrets: Record<string, string>;
  /** Faults for the first requests, in order; later requests are answered normally. */
  faults?: Fault[];
  /** Refuse some signals item by item, as the real validator does. */
  rejectSignal?: (signal: Signal) => { field: string; error: string } | undefined;
  /** Called for each request before it is answered, with its 1-based number. */
  onRequest?: (requestNumber: number) => void;
}

export interface FakeCrosslink {
  url: string;
  /** Every request that carried a valid signature, with the signals in it. */
  requests: { platform: string; signals: Signal[]; bodyBytes: number; timestamp: string; signature: string }[];
  /** Signals stored, deduplicated the way the real store does (platform, account, type, value). */
  stored: Map<string, Signal>;
  /** Requests refused for their signature. */
  unauthorised: number;
  /** Connections opened, faults included. */
  attempts: number;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function answer(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** Starts the fake on an ephemeral loopback port. */
export async function startFakeCrosslink(options: FakeCrosslinkOptions): Promise<FakeCrosslink> {
  const faults = [...(options.faults ?? [])];
  const hanging: ServerResponse[] = [];
  const fake: FakeCrosslink = { url: '', requests: [], stored: new Map(), unauthorised: 0, attempts: 0, close: async () => undefined };

  const server: Server = createServer(async (request, response) => {
    fake.attempts += 1;
    const body = await readBody(request);
    const fault = faults.shift();
    if (fault?.kind === 'drop') {
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      answer(response, fault.status, { error: `scripted ${fault.status}` }, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
      return;
    }
    const platform = String(request.headers[PLATFORM_HEADER] ?? '');
    const secret = options.secrets[platform];
    const problem = secret
      ? verifySignature({
          secret,
          timestampHeader: request.headers[TIMESTAMP_HEADER] as string | undefined,
          signatureHeader: request.headers[SIGNATURE_HEADER] as string | undefined,
          rawBody: body,
        })
      : 'unknown-platform';
    if (problem) {
      fake.unauthorised += 1;
      answer(response, 401, { error: `signature refused: ${problem}` });
      return;
    }
    const { signals } = JSON.parse(body.toString('utf8')) as { signals: Signal[] };
    fake.requests.push({
      platform,
      signals,
      bodyBytes: body.length,
      timestamp: String(request.headers[TIMESTAMP_HEADER]),
      signature: String(request.headers[SIGNATURE_HEADER]),
    });
    options.onRequest?.(fake.requests.length);
    const rejected: RejectedItem[] = [];
    signals.forEach((signal, index) => {
      const refusal = options.rejectSignal?.(signal);
      if (refusal) rejected.push({ list: 'signals', index, ...refusal });
      else fake.stored.set(`${platform}|${signal.account}|${signal.type}|${signal.value}`, signal);
    });
    if (fault?.kind === 'hang') {
      hanging.push(response);
      return;
    }
    answer(response, 202, { accepted: signals.length - rejected.length, accountsAccepted: 0, rejected });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake;
}
