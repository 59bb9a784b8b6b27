import { and, eq, inArray, sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { users } from '../db/schema';
import type { Sessions } from './sessions';
import type { Tokens } from './tokens';

/** A hospital sign-in link as it is handed out: shown once, never stored. */
export interface HospitalLink {
  token: string;
  expiresAt: Date;
}

/** The accounts a sign-in link may name: a site's staff and site admins. */
const LINK_ROLES = ['staff', 'site_admin'] as const;

/**
 * Hospital sign-in links of staff accounts: made at the account's current link generation
 * (`users.link_epoch`), revoked by moving it on. Nothing about a link is stored but that number, so a
 * lost link cannot be shown again, only replaced.
 */
export function createLinks(deps: { db: Db; tokens: Tokens; clock: Clock; sessions: Pick<Sessions, 'forgetLinks'> }) {
  const { db, tokens, clock, sessions } = deps;
  const sign = async (siteId: string, userId: string | null, epoch: number): Promise<HospitalLink> => {
    const token = await tokens.hospitalLink(siteId, userId ?? undefined, epoch);
    return { token, expiresAt: new Date(decodeJwt(token).exp! * 1000) };
  };
  const hospitalAccount = (siteId: string, userId: string) => and(eq(users.id, userId), eq(users.siteId, siteId), inArray(users.role, [...LINK_ROLES]));

  return {
    /**
     * A fresh link at the account's current generation, leaving its earlier links as they are (the
     * demo mints new ones at every start; older ones run out by themselves). Without `userId`, a
     * site-wide machine link (in-process hospitals only). Null when the account is not the site's.
     */
    async issue(siteId: string, userId?: string | null): Promise<HospitalLink | null> {
      if (!userId) return sign(siteId, null, 0);
      const [user] = await db.select({ epoch: users.linkEpoch }).from(users).where(hospitalAccount(siteId, userId));
      return user ? sign(siteId, userId, user.epoch) : null;
    },

    /** End every link of the account; false when it is not a hospital account of that site. */
    async revoke(siteId: string, userId: string): Promise<boolean> {
      return (await bump(db, clock, hospitalAccount(siteId, userId), sessions, userId)) !== null;
    },

    /** End every link of the account and make a new one, in one step (the only live link after it). */
    async reissue(siteId: string, userId: string): Promise<HospitalLink | null> {
      const epoch = await bump(db, clock, hospitalAccount(siteId, userId), sessions, userId);
      return epoch === null ? null : sign(siteId, userId, epoch);
    },
  };
}

export type Links = ReturnType<typeof createLinks>;

/** Move an account's link generation on; one statement, so two revokes never hand out the same generation. */
async function bump(db: Db, clock: Clock, where: ReturnType<typeof and>, sessions: Pick<Sessions, 'forgetLinks'> | null, userId: string): Promise<number | null> {
  const [row] = await db
    .update(users)
    .set({ linkEpoch: sql`${users.linkEpoch} + 1`, linksRevokedAt: new Date(clock.now()) })
    .where(where)
    .returning({ epoch: users.linkEpoch });
  sessions?.forgetLinks(userId);
  return row?.epoch ?? null;
}

/** End every sign-in link of any account (a password reset); the server reading the account sees it within a second. */
export async function revokeAccountLinks(db: Db, clock: Clock, userId: string, sessions?: Pick<Sessions, 'forgetLinks'>): Promise<boolean> {
  return (await bump(db, clock, eq(users.id, userId), sessions ?? null, userId)) !== null;
}
