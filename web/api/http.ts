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
  /** A hospital's link token, sent as `Authorization: Bearer`. Admin requests rely on the session cookie. */
  token?: string;
  signal?: AbortSignal;
}

export function authHeaders(token?: string): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** JSON request to the same-origin API; throws ApiRequestError on a non-2xx answer or a network failure. */
export async function apiFetch<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(opts.token) };
  if (opts.json !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
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
  if (!res.ok) throw await readApiError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function isUnauthenticated(e: unknown): boolean {
  return e instanceof ApiRequestError && (e.status === 401 || e.code === 'unauthenticated');
}
