import { jwtVerify, SignJWT } from 'jose';

export type Principal =
  | { kind: 'admin'; userId: string; email: string }
  | { kind: 'hospital'; siteId: string };

const ISSUER = 'consilium';
export const SESSION_COOKIE = 'consilium_session';
export const ADMIN_SESSION_SECONDS = 12 * 3600;

export interface Tokens {
  /** A hospital's link token. No issue time, so the same site always gets the same link. */
  hospitalLink(siteId: string): Promise<string>;
  adminSession(userId: string, email: string): Promise<string>;
  verify(token: string): Promise<Principal | null>;
}

export function createTokens(key: Uint8Array): Tokens {
  return {
    hospitalLink: (siteId) =>
      new SignJWT({ role: 'hospital' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setSubject(siteId).sign(key),
    adminSession: (userId, email) =>
      new SignJWT({ role: 'platform_admin', email })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(ISSUER)
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(`${ADMIN_SESSION_SECONDS}s`)
        .sign(key),
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        if (!payload.sub) return null;
        if (payload.role === 'hospital') return { kind: 'hospital', siteId: payload.sub };
        if (payload.role === 'platform_admin' && typeof payload.email === 'string' && payload.exp)
          return { kind: 'admin', userId: payload.sub, email: payload.email };
        return null;
      } catch {
        return null;
      }
    },
  };
}
