import { asc, eq } from 'drizzle-orm';
import type { CreateSite, SiteDetail } from '../../shared/protocol/accounts';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { participants, sites, users } from '../db/schema';
import { listInvites } from '../auth/invites';

/** An id from a name: "St Mary's Hospital" → "st-marys-hospital". */
export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return slug.length >= 2 ? slug : `site-${slug}`;
}

export async function createSite(db: Db, input: CreateSite): Promise<typeof sites.$inferSelect> {
  const id = input.id ?? slugOf(input.name);
  const [row] = await db.insert(sites).values({ id, name: input.name }).onConflictDoNothing().returning();
  if (!row) throw new ConsiliumError(ErrorCode.Conflict, `a site with id ${id} already exists`, 409);
  return row;
}

export async function getSite(db: Db, clock: Clock, siteId: string): Promise<SiteDetail> {
  const [site] = await db.select().from(sites).where(eq(sites.id, siteId));
  if (!site) throw new ConsiliumError(ErrorCode.NotFound, `no site ${siteId}`, 404);
  const members = await db.select().from(users).where(eq(users.siteId, siteId)).orderBy(asc(users.email));
  const studies = await db.select({ studyId: participants.studyId }).from(participants).where(eq(participants.siteId, siteId));
  return {
    id: site.id,
    name: site.name,
    demo: site.demoProfile !== null,
    suspendedAt: site.suspendedAt?.toISOString() ?? null,
    members: members.map((m) => ({ id: m.id, email: m.email, role: m.role, createdAt: m.createdAt.toISOString(), linksRevokedAt: m.linksRevokedAt?.toISOString() ?? null })),
    invites: await listInvites(db, clock, siteId),
    studyIds: studies.map((s) => s.studyId).sort(),
  };
}

/** Mark a site suspended or reinstated; the caller ends its sessions and invites. Returns whether it changed. */
export async function setSuspended(db: Db, clock: Clock, siteId: string, suspended: boolean): Promise<boolean> {
  const [site] = await db.select().from(sites).where(eq(sites.id, siteId));
  if (!site) throw new ConsiliumError(ErrorCode.NotFound, `no site ${siteId}`, 404);
  if (!!site.suspendedAt === suspended) return false;
  await db.update(sites).set({ suspendedAt: suspended ? new Date(clock.now()) : null }).where(eq(sites.id, siteId));
  return true;
}
