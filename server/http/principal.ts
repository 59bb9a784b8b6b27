import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { timingSafeEqual } from 'node:crypto';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { Sessions } from '../auth/sessions';
import { apiTokenRefusals, isApiTokenSecret, type ApiTokenCaller, type ApiTokens } from '../monitoring/apiTokens';
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, type Principal } from '../auth/tokens';
import { addressOf as peerOrForwarded } from './rateLimit';

export type AppEnv = {
  Variables: {
    principal: Principal | null;
    address: string;
    /** Why the request's sign-in link was refused (expired, revoked, …): the 401 says so, not just "sign in". */
    authRefusal?: string;
    /** A valid monitoring API token (`Bearer cst_…`); the principal stays null, so only the monitoring routes accept it. */
    apiToken?: ApiTokenCaller;
  };
};

export function bearerOf(header: string | undefined): string | null {
  const m = header?.match(/^Bearer\s+(\S+)$/i);
  return m ? m[1] : null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Who is calling: a hospital tab by its sign-in link (Authorization: Bearer), everyone else by the
 * session cookie. A write authenticated by the cookie must echo the CSRF cookie in `X-CSRF-Token`
 * (double submit): another site can make the browser send the cookie, but cannot read it.
 */
export function principalMiddleware(sessions: Pick<Sessions, 'check'>, apiTokens?: Pick<ApiTokens, 'check'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const bearer = bearerOf(c.req.header('authorization'));
    if (bearer && apiTokens && isApiTokenSecret(bearer)) {
      // An API token is no principal: every route but the monitoring ones answers it as it would a caller without one.
      const { token, refusal } = await apiTokens.check(bearer);
      if (token) c.set('apiToken', token);
      c.set('authRefusal', refusal ?? apiTokenRefusals.outOfScope);
      c.set('principal', null);
      return next();
    }
    const cookie = bearer ? undefined : getCookie(c, SESSION_COOKIE);
    const token = bearer ?? cookie ?? null;
    const { principal, refusal } = token ? await sessions.check(token) : { principal: null, refusal: null };
    if (refusal && bearer) c.set('authRefusal', refusal);
    if (principal && cookie && !SAFE_METHODS.has(c.req.method) && !sameSecret(c.req.header(CSRF_HEADER), getCookie(c, CSRF_COOKIE)))
      throw new ConsiliumError(ErrorCode.Forbidden, 'missing or wrong X-CSRF-Token header for a signed-in write', 403);
    c.set('principal', principal);
    await next();
  };
}

/**
 * Resolves the caller's address once per request: the peer, or behind `trustProxyHops` reverse
 * proxies the X-Forwarded-For entry the nearest trusted one appended. The rate limits and the audit
 * log read it through `addressOf`, so both follow TRUST_PROXY.
 */
export function addressMiddleware(trustProxyHops = 0): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('address', peerOrForwarded(c, trustProxyHops));
    await next();
  };
}

/** The caller's address as `addressMiddleware` resolved it (the peer where it did not run). */
export function addressOf(c: Context): string {
  return (c.get('address') as string | undefined) ?? peerOrForwarded(c, 0);
}

export function requireAny(c: Context<AppEnv>): Principal {
  const p = c.get('principal');
  if (!p) throw new ConsiliumError(ErrorCode.Unauthenticated, c.get('authRefusal') ?? 'sign in first', 401);
  return p;
}

export function requireAdmin(c: Context<AppEnv>) {
  const p = requireAny(c);
  if (p.kind !== 'admin') throw new ConsiliumError(ErrorCode.Forbidden, 'platform admins only', 403);
  return p;
}

export function requireHospital(c: Context<AppEnv>) {
  const p = c.get('principal');
  if (!p) throw new ConsiliumError(ErrorCode.Unauthenticated, c.get('authRefusal') ?? 'a hospital sign-in is required', 401);
  if (p.kind !== 'hospital') throw new ConsiliumError(ErrorCode.Forbidden, 'hospitals only', 403);
  return p;
}

/** Platform admins, or the site's own site admins. */
export function requireSiteManager(c: Context<AppEnv>, siteId: string) {
  const p = requireAny(c);
  if (p.kind === 'admin') return p;
  if (p.kind === 'hospital' && p.role === 'site_admin' && p.siteId === siteId) return p;
  throw new ConsiliumError(ErrorCode.Forbidden, 'platform admins and this site’s admins only', 403);
}

/** Hospital staff and admins: the people who work on studies, not patients. */
export function requireStaffOrAdmin(c: Context<AppEnv>) {
  const p = requireAny(c);
  if (p.kind === 'patient') throw new ConsiliumError(ErrorCode.Forbidden, 'patients reach the chatbot and approved models only', 403);
  return p;
}
