import type { ApiError, ErrorCode } from '../../shared/protocol';

/** An HTTP or Socket.IO failure carrying the server's stable error code. */
export class ApiRequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'network',
    message: string,
    readonly status: number = 0,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

/** Reads `{ error: { code, message } }` from a failed response, tolerating proxies that answer HTML. */
export async function readApiError(res: Response): Promise<ApiRequestError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: fall through to a generic message
  }
  const err = (body as { error?: Partial<ApiError> } | null)?.error;
  if (err && typeof err.code === 'string') {
    return new ApiRequestError(err.code as ErrorCode, err.message ?? err.code, res.status);
  }
  const code: ErrorCode = res.status === 401 ? 'unauthenticated' : res.status === 403 ? 'forbidden' : res.status === 404 ? 'not_found' : res.status >= 500 ? 'internal' : 'bad_request';
  return new ApiRequestError(code, `${res.status} ${res.statusText || 'request failed'}`.trim(), res.status);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Sent as JSON. */
  json?: unknown;
  /**
   * A hospital tab's credential: a sign-in link's token (sent as `Authorization: Bearer`), or, for a
   * tab signed in with a password, `sessionCredential()`. Omitted: the session cookie alone.
   */
  token?: string;
  signal?: AbortSignal;
}

const CSRF_COOKIE = 'consilium_csrf';
const CSRF_PREFIX = 'csrf:';

function readCookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined;
  const hit = document.cookie.split(/;\s*/).find((c) => c.startsWith(`${name}=`));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : undefined;
}

/**
 * The credential of a tab signed in by password, for code that cannot read cookies (the training
 * worker): the session cookie travels by itself, and this carries its CSRF value for writes.
 */
export function sessionCredential(): string {
  return `${CSRF_PREFIX}${readCookie(CSRF_COOKIE) ?? ''}`;
}

/**
 * Whether this browser may hold a password session: the server sets the (script-readable) CSRF cookie
 * with the session and refresh cookies, for the refresh token's lifetime, and clears it on sign-out.
 * Without it nobody is signed in, so pages skip `/api/auth/me`, whose 401 would be a console error on
 * every signed-out page load.
 */
export function maybeSignedIn(): boolean {
  return readCookie(CSRF_COOKIE) !== undefined;
}

/** Headers that authenticate a request: the link token, or the CSRF echo of the session cookie. */
export function authHeaders(token?: string): Record<string, string> {
  if (token?.startsWith(CSRF_PREFIX)) return { 'X-CSRF-Token': token.slice(CSRF_PREFIX.length) };
  if (token) return { Authorization: `Bearer ${token}` };
  const csrf = readCookie(CSRF_COOKIE);
  return csrf ? { 'X-CSRF-Token': csrf } : {};
}

/** Whether a credential is a sign-in link's token (as opposed to the session cookie). */
export const isLinkToken = (token?: string): token is string => !!token && !token.startsWith(CSRF_PREFIX);

let refreshing: Promise<boolean> | null = null;

/** Renew the session cookie from the refresh cookie; false when the session has ended. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Keep a signed-in page's session cookie fresh while it stays open (the access token lives 15 minutes). */
export function keepSessionAlive(everyMs = 5 * 60_000): () => void {
  const timer = setInterval(() => void refreshSession(), everyMs);
  return () => clearInterval(timer);
}

/** JSON request to the same-origin API; throws ApiRequestError on a non-2xx answer or a network failure. */
export async function apiFetch<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const send = async (): Promise<Response> => {
    const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(opts.token) };
    if (opts.json !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(path, {
        method: opts.method ?? (opts.json !== undefined ? 'POST' : 'GET'),
        headers,
        body: opts.json !== undefined ? JSON.stringify(opts.json) : undefined,
        credentials: 'same-origin',
        signal: opts.signal,
      });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new ApiRequestError('network', `Cannot reach the server (${(e as Error).message})`);
    }
  };
  let res = await send();
  // An expired session cookie is renewed once from the refresh cookie, then the request is retried.
  if (res.status === 401 && !isLinkToken(opts.token) && !path.startsWith('/api/auth/') && (await refreshSession())) res = await send();
  if (!res.ok) throw await readApiError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function isUnauthenticated(e: unknown): boolean {
  return e instanceof ApiRequestError && (e.status === 401 || e.code === 'unauthenticated');
}
