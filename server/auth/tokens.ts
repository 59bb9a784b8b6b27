import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { createSecretKey } from 'node:crypto';
import { systemClock, type Clock } from '../clock';

/** Who is calling, as every route and Socket.IO event sees it. */
export type Principal =
  | { kind: 'admin'; userId: string; email: string; sessionId: string | null }
  | {
      kind: 'hospital';
      siteId: string;
      /** Staff or site admin; null only for a site-wide machine link (the simulation's in-process hospitals). */
      userId: string | null;
      email: string | null;
      role: 'site_admin' | 'staff';
      sessionId: string | null;
      /** Set when the caller came with a sign-in link (not a session): when that link ends (ms). */
      linkExpiresAt?: number;
    }
  | { kind: 'patient'; userId: string; email: string; sessionId: string | null };

const ISSUER = 'consilium';
export const SESSION_COOKIE = 'consilium_session';
export const REFRESH_COOKIE = 'consilium_refresh';
/** Readable by the page (not httpOnly): echoed in `X-CSRF-Token` on cookie-authenticated writes. */
export const CSRF_COOKIE = 'consilium_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * What a verified token claims; the session store decides whether it still holds. A link past its
 * expiry is still reported (with `expired`), so the hospital page can say why it no longer works.
 */
export type Claims =
  | { type: 'link'; siteId: string; userId: string | null; epoch: number; expiresAt: number; expired: boolean }
  | { type: 'access'; userId: string; sessionId: string }
  | { type: 'refresh'; userId: string; sessionId: string };

export interface Tokens {
  /**
   * A hospital sign-in link: for a staff account (`userId`), or, without one, a site-wide machine link
   * (the simulation's and benchmarks' in-process hospitals). It expires after `linkSeconds` and names
   * the account's link generation (`epoch`, `users.link_epoch`): moving that on (revoke, re-issue,
   * password reset) ends it, and so do the site's suspension and the account's removal.
   */
  hospitalLink(siteId: string, userId?: string, epoch?: number): Promise<string>;
  /** How long a new hospital link lasts, in seconds. */
  readonly linkSeconds: number;
  /** A short-lived token naming a session, carried in the httpOnly session cookie. */
  access(userId: string, sessionId: string, seconds: number): Promise<string>;
  /** A longer-lived token that can only mint new access tokens for its session. */
  refresh(userId: string, sessionId: string, seconds: number): Promise<string>;
  /** The claims of a genuine, unexpired token, or null (tampered, expired, foreign). */
  verify(token: string): Promise<Claims | null>;
}

/** How long a hospital sign-in link lasts unless told (`HOSPITAL_LINK_DAYS`). */
export const DEFAULT_LINK_DAYS = 30;

export interface TokenOptions {
  /** Issue and expiry times come from it, and expiry is checked against it (tests move it on). */
  clock?: Clock;
  /** Lifetime of a new hospital sign-in link; DEFAULT_LINK_DAYS unless told. */
  linkSeconds?: number;
}

function linkClaims(payload: JWTPayload, expired: boolean): Claims | null {
  // A link from before links expired (no `exp`, no generation) is refused like a forged one.
  if (!payload.sub || typeof payload.exp !== 'number' || typeof payload.gen !== 'number' || !Number.isInteger(payload.gen)) return null;
  return { type: 'link', siteId: payload.sub, userId: typeof payload.uid === 'string' ? payload.uid : null, epoch: payload.gen, expiresAt: payload.exp * 1000, expired };
}

export function createTokens(secret: Uint8Array, options: TokenOptions = {}): Tokens {
  const clock = options.clock ?? systemClock;
  const linkSeconds = options.linkSeconds ?? DEFAULT_LINK_DAYS * 24 * 3600;
  // Imported once: given raw bytes, jose imports the key again for every token it signs or checks.
  const key = createSecretKey(secret);
  const sign = (claims: Record<string, unknown>, sub: string, seconds: number) => {
    const now = Math.floor(clock.now() / 1000);
    return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setSubject(sub).setIssuedAt(now).setExpirationTime(now + seconds).sign(key);
  };
  return {
    linkSeconds,
    hospitalLink: (siteId, userId, epoch = 0) => sign({ role: 'hospital', gen: epoch, ...(userId ? { uid: userId } : {}) }, siteId, linkSeconds),
    access: (userId, sessionId, seconds) => sign({ typ: 'access', sid: sessionId }, userId, seconds),
    refresh: (userId, sessionId, seconds) => sign({ typ: 'refresh', sid: sessionId }, userId, seconds),
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'], currentDate: new Date(clock.now()) });
        if (!payload.sub) return null;
        if (payload.role === 'hospital') return linkClaims(payload, false);
        if ((payload.typ === 'access' || payload.typ === 'refresh') && typeof payload.sid === 'string' && payload.exp)
          return { type: payload.typ, userId: payload.sub, sessionId: payload.sid };
        return null;
      } catch (err) {
        // jose checks the signature before the claims: an expired token's payload is genuine.
        if (err instanceof errors.JWTExpired && err.payload.role === 'hospital' && err.payload.iss === ISSUER) return linkClaims(err.payload, true);
        return null;
      }
    },
  };
}
