import { eq } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { createInviteSchema, createSiteSchema, userIdParamSchema, type CreatedInvite, type IssuedLink } from '../../shared/protocol/accounts';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { inviteIdParamSchema, siteIdParamSchema } from '../../shared/protocol/params';
import type { Audit } from '../audit/log';
import { createInvite, listInvites, revokeInvites } from '../auth/invites';
import type { Links } from '../auth/links';
import type { Sessions } from '../auth/sessions';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { invites, sites, users } from '../db/schema';
import { pathParam } from '../http/params';
import { addressOf, requireAdmin, requireAny, requireSiteManager, type AppEnv } from '../http/principal';
import { doc } from '../openapi/describe';
import { listSites } from '../studies/admin';
import { createSite, getSite, setSuspended } from './service';

export interface SiteRouteDeps {
  db: Db;
  clock: Clock;
  sessions: Sessions;
  audit: Audit;
  links: Links;
  /** Disconnect a suspended site's open tabs. */
  disconnectSite(siteId: string): void;
  /** Disconnect the open tabs that came with one account's sign-in link (revoked). */
  disconnectLinks(userId: string): void;
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
    const siteId = pathParam(c, 'id', siteIdParamSchema);
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
  const tag = 'Sites';
  const siteParams = { id: siteIdParamSchema };
  const memberParams = { ...siteParams, userId: userIdParamSchema };
  const detail = "The site's people, invites and studies (SiteDetail).";
  return new Hono<AppEnv>()
    .get('/', doc({ tag, summary: 'Every hospital site', access: 'admin', response: 'Each site with its status and counts (SiteView[]).' }), async (c) => {
      requireAdmin(c);
      return c.json(await listSites(db));
    })
    .post('/', doc({ tag, summary: 'Add a hospital site', access: 'admin', body: createSiteSchema, status: 201, response: detail, errors: { 409: 'A site with that id exists.' } }), async (c) => {
      const admin = requireAdmin(c);
      const site = await createSite(db, await json(c, createSiteSchema));
      await audit({ action: 'site.created', actor: admin, target: site.id, siteId: site.id, address: addressOf(c), detail: { name: site.name } });
      return c.json(await getSite(db, clock, site.id), 201);
    })
    .get('/:id', doc({ tag, summary: "A site's people, invites and studies", access: 'siteManager', params: siteParams, response: detail }), async (c) => {
      const siteId = pathParam(c, 'id', siteIdParamSchema);
      requireSiteManager(c, siteId);
      return c.json(await getSite(db, clock, siteId));
    })
    .post('/:id/suspend', doc({ tag, summary: 'Suspend a site: end its sessions, withdraw its invites, disconnect its tabs', access: 'admin', params: siteParams, response: detail }), suspend(true))
    .post('/:id/reinstate', doc({ tag, summary: 'Reinstate a suspended site', access: 'admin', params: siteParams, response: detail }), suspend(false))
    // A lost or leaked link is replaced from the console: the new one ends the old ones and their tabs.
    .post('/:id/members/:userId/link', doc({ tag, summary: "Issue a new hospital sign-in link for an account, ending its earlier ones", description: 'The link is shown once: only its generation is kept.', access: 'siteManager', params: memberParams, status: 201, response: 'The account and its new sign-in link with its expiry (IssuedLink).', errors: { 409: 'The site is suspended.' } }), async (c) => {
      const { p, siteId, member } = await siteMember(c);
      const [site] = await db.select({ suspendedAt: sites.suspendedAt }).from(sites).where(eq(sites.id, siteId));
      if (site?.suspendedAt) throw new ConsiliumError(ErrorCode.Conflict, 'this site is suspended: reinstate it before issuing sign-in links', 409);
      const link = await deps.links.reissue(siteId, member.id);
      if (!link) throw new ConsiliumError(ErrorCode.NotFound, `no hospital account ${member.id} at ${siteId}`, 404);
      deps.disconnectLinks(member.id);
      await audit({ action: 'link.reissued', actor: p, target: member.email, siteId, address: addressOf(c), detail: { userId: member.id, expiresAt: link.expiresAt.toISOString() } });
      const body: IssuedLink = { userId: member.id, email: member.email, siteId, url: `${new URL(c.req.url).origin}/hospital/${link.token}`, expiresAt: link.expiresAt.toISOString() };
      return c.json(body, 201);
    })
    .delete('/:id/members/:userId/link', doc({ tag, summary: "Revoke an account's hospital sign-in links and disconnect their tabs", access: 'siteManager', params: memberParams, response: '`{ revoked: true }`' }), async (c) => {
      const { p, siteId, member } = await siteMember(c);
      if (!(await deps.links.revoke(siteId, member.id))) throw new ConsiliumError(ErrorCode.NotFound, `no hospital account ${member.id} at ${siteId}`, 404);
      deps.disconnectLinks(member.id);
      await audit({ action: 'link.revoked', actor: p, target: member.email, siteId, address: addressOf(c), detail: { userId: member.id } });
      return c.json({ revoked: true });
    });

  /** The site's manager (platform admin, or the site's own admin) and one of the site's accounts. */
  async function siteMember(c: Context<AppEnv>) {
    const siteId = pathParam(c, 'id', siteIdParamSchema);
    const p = requireSiteManager(c, siteId);
    const userId = pathParam(c, 'userId', userIdParamSchema);
    const [member] = await db.select({ id: users.id, email: users.email, siteId: users.siteId }).from(users).where(eq(users.id, userId));
    // Another site's account is not named: to a site admin it does not exist.
    if (!member || member.siteId !== siteId) throw new ConsiliumError(ErrorCode.NotFound, `no account ${userId} at ${siteId}`, 404);
    return { p, siteId, member };
  }
}

/**
 * `/api/invites`: single-use codes. Platform admins invite anyone; a site admin invites staff to
 * their own site only.
 */
export function inviteRoutes(deps: Pick<SiteRouteDeps, 'db' | 'clock' | 'audit'>) {
  const { db, clock, audit } = deps;
  const tag = 'Invites';
  const createDoc = doc({
    tag,
    summary: 'Make a single-use invite code',
    description: 'Platform admins invite anyone; a site admin invites staff to their own site only. The code is shown once: only its hash is kept.',
    access: 'siteManager',
    body: createInviteSchema,
    status: 201,
    response: 'The code, the page that redeems it, its role, site and expiry (CreatedInvite).',
  });
  return new Hono<AppEnv>()
    .get('/', doc({ tag, summary: 'Every invite, with its status', access: 'admin', response: 'Each invite: role, site, who made it, expiry and status (InviteView[]).' }), async (c) => {
      requireAdmin(c);
      return c.json(await listInvites(db, clock, null));
    })
    .post('/', createDoc, async (c) => {
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
    .delete('/:id', doc({ tag, summary: 'Withdraw an invite', access: 'siteManager', params: { id: inviteIdParamSchema }, response: '`{ revoked }`: false when it was already used, expired or withdrawn.' }), async (c) => {
      requireAny(c);
      const id = pathParam(c, 'id', inviteIdParamSchema);
      const [inv] = await db.select().from(invites).where(eq(invites.id, id));
      if (!inv) throw new ConsiliumError(ErrorCode.NotFound, `no invite ${id}`, 404);
      const p = inv.siteId ? requireSiteManager(c, inv.siteId) : requireAdmin(c);
      const n = await revokeInvites(db, clock, { id });
      if (n) await audit({ action: 'invite.revoked', actor: p, target: id, siteId: inv.siteId, address: addressOf(c) });
      return c.json({ revoked: n > 0 });
    });
}
