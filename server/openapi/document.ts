import type { Hono } from 'hono';
import { generateSpecs } from 'hono-openapi';
import { z } from 'zod';
import { ErrorCode } from '../../shared/protocol/errors';
import { CSRF_HEADER, SESSION_COOKIE } from '../auth/tokens';

/** `{ error: { code, message } }`: every HTTP error's body (server/http/errors.ts). */
export const apiErrorSchema = z.object({
  error: z.object({
    code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]).describe('Stable: clients may branch on it.'),
    message: z.string().describe('For people: says what was wrong and, where it helps, what to do.'),
  }),
});

/** The reference page's sections, in order. */
const tags = [
  { name: 'Operations', description: 'Health, Prometheus metrics and this document.' },
  { name: 'Monitoring', description: 'The open rounds, latest metrics, metrics history and connected sites, for monitoring tools.' },
  { name: 'API tokens', description: 'Read-only tokens for monitoring tools: created, listed and revoked by platform admins.' },
  { name: 'Sign-in', description: 'Sessions (cookies), who am I, and redeeming an invite.' },
  { name: 'Studies', description: 'Studies, their dashboards and data quality.' },
  { name: 'Study administration', description: 'Create, enrol, reconfigure, pause, resume, stop and restart studies.' },
  { name: 'Rounds', description: "A round's detail, and hospitals' uploads of updates (binary)." },
  { name: 'Models', description: 'Model versions, their evaluation and approval, and downloads.' },
  { name: 'Sites', description: 'Hospital sites, their people and sign-in links.' },
  { name: 'Invites', description: 'Single-use enrolment codes.' },
  { name: 'Audit', description: 'The audit log.' },
  { name: 'Patients', description: "The patient page's public risk model and a patient's stored chats." },
];

export interface DocumentOptions {
  version: string;
}

/**
 * zod writes each string format (email, date-time, uuid) as the format and its own regex for it. The
 * format says the rule; the regex only makes the reference page's examples unreadable.
 */
function dropFormatPatterns(node: unknown): void {
  if (Array.isArray(node)) node.forEach(dropFormatPatterns);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.format === 'string' && typeof o.pattern === 'string') delete o.pattern;
    Object.values(o).forEach(dropFormatPatterns);
  }
}

/** Paths grouped in the order of `tags` (the reference page lists sections as paths first name them); else in registration order. */
function inTagOrder<T extends Record<string, Record<string, { tags?: string[] } | undefined>>>(paths: T): T {
  const rank = (item: Record<string, { tags?: string[] } | undefined>) =>
    Math.min(...Object.values(item).map((op) => tags.findIndex((t) => op?.tags?.[0] === t.name)).map((i) => (i < 0 ? tags.length : i)));
  return Object.fromEntries(Object.entries(paths).sort(([, a], [, b]) => rank(a) - rank(b))) as T;
}

/** Cookie-authenticated writes must echo the CSRF cookie (server/http/principal.ts): say so per operation. */
function requireCsrfOnWrites(paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>) {
  for (const item of Object.values(paths))
    for (const [method, op] of Object.entries(item)) {
      if (method === 'get' || method === 'head' || !op?.security) continue;
      op.security = op.security.map((s) => ('session' in s ? { ...s, csrf: [] } : s));
    }
}

/** The OpenAPI 3.1 document of every route of `app` described with `doc(...)`. */
export async function buildOpenApiDocument(app: Hono<any>, options: DocumentOptions) {
  const spec = await generateSpecs(app, {
    excludeStaticFile: false,
    documentation: {
      openapi: '3.1.0',
      info: {
        title: 'Consilium API',
        version: options.version,
        description:
          'Browser-native federated learning for hospitals. Errors are JSON `{ error: { code, message } }` with a fitting status. ' +
          'Control messages travel over Socket.IO (not described here); models and updates travel over these routes.',
      },
      tags,
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The session cookie set by POST /api/auth/login.' },
          csrf: { type: 'apiKey', in: 'header', name: CSRF_HEADER, description: 'A write authenticated by the session cookie echoes the consilium_csrf cookie in this header.' },
          hospitalLink: { type: 'http', scheme: 'bearer', description: "A hospital tab's sign-in link token." },
          apiToken: { type: 'http', scheme: 'bearer', description: 'A read-only monitoring token (cst_…) created by a platform admin in the console.' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'The METRICS_TOKEN the server was started with, for Prometheus.' },
        },
        schemas: { ApiError: z.toJSONSchema(apiErrorSchema, { target: 'draft-2020-12' }) as Record<string, unknown> },
      },
    },
  });
  requireCsrfOnWrites(spec.paths as Parameters<typeof requireCsrfOnWrites>[0]);
  dropFormatPatterns(spec.paths);
  spec.paths = inTagOrder(spec.paths as Record<string, Record<string, { tags?: string[] } | undefined>>) as typeof spec.paths;
  const { $schema: _, ...apiError } = spec.components.schemas!.ApiError as Record<string, unknown>;
  spec.components.schemas!.ApiError = apiError;
  return spec;
}
