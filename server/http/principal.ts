import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { SESSION_COOKIE, type Principal, type Tokens } from '../auth/tokens';

export type AppEnv = { Variables: { principal: Principal | null } };

export function bearerOf(header: string | undefined): string | null {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  return m ? m[1] : null;
}

/** Who is calling: a hospital by its link token (Authorization header), an admin by session cookie. */
export function principalMiddleware(tokens: Tokens): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerOf(c.req.header('authorization')) ?? getCookie(c, SESSION_COOKIE) ?? null;
    c.set('principal', token ? await tokens.verify(token) : null);
    await next();
  };
}

export function requireAdmin(c: Context<AppEnv>) {
  const p = c.get('principal');
  if (!p) throw new ConsiliumError(ErrorCode.Unauthenticated, 'sign in first', 401);
  if (p.kind !== 'admin') throw new ConsiliumError(ErrorCode.Forbidden, 'platform admins only', 403);
  return p;
}

export function requireHospital(c: Context<AppEnv>) {
  const p = c.get('principal');
  if (!p) throw new ConsiliumError(ErrorCode.Unauthenticated, 'a hospital link token is required', 401);
  if (p.kind !== 'hospital') throw new ConsiliumError(ErrorCode.Forbidden, 'hospitals only', 403);
  return p;
}

export function requireAny(c: Context<AppEnv>) {
  const p = c.get('principal');
  if (!p) throw new ConsiliumError(ErrorCode.Unauthenticated, 'sign in first', 401);
  return p;
}
