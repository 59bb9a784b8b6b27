import { jwtVerify, SignJWT } from 'jose';
import { createSecretKey } from 'node:crypto';

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
    }
  | { kind: 'patient'; userId: string; email: string; sessionId: string | null };

const ISSUER = 'consilium';
export const SESSION_COOKIE = 'consilium_session';
export const REFRESH_COOKIE = 'consilium_refresh';
/** Readable by the page (not httpOnly): echoed in `X-CSRF-Token` on cookie-authenticated writes. */
export const CSRF_COOKIE = 'consilium_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** What a verified token claims; the session store decides whether it still holds. */
export type Claims =
  | { type: 'link'; siteId: string; userId: string | null }
  | { type: 'access'; userId: string; sessionId: string }
  | { type: 'refresh'; userId: string; sessionId: string };

export interface Tokens {
  /**
   * A hospital sign-in link. No issue time or expiry, so the same account always gets the same link
   * (the demo prints it on every start); suspension of the site or removal of the account ends it.
   */
  hospitalLink(siteId: string, userId?: string): Promise<string>;
  /** A short-lived token naming a session, carried in the httpOnly session cookie. */
  access(userId: string, sessionId: string, seconds: number): Promise<string>;
  /** A longer-lived token that can only mint new access tokens for its session. */
  refresh(userId: string, sessionId: string, seconds: number): Promise<string>;
  /** The claims of a genuine, unexpired token, or null (tampered, expired, foreign). */
  verify(token: string): Promise<Claims | null>;
}

export function createTokens(secret: Uint8Array): Tokens {
  // Imported once: given raw bytes, jose imports the key again for every token it signs or checks.
  const key = createSecretKey(secret);
  const sign = (claims: Record<string, unknown>, sub: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setSubject(sub);
  return {
    hospitalLink: (siteId, userId) => sign({ role: 'hospital', ...(userId ? { uid: userId } : {}) }, siteId).sign(key),
    access: (userId, sessionId, seconds) =>
      sign({ typ: 'access', sid: sessionId }, userId).setIssuedAt().setExpirationTime(`${seconds}s`).sign(key),
    refresh: (userId, sessionId, seconds) =>
      sign({ typ: 'refresh', sid: sessionId }, userId).setIssuedAt().setExpirationTime(`${seconds}s`).sign(key),
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        if (!payload.sub) return null;
        if (payload.role === 'hospital') return { type: 'link', siteId: payload.sub, userId: typeof payload.uid === 'string' ? payload.uid : null };
        if ((payload.typ === 'access' || payload.typ === 'refresh') && typeof payload.sid === 'string' && payload.exp)
          return { type: payload.typ, userId: payload.sub, sessionId: payload.sid };
        return null;
      } catch {
        return null;
      }
    },
  };
}
