import { and, eq, inArray, isNull } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { sessions, sites, users, type Role } from '../db/schema';
import type { Principal, Tokens } from './tokens';

export interface SessionOptions {
  /** Lifetime of the access token in the session cookie; the page refreshes it before it ends. */
  accessSeconds?: number;
  /** A session's absolute lifetime: refreshing never extends it past this. */
  sessionSeconds?: number;
}

const defaults: Required<SessionOptions> = { accessSeconds: 15 * 60, sessionSeconds: 7 * 24 * 3600 };

export interface IssuedSession {
  sessionId: string;
  access: string;
  refresh: string;
  /** The double-submit value for the CSRF cookie. */
  csrf: string;
  accessSeconds: number;
  refreshSeconds: number;
}

type UserRow = typeof users.$inferSelect;

/** The principal a user acts as, or null when the user may not act at all (suspended site). */
export function principalOf(user: Pick<UserRow, 'id' | 'email' | 'role' | 'siteId'>, sessionId: string | null, siteSuspended: boolean): Principal | null {
  switch (user.role) {
    case 'platform_admin':
      return { kind: 'admin', userId: user.id, email: user.email, sessionId };
    case 'patient':
      return { kind: 'patient', userId: user.id, email: user.email, sessionId };
    case 'site_admin':
    case 'staff':
      if (!user.siteId || siteSuspended) return null;
      return { kind: 'hospital', siteId: user.siteId, userId: user.id, email: user.email, role: user.role, sessionId };
  }
}

/**
 * Sessions live in the database, named by the tokens in the cookies: logout, a password reset or a
 * suspended site end them at once, whatever the tokens' own expiry says.
 */
export function createSessions(deps: { db: Db; tokens: Tokens; clock: Clock; options?: SessionOptions }) {
  const { db, tokens, clock } = deps;
  const opts = { ...defaults, ...deps.options };

  async function load(sessionId: string, userId: string): Promise<Principal | null> {
    const [row] = await db
      .select({ session: sessions, user: users, suspendedAt: sites.suspendedAt })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .leftJoin(sites, eq(sites.id, users.siteId))
      .where(eq(sessions.id, sessionId));
    if (!row || row.user.id !== userId || row.session.revokedAt || row.session.expiresAt.getTime() <= clock.now()) return null;
    return principalOf(row.user, sessionId, !!row.suspendedAt);
  }

  /*
   * Hospital link tokens are checked against their site's suspension at every request (a thousand
   * tabs uploading at once would make as many queries). One read of every site's state answers them
   * for SITE_STATES_MS; a suspension or reinstatement made through this server clears it at once
   * (`forgetSites`), so only a change made by another process can take that long to be seen here.
   */
  const SITE_STATES_MS = 1000;
  let siteStates: { at: number; suspended: Map<string, boolean> } | null = null;
  let loadingSites: Promise<void> | null = null;
  async function siteSuspended(siteId: string): Promise<boolean | undefined> {
    const fresh = () => siteStates && performance.now() - siteStates.at <= SITE_STATES_MS;
    // A site unknown to the last read may be new: read again.
    if (!fresh() || !siteStates!.suspended.has(siteId)) {
      loadingSites ??= db
        .select({ id: sites.id, suspendedAt: sites.suspendedAt })
        .from(sites)
        .then((rows) => {
          siteStates = { at: performance.now(), suspended: new Map(rows.map((r) => [r.id, !!r.suspendedAt])) };
        })
        .finally(() => (loadingSites = null));
      await loadingSites;
    }
    return siteStates?.suspended.get(siteId);
  }

  async function issue(sessionId: string, userId: string, expiresAt: Date): Promise<IssuedSession> {
    const refreshSeconds = Math.max(1, Math.floor((expiresAt.getTime() - clock.now()) / 1000));
    const accessSeconds = Math.min(opts.accessSeconds, refreshSeconds);
    return {
      sessionId,
      access: await tokens.access(userId, sessionId, accessSeconds),
      refresh: await tokens.refresh(userId, sessionId, refreshSeconds),
      csrf: randomBytes(18).toString('base64url'),
      accessSeconds,
      refreshSeconds,
    };
  }

  return {
    options: opts,

    /** Start a session for a user who has just proved who they are. */
    async start(userId: string): Promise<IssuedSession> {
      const sessionId = randomUUID();
      const expiresAt = new Date(clock.now() + opts.sessionSeconds * 1000);
      await db.insert(sessions).values({ id: sessionId, userId, expiresAt, createdAt: new Date(clock.now()) });
      return issue(sessionId, userId, expiresAt);
    },

    /** New tokens for a live session, from its refresh token; null once the session has ended. */
    async refresh(refreshToken: string): Promise<{ issued: IssuedSession; principal: Principal } | null> {
      const claims = await tokens.verify(refreshToken);
      if (claims?.type !== 'refresh') return null;
      const principal = await load(claims.sessionId, claims.userId);
      if (!principal) return null;
      const [s] = await db.select({ expiresAt: sessions.expiresAt }).from(sessions).where(eq(sessions.id, claims.sessionId));
      return { issued: await issue(claims.sessionId, claims.userId, s.expiresAt), principal };
    },

    /** Who a bearer or cookie token speaks for, checked against the database. */
    async authenticate(token: string): Promise<Principal | null> {
      const claims = await tokens.verify(token);
      if (!claims || claims.type === 'refresh') return null;
      if (claims.type === 'access') return load(claims.sessionId, claims.userId);
      const suspended = await siteSuspended(claims.siteId);
      if (suspended !== false) return null;
      if (!claims.userId) return { kind: 'hospital', siteId: claims.siteId, userId: null, email: null, role: 'staff', sessionId: null };
      const [user] = await db.select().from(users).where(eq(users.id, claims.userId));
      if (!user || user.siteId !== claims.siteId) return null;
      return principalOf(user, null, false);
    },

    async end(sessionId: string): Promise<void> {
      await db.update(sessions).set({ revokedAt: new Date(clock.now()) }).where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
    },

    /** A site was suspended or reinstated: forget what was read of the sites' states. */
    forgetSites(): void {
      siteStates = null;
    },

    /** End every session of some users (a password reset) or of everyone at a site (suspension). */
    async endAll(filter: { userId: string } | { siteId: string }): Promise<number> {
      const ids =
        'userId' in filter
          ? [filter.userId]
          : (await db.select({ id: users.id }).from(users).where(eq(users.siteId, filter.siteId))).map((u) => u.id);
      if (ids.length === 0) return 0;
      const ended = await db
        .update(sessions)
        .set({ revokedAt: new Date(clock.now()) })
        .where(and(inArray(sessions.userId, ids), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id });
      return ended.length;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;

/** Where each role lands after signing in. */
export function homeOf(role: Role): string {
  return role === 'platform_admin' ? '/admin' : role === 'patient' ? '/chat' : '/hospital';
}
