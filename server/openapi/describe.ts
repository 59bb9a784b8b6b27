import { describeRoute, resolver, type DescribeRouteOptions, type ResponsesWithResolver } from 'hono-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';

/**
 * A route's entry in the OpenAPI document (GET /api/openapi.json), attached where the route is
 * defined: `.get('/:id', doc({ ... }), handler)`. Parameters and bodies come from the same zod
 * schemas the handler checks them with, so the document cannot drift from the code; the
 * completeness test (openapi.integration.test.ts) fails on a route that has no `doc`.
 */

/** Who may call a route, as the handler's `require…` check says. */
export type Access =
  /** Anyone, signed in or not. */
  | 'public'
  /** Any signed-in account (requireAny). */
  | 'signedIn'
  /** Hospital staff and platform admins, not patients (requireStaffOrAdmin). */
  | 'staff'
  /** Platform admins (requireAdmin). */
  | 'admin'
  /** A hospital's tab or account (requireHospital). */
  | 'hospital'
  /** Platform admins and the site's own site admins (requireSiteManager). */
  | 'siteManager'
  /** A signed-in patient account. */
  | 'patient'
  /** Platform admins, or an admin-issued read-only API token (monitoring). */
  | 'monitor'
  /** Prometheus's scrape: the METRICS_TOKEN bearer when one is set; else this machine or a platform admin. */
  | 'metrics';

const accessText: Record<Access, string> = {
  public: 'Public: no sign-in needed.',
  signedIn: 'Any signed-in account.',
  staff: 'Hospital staff (of an enrolled site) and platform admins; not patients.',
  admin: 'Platform admins only.',
  hospital: "A hospital's sign-in (link or account) only.",
  siteManager: "Platform admins and the site's own site admins.",
  patient: 'Signed-in patient accounts only.',
  monitor: 'Platform admins, or a read-only API token an admin created.',
  metrics: 'With METRICS_TOKEN set, that bearer token only; without it, requests from this machine (no proxy) and platform admins.',
};

// Names of the schemes in components.securitySchemes (see document.ts). Writes that use the session
// cookie must also send the CSRF header: document.ts adds it to every non-GET operation.
const session = { session: [] };
const hospitalLink = { hospitalLink: [] };
const securityOf: Record<Access, Record<string, string[]>[]> = {
  public: [],
  signedIn: [session, hospitalLink],
  staff: [session, hospitalLink],
  admin: [session],
  hospital: [session, hospitalLink],
  siteManager: [session, hospitalLink],
  patient: [session],
  monitor: [session, { apiToken: [] }],
  metrics: [{ metricsToken: [] }, session, {}],
};

export interface RouteDoc {
  /** The reference page's section. */
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  /** Path parameters, with the schemas the handler reads them with (`pathParam`). */
  params?: Record<string, z.ZodType>;
  /** Query parameters: the object schema the handler reads them with (`queryParams`). */
  query?: z.ZodObject;
  /** A JSON body, with the schema the handler parses it with. */
  body?: z.ZodType;
  /** A binary (application/octet-stream) body: what it holds. */
  binaryBody?: string;
  /** Request headers the route reads, with their meaning. */
  headers?: Record<string, { description: string; required?: boolean; schema?: z.ZodType }>;
  /** The success status (default 200). */
  status?: number;
  /**
   * The success body: its zod schema; or, where the payload is only a TypeScript interface, a
   * sentence naming it (a JSON body without a schema); `binary` for application/octet-stream.
   */
  response: z.ZodType | string | { binary: string } | { text: string; type?: string } | { empty: string };
  /** The same answer is also given as CSV (`?format=csv` or Accept: text/csv): what it holds. */
  csv?: string;
  /** Further answers beyond the usual 400/401/403/404 this helper adds (a 3xx has no body). */
  errors?: Record<number, string>;
}

/** A JSON schema for a parameter, from the zod schema that reads it (its input side: the raw string). */
function parameterSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

function parameters(d: RouteDoc) {
  const list: Record<string, unknown>[] = [];
  for (const [name, schema] of Object.entries(d.params ?? {})) list.push({ in: 'path', name, required: true, schema: parameterSchema(schema) });
  if (d.query) {
    const json = parameterSchema(d.query) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = schema;
      list.push({ in: 'query', name, required: json.required?.includes(name) ?? false, schema: rest, ...(description ? { description } : {}) });
    }
  }
  for (const [name, h] of Object.entries(d.headers ?? {}))
    list.push({ in: 'header', name, required: h.required ?? false, description: h.description, schema: h.schema ? parameterSchema(h.schema) : { type: 'string' } });
  return list;
}

const errorRef = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiError' } } } });

const binary = { type: 'string' as const, contentMediaType: 'application/octet-stream' };

function success(r: RouteDoc['response']): ResponsesWithResolver[string] {
  if (typeof r === 'string') return { description: r, content: { 'application/json': {} } };
  if ('binary' in r && typeof r.binary === 'string') return { description: r.binary, content: { 'application/octet-stream': { schema: binary } } };
  if ('text' in r && typeof r.text === 'string') return { description: r.text, content: { [r.type ?? 'text/plain']: { schema: { type: 'string' } } } };
  if ('empty' in r && typeof r.empty === 'string') return { description: r.empty };
  // What the route sends: the schema's output side (defaults applied, transforms done).
  return { description: 'Success.', content: { 'application/json': { schema: resolver(r as z.ZodType, { options: { io: 'output' } }) } } };
}

function responses(d: RouteDoc): ResponsesWithResolver {
  const ok = success(d.response);
  if (d.csv && 'content' in ok && ok.content) ok.content['text/csv'] = { schema: { type: 'string', description: d.csv } };
  const out: ResponsesWithResolver = { [String(d.status ?? 200)]: ok };
  if (d.params || d.query || d.body || d.binaryBody || d.headers) out['400'] = errorRef('A parameter or the body is not valid: the message says which and why.');
  if (d.access !== 'public') {
    out['401'] = errorRef('Not signed in, or the session or sign-in link has ended.');
    out['403'] = errorRef(`Signed in, but not allowed. ${accessText[d.access]}`);
  }
  if (d.params) out['404'] = errorRef('Nothing found under that path.');
  for (const [status, description] of Object.entries(d.errors ?? {})) out[status] = Number(status) < 400 ? { description } : errorRef(description);
  return out;
}

function requestBody(d: RouteDoc): DescribeRouteOptions['requestBody'] {
  if (d.body) return { required: true, content: { 'application/json': { schema: resolver(d.body) } } };
  if (d.binaryBody) return { required: true, description: d.binaryBody, content: { 'application/octet-stream': { schema: binary } } };
  return undefined;
}

/** The route's description for the OpenAPI document: a middleware that does nothing at run time. */
export function doc(d: RouteDoc): MiddlewareHandler {
  const description = [d.description, accessText[d.access]].filter(Boolean).join('\n\n');
  return describeRoute({
    tags: [d.tag],
    summary: d.summary,
    description,
    security: securityOf[d.access],
    parameters: parameters(d) as DescribeRouteOptions['parameters'],
    requestBody: requestBody(d),
    responses: responses(d),
    'x-access': d.access,
  } as DescribeRouteOptions);
}
