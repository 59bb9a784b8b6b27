import type { Hono } from 'hono';

/** `GET /api/studies/{id}`: a route as the OpenAPI document names it. */
export interface RouteKey {
  method: string;
  path: string;
}

/**
 * Routes that are not part of the REST API: the SPA's catch-all (every client-side page loads
 * index.html) and the plain-text root served when no SPA is built. Socket.IO is attached to the
 * HTTP server, not to Hono, so it never appears among the routes.
 */
const NOT_API = new Set(['GET *', 'GET /*', 'GET /']);

/** Hono's `/:id` or `/:id{[0-9]+}` as OpenAPI's `/{id}`. */
export function openApiPath(honoPath: string): string {
  return honoPath
    .split('/')
    .map((segment) => (segment.startsWith(':') ? `{${segment.slice(1).replace(/\{.*\}$/, '').replace(/\?$/, '')}}` : segment))
    .join('/');
}

/** Every method and path the app answers, each once; middleware (`use`, `all`) is not a route. */
export function registeredRoutes(app: Hono<any>): RouteKey[] {
  const seen = new Map<string, RouteKey>();
  for (const r of app.routes) {
    if (r.method === 'ALL' || NOT_API.has(`${r.method} ${r.path}`)) continue;
    const key = { method: r.method.toLowerCase(), path: openApiPath(r.path) };
    seen.set(`${key.method} ${key.path}`, key);
  }
  return [...seen.values()];
}

/** The routes the document does not describe, as `GET /api/...` lines. */
export function undocumentedRoutes(app: Hono<any>, document: { paths?: Record<string, Record<string, unknown> | undefined> }): string[] {
  return registeredRoutes(app)
    .filter((r) => !document.paths?.[r.path]?.[r.method])
    .map((r) => `${r.method.toUpperCase()} ${r.path}`);
}
