// The dashboard's only back end is the admin API (issue 20): same-origin requests carrying the
// session cookie (set by POST /v1/dashboard/session), and the session's CSRF token in
// `x-csrf-token` on every state-changing call (synchronizer token; see docs of the session routes).

/** An error answer of the API: its HTTP status, the stable code and the message of the error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onSignedOut: () => void = () => undefined;

/** Called when any request answers 401: the session expired or was revoked. */
export function whenSignedOut(f: () => void): void {
  onSignedOut = f;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** One call to the API: JSON in and out; a non-2xx answer throws ApiError. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (STATE_CHANGING.has(method) && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  const json: unknown = text === '' ? null : JSON.parse(text);
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | null)?.error;
    if (res.status === 401 && !path.startsWith('/v1/dashboard/session')) {
      csrfToken = null;
      onSignedOut();
    }
    throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `${method} ${path} answered ${res.status}`);
  }
  return json as T;
}

/** Whether the browser holds a live session (GET /v1/dashboard/session); keeps its CSRF token. */
export async function checkSession(): Promise<boolean> {
  try {
    csrfToken = (await api<{ csrfToken: string }>('GET', '/v1/dashboard/session')).csrfToken;
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return false;
    throw e;
  }
}

/** Signs in with the admin key; the server sets the HttpOnly cookie, the page keeps only the CSRF token. */
export async function signIn(key: string): Promise<void> {
  csrfToken = (await api<{ csrfToken: string }>('POST', '/v1/dashboard/session', { key })).csrfToken;
}

export async function signOut(): Promise<void> {
  await api('DELETE', '/v1/dashboard/session');
  csrfToken = null;
}

/** The message to show for a failed call. */
export const describeError = (e: unknown): string =>
  e instanceof ApiError ? `${e.message} (${e.code})` : e instanceof Error ? e.message : String(e);
