import { eq } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { createInviteSchema, createSiteSchema, type CreatedInvite } from '../../shared/protocol/accounts';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { Audit } from '../audit/log';
import { createInvite, listInvites, revokeInvites } from '../auth/invites';
import type { Sessions } from '../auth/sessions';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { invites } from '../db/schema';
import { addressOf, requireAdmin, requireAny, requireSiteManager, type AppEnv } from '../http/principal';
import { listSites } from '../studies/admin';
import { createSite, getSite, setSuspended } from './service';

export interface SiteRouteDeps {
  db: Db;
  clock: Clock;
  sessions: Sessions;
  audit: Audit;
  /** Disconnect a suspended site's open tabs. */
  disconnectSite(siteId: string): void;
}

async function json<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  const raw = await c.req.json().catch(() => {
    throw new ConsiliumError(ErrorCode.BadRequest, 'the request body must be JSON', 400);
  });
  return schema.parse(raw);
}

/** `/api/sites`: hospitals, their people, and suspension. Platform admins; a site's own admins may look. */
export function siteRoutes(deps: SiteRouteDeps) {
  const { db, clock, sessions, audit } = deps;
  const suspend = (suspended: boolean) => async (c: Context<AppEnv>) => {
    const admin = requireAdmin(c);
    const siteId = c.req.param('id')!;
    const changed = await setSuspended(db, clock, siteId, suspended);
    if (changed) sessions.forgetSites();
    if (changed && suspended) {
      const ended = await sessions.endAll({ siteId });
      const withdrawn = await revokeInvites(db, clock, { siteId });
      deps.disconnectSite(siteId);
      await audit({ action: 'site.suspended', actor: admin, target: siteId, siteId, address: addressOf(c), detail: { sessionsEnded: ended, invitesWithdrawn: withdrawn } });
    } else if (changed) {
      await audit({ action: 'site.reinstated', actor: admin, target: siteId, siteId, address: addressOf(c) });
    }
    return c.json(await getSite(db, clock, siteId));
  };
  return new Hono<AppEnv>()
    .get('/', async (c) => {
      requireAdmin(c);
      return c.json(await listSites(db));
    })
    .post('/', async (c) => {
      const admin = requireAdmin(c);
      const site = await createSite(db, await json(c, createSiteSchema));
      await audit({ action: 'site.created', actor: admin, target: site.id, siteId: site.id, address: addressOf(c), detail: { name: site.name } });
      return c.json(await getSite(db, clock, site.id), 201);
    })
    .get('/:id', async (c) => {
      const siteId = c.req.param('id');
      requireSiteManager(c, siteId);
      return c.json(await getSite(db, clock, siteId));
    })
    .post('/:id/suspend', suspend(true))
    .post('/:id/reinstate', suspend(false));
}

/**
 * `/api/invites`: single-use codes. Platform admins invite anyone; a site admin invites staff to
 * their own site only.
 */
export function inviteRoutes(deps: Pick<SiteRouteDeps, 'db' | 'clock' | 'audit'>) {
  const { db, clock, audit } = deps;
  return new Hono<AppEnv>()
    .get('/', async (c) => {
      requireAdmin(c);
      return c.json(await listInvites(db, clock, null));
    })
    .post('/', async (c) => {
      const p = requireAny(c);
      if (p.kind !== 'admin' && !(p.kind === 'hospital' && p.role === 'site_admin'))
        throw new ConsiliumError(ErrorCode.Forbidden, 'platform admins and site admins only', 403);
      const req = await json(c, createInviteSchema);
      if (p.kind !== 'admin') {
        if (req.siteId !== p.siteId || req.role !== 'staff') throw new ConsiliumError(ErrorCode.Forbidden, 'a site admin invites staff to their own site only', 403);
      }
      const by = p.kind === 'hospital' ? (p.email ?? p.siteId) : p.email;
      const inv = await createInvite(db, clock, req, by);
      await audit({ action: 'invite.created', actor: p, target: inv.id, siteId: inv.siteId, address: addressOf(c), detail: { role: inv.role, expiresAt: inv.expiresAt.toISOString() } });
      const body: CreatedInvite = {
        id: inv.id,
        code: inv.code,
        url: `${new URL(c.req.url).origin}/join/${inv.code}`,
        role: inv.role,
        siteId: inv.siteId,
        expiresAt: inv.expiresAt.toISOString(),
      };
      return c.json(body, 201);
    })
    .delete('/:id', async (c) => {
      requireAny(c);
      const id = c.req.param('id');
      const [inv] = await db.select().from(invites).where(eq(invites.id, id));
      if (!inv) throw new ConsiliumError(ErrorCode.NotFound, `no invite ${id}`, 404);
      const p = inv.siteId ? requireSiteManager(c, inv.siteId) : requireAdmin(c);
      const n = await revokeInvites(db, clock, { id });
      if (n) await audit({ action: 'invite.revoked', actor: p, target: id, siteId: inv.siteId, address: addressOf(c) });
      return c.json({ revoked: n > 0 });
    });
}
