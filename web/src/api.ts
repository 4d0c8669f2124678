/**
 * The console's one door to the API: the investigator token from sessionStorage as a bearer token,
 * errors turned into {@link ApiError}s whose message says what to do.
 */

const TOKEN_KEY = 'crosslink.token';
const REVIEWER_KEY = 'crosslink.reviewer';

/** The signed-in investigator, kept for this browser tab only. */
export interface Session {
  token: string;
  /** The name the investigator gave (for the audit log and "assign to me"); may be empty. */
  reviewer: string;
}

export function currentSession(): Session | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { token, reviewer: sessionStorage.getItem(REVIEWER_KEY) ?? '' } : null;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(TOKEN_KEY, session.token);
  sessionStorage.setItem(REVIEWER_KEY, session.reviewer);
}

export function clearSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(REVIEWER_KEY);
}

/** A failed API call: `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function send(method: string, path: string, body?: unknown, session: Session | null = currentSession()): Promise<Response> {
  if (!session) throw new ApiError(401, 'You are not signed in: sign in with the investigator token.');
  const headers: Record<string, string> = { authorization: `Bearer ${session.token}` };
  // Percent-encoded: a header carries only Latin-1, and fetch refused a name like Łukasz before sending anything.
  if (session.reviewer) headers['x-crosslink-reviewer'] = encodeURIComponent(session.reviewer);
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'The Crosslink server did not answer: check that `npm start` is still running, then retry.');
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = ((await response.json()) as { error?: string }).error ?? message;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 401) message = `Your token was not accepted (${message}). Sign in again.`;
    throw new ApiError(response.status, message);
  }
  return response;
}

export async function getJson<T>(path: string, session?: Session): Promise<T> {
  return (await send('GET', path, undefined, session)).json() as Promise<T>;
}

export async function sendJson<T>(method: 'POST' | 'PATCH', path: string, body: unknown): Promise<T> {
  return (await send(method, path, body)).json() as Promise<T>;
}

/** Fetches a file from the API and offers it as a download under the server's file name. */
export async function download(path: string): Promise<{ fileName: string; text: string }> {
  const response = await send('GET', path);
  const disposition = response.headers.get('content-disposition') ?? '';
  const fileName = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'crosslink-export';
  const text = await response.text();
  const url = URL.createObjectURL(new Blob([text], { type: response.headers.get('content-type') ?? 'application/octet-stream' }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { fileName, text };
}
