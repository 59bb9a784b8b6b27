import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createInviteSchema, type CreateInvite, type InvitePreview, type InviteView, type RedeemInvite } from '../../shared/protocol/accounts';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { invites, sites, users } from '../db/schema';
import { createUser } from './accounts';

export const hashCode = (code: string) => createHash('sha256').update(code).digest('hex');

export async function createInvite(db: Db, clock: Clock, input: CreateInvite, createdBy: string): Promise<{ id: string; code: string; expiresAt: Date; role: InviteView['role']; siteId: string | null }> {
  const v = createInviteSchema.parse(input);
  if (v.siteId) {
    const [site] = await db.select().from(sites).where(eq(sites.id, v.siteId));
    if (!site) throw new ConsiliumError(ErrorCode.NotFound, `no site ${v.siteId}`, 404);
    if (site.suspendedAt) throw new ConsiliumError(ErrorCode.Conflict, `${site.name} is suspended: reinstate it before inviting anyone`, 409);
  }
  const code = randomBytes(18).toString('base64url');
  const id = randomUUID();
  const expiresAt = new Date(clock.now() + v.expiresInHours * 3600_000);
  await db.insert(invites).values({ id, codeHash: hashCode(code), role: v.role, siteId: v.siteId ?? null, createdBy, expiresAt, createdAt: new Date(clock.now()) });
  return { id, code, expiresAt, role: v.role, siteId: v.siteId ?? null };
}

function statusOf(i: typeof invites.$inferSelect, now: number): InviteView['status'] {
  if (i.redeemedAt) return 'redeemed';
  if (i.revokedAt) return 'revoked';
  return i.expiresAt.getTime() <= now ? 'expired' : 'open';
}

export async function listInvites(db: Db, clock: Clock, siteId: string | null): Promise<InviteView[]> {
  const rows = await db
    .select({ i: invites, email: users.email })
    .from(invites)
    .leftJoin(users, eq(users.id, invites.redeemedBy))
    .where(siteId ? eq(invites.siteId, siteId) : isNull(invites.siteId))
    .orderBy(desc(invites.createdAt));
  return rows.map(({ i, email }) => ({
    id: i.id,
    role: i.role,
    siteId: i.siteId,
    createdBy: i.createdBy,
    createdAt: i.createdAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
    redeemedAt: i.redeemedAt?.toISOString() ?? null,
    redeemedBy: email,
    revokedAt: i.revokedAt?.toISOString() ?? null,
    status: statusOf(i, clock.now()),
  }));
}

/** Why an invite cannot be used, in words a person can act on; null when it can. */
async function refusal(db: Db, clock: Clock, code: string): Promise<{ invite: typeof invites.$inferSelect; site: typeof sites.$inferSelect | null } | string> {
  const [row] = await db.select({ i: invites, s: sites }).from(invites).leftJoin(sites, eq(sites.id, invites.siteId)).where(eq(invites.codeHash, hashCode(code)));
  if (!row) return 'this invite code is not valid';
  const status = statusOf(row.i, clock.now());
  if (status === 'redeemed') return 'this invite has already been used';
  if (status === 'revoked') return 'this invite was withdrawn';
  if (status === 'expired') return 'this invite has expired: ask for a new one';
  if (row.s?.suspendedAt) return 'this site is suspended';
  return { invite: row.i, site: row.s };
}

export async function previewInvite(db: Db, clock: Clock, code: string): Promise<InvitePreview> {
  const r = await refusal(db, clock, code);
  if (typeof r === 'string') throw new ConsiliumError(ErrorCode.Forbidden, r, 403);
  return { role: r.invite.role, site: r.site ? { id: r.site.id, name: r.site.name } : null, expiresAt: r.invite.expiresAt.toISOString() };
}

/**
 * Redeem a code: one account, once. The claim is a single conditional UPDATE, so two people racing
 * for the same code cannot both win; a taken email undoes the claim.
 */
export async function redeemInvite(db: Db, clock: Clock, input: RedeemInvite) {
  const r = await refusal(db, clock, input.code);
  if (typeof r === 'string') throw new ConsiliumError(ErrorCode.Forbidden, r, 403);
  return db.transaction(async (tx) => {
    const now = new Date(clock.now());
    const claimed = await tx
      .update(invites)
      .set({ redeemedAt: now })
      .where(and(eq(invites.id, r.invite.id), isNull(invites.redeemedAt), isNull(invites.revokedAt), gt(invites.expiresAt, now)))
      .returning({ id: invites.id });
    if (claimed.length === 0) throw new ConsiliumError(ErrorCode.Forbidden, 'this invite has already been used', 403);
    const [taken] = await tx.select({ id: users.id }).from(users).where(eq(users.email, input.email));
    if (taken) throw new ConsiliumError(ErrorCode.Conflict, 'an account with this email already exists: sign in instead', 409);
    const user = await createUser(tx as unknown as Db, { email: input.email, password: input.password, role: r.invite.role, siteId: r.invite.siteId });
    await tx.update(invites).set({ redeemedBy: user.id }).where(eq(invites.id, r.invite.id));
    return { user, invite: r.invite, site: r.site };
  });
}

/** Withdraw open invites: one, or every open one of a site (suspension). */
export async function revokeInvites(db: Db, clock: Clock, filter: { id: string } | { siteId: string }): Promise<number> {
  const rows = await db
    .update(invites)
    .set({ revokedAt: new Date(clock.now()) })
    .where(and('id' in filter ? eq(invites.id, filter.id) : eq(invites.siteId, filter.siteId), isNull(invites.redeemedAt), isNull(invites.revokedAt)))
    .returning({ id: invites.id });
  return rows.length;
}
