/**
 * The scenario the end-to-end tests share: one actor running five profiles on three platforms (a device,
 * a burner phone and a card, each profile holding two of them), an unrelated pair sharing an email, and
 * a carrier NAT address shared by 82 accounts that detection must leave out as a hub.
 */
import type { SignalType } from '../../lib/contract/signals.js';
import { hashed, OBSERVED_AT, postSigned } from './factories.js';
import { investigatorHeaders, type startTestStack } from './local-stack.js';

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;
export type Row = { platform: string; account: string; type: SignalType; label: string; observedAt?: string };

/** An observation `days` ago: recent, so that evidence ageing leaves the links whole. */
export const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

export const ACTOR: Row[] = [
  { platform: 'chatapp', account: 'a-1', type: 'device', label: 'actor-device' },
  { platform: 'chatapp', account: 'a-1', type: 'phone', label: 'actor-burner' },
  { platform: 'chatapp', account: 'a-2', type: 'device', label: 'actor-device' },
  { platform: 'chatapp', account: 'a-2', type: 'phone', label: 'actor-burner' },
  { platform: 'photoshare', account: 'p-7', type: 'phone', label: 'actor-burner' },
  { platform: 'photoshare', account: 'p-7', type: 'payment', label: 'actor-card' },
  { platform: 'gamehub', account: 'g-3', type: 'payment', label: 'actor-card' },
  { platform: 'gamehub', account: 'g-4', type: 'device', label: 'actor-device' },
  { platform: 'gamehub', account: 'g-4', type: 'payment', label: 'actor-card' },
];
export const OTHER_PAIR: Row[] = [
  { platform: 'chatapp', account: 'b-1', type: 'email', label: 'other-email' },
  { platform: 'gamehub', account: 'b-9', type: 'email', label: 'other-email' },
];
const natAccounts = [...new Map([...ACTOR, ...OTHER_PAIR].map(({ platform, account }) => [`${platform}/${account}`, { platform, account }])).values()];
for (let i = 0; i < 75; i++) natAccounts.push({ platform: 'friendnet', account: `nat-${i}` });
export const NAT: Row[] = natAccounts.map(({ platform, account }) => ({ platform, account, type: 'ip', label: 'carrier-nat' }));

export async function postRows(stack: TestStack, rows: Row[], accounts: Record<string, unknown[]> = {}): Promise<void> {
  const byPlatform = new Map<string, Row[]>();
  for (const row of rows) byPlatform.set(row.platform, [...(byPlatform.get(row.platform) ?? []), row]);
  for (const [platformId, platformRows] of byPlatform) {
    const platform = stack.credentials.platforms.find((p) => p.id === platformId)!;
    const body = JSON.stringify({
      signals: platformRows.map((row) => ({ account: row.account, type: row.type, value: hashed(row.label), observedAt: row.observedAt ?? OBSERVED_AT })),
      accounts: accounts[platformId] ?? [],
    });
    const response = await postSigned(stack.baseUrl, platform, body);
    if (response.status !== 202) throw new Error(`posting signals failed: ${response.status} ${await response.text()}`);
  }
}

/** Posts the scenario and runs detection once. */
export async function seedScenario(stack: TestStack): Promise<void> {
  await postRows(stack, [...ACTOR, ...OTHER_PAIR, ...NAT], {
    chatapp: [
      { account: 'a-1', createdAt: '2026-10-01T10:00:00Z', minorContacts7d: 14, reports30d: 2 },
      { account: 'a-2', createdAt: '2026-10-01T11:00:00Z', minorContacts7d: 9 },
    ],
  });
  await stack.waitForDrain();
  await detect(stack);
}

/** Runs detection and waits for it to succeed. */
export async function detect(stack: TestStack): Promise<string> {
  const response = await fetch(`${stack.baseUrl}/v1/detect`, { method: 'POST', headers: investigatorHeaders(stack) });
  const { runId } = (await response.json()) as { runId: string };
  const run = await stack.waitForRun(runId);
  if (run.status !== 'succeeded') throw new Error(`detection run ${runId} ended ${run.status}: ${run.error}`);
  return runId;
}

/** A call as an investigator; the body is parsed when it is JSON. */
export async function call(stack: TestStack, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { ...investigatorHeaders(stack), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (an export): keep the text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
