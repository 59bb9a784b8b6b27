import type { Context } from 'hono';
import type { z } from 'zod';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';

/**
 * Path and query parameters, checked against their zod schemas (shared/protocol/schemas.ts) before
 * a route uses them. A violation is a 400 `bad_request` that names the parameter, says why and
 * echoes (the start of) what was sent; without this, a bare `schema.parse` would be reported as
 * `body: ...`, and an unchecked `Number()` reaches the database as NaN or an integer overflow.
 */

/** A refused parameter: the route may record the refusal (an upload's round does) before it is answered. */
export class BadParameterError extends ConsiliumError {
  constructor(
    readonly parameter: string,
    readonly raw: string | undefined,
    reason: string,
    where: 'path' | 'query',
  ) {
    super(ErrorCode.BadRequest, `${where} parameter ${parameter}: ${reason}${raw === undefined ? '' : ` (got '${shown(raw)}')`}`, 400);
    this.name = 'BadParameterError';
  }
}

/** URLs are short, but a message need not repeat a long one whole. */
function shown(raw: string): string {
  return raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
}

function reasonOf(error: z.ZodError): string {
  return [...new Set(error.issues.map((i) => i.message))].join('; ');
}

/** The path parameter `name`, parsed by `schema`. */
export function pathParam<S extends z.ZodType<unknown, string>>(c: Context, name: string, schema: S): z.output<S> {
  const raw = c.req.param(name) as string | undefined;
  const parsed = schema.safeParse(raw ?? '');
  if (!parsed.success) throw new BadParameterError(name, raw, reasonOf(parsed.error), 'path');
  return parsed.data;
}

/** The query string (first value of each key), parsed by an object schema; the first key that fails is named. */
export function queryParams<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const raw = c.req.query();
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const key = String(parsed.error.issues[0].path[0] ?? 'query');
  const issues = parsed.error.issues.filter((i) => String(i.path[0] ?? 'query') === key);
  throw new BadParameterError(key, raw[key], [...new Set(issues.map((i) => i.message))].join('; '), 'query');
}
