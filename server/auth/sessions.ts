import { and, eq, inArray, isNull } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { sessions, sites, users, type Role } from '../db/schema';
import type { Claims, Principal, Tokens } from './tokens';

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

/** What checking a token found: who it speaks for, or, for a sign-in link, why it no longer does (said to the hospital page). */
export type Authentication = { principal: Principal; refusal?: undefined } | { principal: null; refusal: string | null };

/** The refusals a hospital page shows for its link, worded for the person holding it. */
export const linkRefusals = {
  invalid: 'this sign-in link is not valid (check that it was copied whole); ask your site admin or study coordinator for a new one',
  revoked: 'this sign-in link has been revoked; ask your site admin or study coordinator for a new one',
  expired: (at: number) => `this sign-in link expired on ${new Date(at).toISOString().slice(0, 10)}; ask your site admin or study coordinator for a new one`,
  suspended: 'this hospital site is suspended',
} as const;

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

  /*
   * A staff account's link is checked against the account (its site, role and link generation) at
   * every request too; each account's row is read at most once per LINK_USERS_MS for the same reason.
   * Revoking, re-issuing or a password reset through this server forgets the account at once
   * (`forgetLinks`); done by another process (the reset script), it is seen within LINK_USERS_MS.
   */
  const LINK_USERS_MS = 1000;
  type LinkUser = Pick<UserRow, 'id' | 'email' | 'role' | 'siteId' | 'linkEpoch'>;
  const linkUsers = new Map<string, { at: number; user: Promise<LinkUser | undefined> }>();
  function linkUser(userId: string): Promise<LinkUser | undefined> {
    const cached = linkUsers.get(userId);
    if (cached && performance.now() - cached.at <= LINK_USERS_MS) return cached.user;
    // Entries outlive their use only by a second; a full map is cleared rather than walked.
    if (linkUsers.size >= 10_000) linkUsers.clear();
    const user = db
      .select({ id: users.id, email: users.email, role: users.role, siteId: users.siteId, linkEpoch: users.linkEpoch })
      .from(users)
      .where(eq(users.id, userId))
      .then((rows) => rows[0]);
    linkUsers.set(userId, { at: performance.now(), user });
    user.catch(() => linkUsers.delete(userId));
    return user;
  }

  /** Who a link token speaks for, or why it does not. */
  async function checkLink(claims: Extract<Claims, { type: 'link' }>): Promise<Authentication> {
    const suspended = await siteSuspended(claims.siteId);
    if (suspended === undefined) return { principal: null, refusal: linkRefusals.invalid };
    if (!claims.userId) {
      if (claims.expired) return { principal: null, refusal: linkRefusals.expired(claims.expiresAt) };
      if (suspended) return { principal: null, refusal: linkRefusals.suspended };
      return { principal: { kind: 'hospital', siteId: claims.siteId, userId: null, email: null, role: 'staff', sessionId: null, linkExpiresAt: claims.expiresAt } };
    }
    const user = await linkUser(claims.userId);
    if (!user || user.siteId !== claims.siteId) return { principal: null, refusal: linkRefusals.invalid };
    // Revoked says more than expired: a newer link exists, and an older one is no use either way.
    if (claims.epoch !== user.linkEpoch) return { principal: null, refusal: linkRefusals.revoked };
    if (claims.expired) return { principal: null, refusal: linkRefusals.expired(claims.expiresAt) };
    if (suspended) return { principal: null, refusal: linkRefusals.suspended };
    const principal = principalOf(user, null, false);
    if (!principal || principal.kind !== 'hospital') return { principal: null, refusal: linkRefusals.invalid };
    return { principal: { ...principal, linkExpiresAt: claims.expiresAt } };
  }

  /** Who a bearer or cookie token speaks for, checked against the database; for a link, why not. */
  async function check(token: string): Promise<Authentication> {
    const claims = await tokens.verify(token);
    // Said to a link's holder only (a bearer token): a cookie that fails is simply no sign-in.
    if (!claims) return { principal: null, refusal: linkRefusals.invalid };
    if (claims.type === 'refresh') return { principal: null, refusal: null };
    if (claims.type === 'access') {
      const principal = await load(claims.sessionId, claims.userId);
      return principal ? { principal } : { principal: null, refusal: null };
    }
    return checkLink(claims);
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
      return (await check(token)).principal;
    },

    /** As `authenticate`, with the reason a sign-in link is refused (expired, revoked, …), for the 401 it gets. */
    check,

    async end(sessionId: string): Promise<void> {
      await db.update(sessions).set({ revokedAt: new Date(clock.now()) }).where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
    },

    /** A site was suspended or reinstated: forget what was read of the sites' states. */
    forgetSites(): void {
      siteStates = null;
    },

    /** An account's links were revoked or re-issued (or its password reset): read it again. */
    forgetLinks(userId: string): void {
      linkUsers.delete(userId);
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
