import { eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditPage, IssuedLink, SiteDetail } from '../../shared/protocol/accounts';
import type { Database } from '../db/client';
import { users } from '../db/schema';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, signIn, startServer, type RunningServer, type SessionHeaders } from '../testing/harness';
import { createUser } from './accounts';
import { resetPassword } from './passwordReset';
import { loadSigningKey } from './secret';
import { tamperedSignature } from '../testing/tamper';

const DAY = 24 * 3600_000;

/** A socket.io refusal's reason, as the hospital page reads it (`err.data.message`). */
async function refusalOf(url: string, token: string): Promise<string> {
  const err = await connectSocket(url, { token }).then(
    (s) => {
      s.disconnect();
      throw new Error('the socket was let in');
    },
    (e: Error & { data?: { message: string } }) => e,
  );
  expect(err.message).toBe('unauthenticated');
  return err.data?.message ?? '';
}

describe.each(testDatabaseTargets())('hospital sign-in links: expiry, revocation, re-issue ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  let admin: SessionHeaders;
  let nurse: { id: string; email: string };

  const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      method: init.method ?? (init.json !== undefined ? 'POST' : 'GET'),
      headers: { ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  const asLink = (token: string) => ({ authorization: `Bearer ${token}` });
  /** What `/api/auth/me` answers a link: 200, or the 401's message. */
  const meWith = async (token: string): Promise<number | string> => {
    const res = await api('/api/auth/me', { headers: asLink(token) });
    if (res.status === 200) return 200;
    expect(res.status).toBe(401);
    return ((await res.json()) as { error: { message: string } }).error.message;
  };
  const tokenOf = (link: IssuedLink) => link.url.split('/hospital/')[1];
  const reissue = async (siteId: string, userId: string, headers: Record<string, string> = admin) => {
    const res = await api(`/api/sites/${siteId}/members/${userId}/link`, { method: 'POST', headers });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as IssuedLink;
  };
  const auditOf = async (action: string) => ((await (await api(`/api/audit?action=${action}`, { headers: admin })).json()) as AuditPage).events;

  const start = async (hospitalLinkDays?: number) => {
    await server?.stop();
    server = await startServer(database, { clock, hospitalLinkDays });
  };

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  beforeEach(async () => {
    await target.reset(database);
    offset = 0;
    server = await startServer(database, { clock });
    admin = await signIn(server, { email: 'root@test.local' });
    for (const [id, name] of [
      ['elsewhere', 'St Elsewhere'],
      ['other', 'Other Hospital'],
    ])
      expect((await api('/api/sites', { json: { name, id }, headers: admin })).status).toBe(201);
    nurse = await createUser(database.db, { email: 'nurse@elsewhere.test', password: 'correct horse battery', role: 'staff', siteId: 'elsewhere' });
  });
  afterEach(async () => {
    await server.stop();
  });

  it('expires after HOSPITAL_LINK_DAYS, saying so to the link and to its socket; tabs open with it are let go', async () => {
    const link = await server.consilium.links.issue('elsewhere', nurse.id);
    expect(link!.expiresAt.getTime()).toBeCloseTo(clock.now() + 30 * DAY, -4);
    const machine = await server.consilium.tokens.hospitalLink('elsewhere');
    expect(await meWith(link!.token)).toBe(200);
    expect(await meWith(machine)).toBe(200);

    offset = 29 * DAY;
    expect(await meWith(link!.token)).toBe(200);
    offset = 30 * DAY + 1000;
    expect(await meWith(link!.token)).toMatch(/^this sign-in link expired on \d{4}-\d\d-\d\d; ask your site admin/);
    expect(await meWith(machine)).toMatch(/expired/);
    expect(await refusalOf(server.url, link!.token)).toMatch(/expired/);
    // Uploads are refused with the same reason.
    const upload = await api('/api/studies/any/rounds/1/updates', { method: 'POST', headers: { ...asLink(link!.token), 'idempotency-key': 'expired-1' }, body: new Uint8Array(8) });
    expect(upload.status).toBe(401);
    expect(await upload.text()).toMatch(/expired/);

    // A shorter lifetime is a setting; a socket open at the expiry is disconnected then.
    offset = 0;
    await start(2);
    const short = (await server.consilium.links.issue('elsewhere', nurse.id))!;
    expect(short.expiresAt.getTime() - clock.now()).toBeLessThanOrEqual(2 * DAY);
    offset = DAY;
    expect(await meWith(short.token)).toBe(200);
    offset = 2 * DAY - 3000;
    const tab = await connectSocket(server.url, { token: short.token });
    const letGo = await new Promise<string>((resolve) => tab.once('disconnect', resolve));
    expect(letGo).toBe('io server disconnect');
    expect(await meWith(short.token)).toMatch(/expired/);
  });

  it('refuses links from before links expired, and forged or foreign ones, as not valid', async () => {
    const key = await loadSigningKey(database.db);
    const old = await new SignJWT({ role: 'hospital', uid: nurse.id }).setProtectedHeader({ alg: 'HS256' }).setIssuer('consilium').setSubject('elsewhere').sign(key);
    expect(await meWith(old)).toMatch(/^this sign-in link is not valid/);
    const good = (await server.consilium.links.issue('elsewhere', nurse.id))!.token;
    expect(await meWith(tamperedSignature(good))).toMatch(/not valid/);
    // A link naming an account of another site, or a site that does not exist.
    expect(await meWith(await server.consilium.tokens.hospitalLink('other', nurse.id))).toMatch(/not valid/);
    expect(await meWith(await server.consilium.tokens.hospitalLink('nowhere'))).toMatch(/not valid/);
    // Signed-out calls keep their usual answer; a cookie that fails is no sign-in, not a link.
    expect(((await (await api('/api/auth/me')).json()) as { error: { message: string } }).error.message).toBe('sign in first');
  });

  it('revokes an account’s links from the console: the old link and the tabs it opened end; a re-issued one works', async () => {
    const first = (await server.consilium.links.issue('elsewhere', nurse.id))!.token;
    const second = (await server.consilium.links.issue('elsewhere', nurse.id))!.token;
    const tab = await connectSocket(server.url, { token: first });
    const letGo = new Promise<string>((resolve) => tab.once('disconnect', resolve));
    // The same person signed in by password keeps that session: only the links end.
    const login = await api('/api/auth/login', { json: { email: nurse.email, password: 'correct horse battery' } });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const passwordTab = await connectSocket(server.url, { cookie });

    const revoked = await api(`/api/sites/elsewhere/members/${nurse.id}/link`, { method: 'DELETE', headers: admin });
    expect(revoked.status).toBe(200);
    expect(await letGo).toBe('io server disconnect');
    expect(passwordTab.connected).toBe(true);
    passwordTab.disconnect();
    for (const t of [first, second]) expect(await meWith(t)).toBe('this sign-in link has been revoked; ask your site admin or study coordinator for a new one');
    expect(await refusalOf(server.url, first)).toMatch(/revoked/);
    expect((await api('/api/auth/me', { headers: { cookie } })).status).toBe(200);

    const site = (await (await api('/api/sites/elsewhere', { headers: admin })).json()) as SiteDetail;
    expect(site.members.find((m) => m.id === nurse.id)?.linksRevokedAt).not.toBeNull();

    const issued = await reissue('elsewhere', nurse.id);
    expect(issued).toMatchObject({ userId: nurse.id, email: nurse.email, siteId: 'elsewhere' });
    expect(issued.url).toMatch(new RegExp(`^${server.url}/hospital/[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
    expect(new Date(issued.expiresAt).getTime()).toBeGreaterThan(clock.now() + 29 * DAY);
    expect(await meWith(tokenOf(issued))).toBe(200);
    const newTab = await connectSocket(server.url, { token: tokenOf(issued) });
    newTab.disconnect();

    // Re-issuing again ends the link before it.
    const again = await reissue('elsewhere', nurse.id);
    expect(await meWith(tokenOf(issued))).toMatch(/revoked/);
    expect(await meWith(tokenOf(again))).toBe(200);

    // Audited, by whom and for whom, never with the link itself.
    const events = [...(await auditOf('link.reissued')), ...(await auditOf('link.revoked'))];
    expect(events.map((e) => e.action).sort()).toEqual(['link.reissued', 'link.reissued', 'link.revoked']);
    for (const e of events) expect(e).toMatchObject({ actor: 'root@test.local', target: nurse.email, siteId: 'elsewhere' });
    expect(JSON.stringify(events)).not.toContain(tokenOf(again));
  });

  it('lets a site admin renew their own site’s links only; a suspended site gets none', async () => {
    const boss = await signIn(server, { role: 'site_admin', siteId: 'elsewhere' });
    const stranger = await createUser(database.db, { email: 'nurse@other.test', password: 'correct horse battery', role: 'staff', siteId: 'other' });
    const strangerLink = (await server.consilium.links.issue('other', stranger.id))!.token;

    const own = await reissue('elsewhere', nurse.id, boss);
    expect(await meWith(tokenOf(own))).toBe(200);
    expect((await api(`/api/sites/elsewhere/members/${nurse.id}/link`, { method: 'DELETE', headers: boss })).status).toBe(200);
    expect(await meWith(tokenOf(own))).toMatch(/revoked/);
    expect((await auditOf('link.revoked'))[0].actor).toBe((await database.db.select().from(users).where(eq(users.id, boss.userId)))[0].email);

    // Another site's account: refused by site, and not even named through their own site.
    for (const method of ['POST', 'DELETE']) {
      expect((await api(`/api/sites/other/members/${stranger.id}/link`, { method, headers: boss })).status).toBe(403);
      expect((await api(`/api/sites/elsewhere/members/${stranger.id}/link`, { method, headers: boss })).status).toBe(404);
    }
    expect(await meWith(strangerLink)).toBe(200);
    // Staff may not renew links, not even their own; an account id must be one.
    const staff = await signIn(server, { role: 'staff', siteId: 'elsewhere' });
    expect((await api(`/api/sites/elsewhere/members/${nurse.id}/link`, { method: 'POST', headers: staff })).status).toBe(403);
    expect((await api('/api/sites/elsewhere/members/not-a-uuid/link', { method: 'POST', headers: admin })).status).toBe(400);

    expect((await api('/api/sites/elsewhere/suspend', { method: 'POST', headers: admin })).status).toBe(200);
    const refused = await api(`/api/sites/elsewhere/members/${nurse.id}/link`, { method: 'POST', headers: admin });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toMatch(/suspended/);
  });

  it('ends an account’s links and sessions when its password is reset', async () => {
    const link = (await server.consilium.links.issue('elsewhere', nurse.id))!.token;
    const session = await server.consilium.sessions.start(nurse.id);
    expect(await meWith(link)).toBe(200);
    const reset = await resetPassword({ db: database.db, clock, sessions: server.consilium.sessions, audit: server.consilium.audit }, nurse, 'test');
    expect(reset.sessionsEnded).toBe(1);
    expect(await meWith(link)).toMatch(/revoked/);
    expect((await api('/api/auth/me', { headers: { cookie: `consilium_session=${session.access}` } })).status).toBe(401);
    const fresh = (await server.consilium.links.issue('elsewhere', nurse.id))!.token;
    expect(await meWith(fresh)).toBe(200);
    expect((await api('/api/auth/login', { json: { email: nurse.email, password: reset.password } })).status).toBe(200);
    expect((await auditOf('auth.password_reset'))[0]).toMatchObject({ target: nurse.email, detail: { sessionsEnded: 1, linksRevoked: true } });
  });

  it('sees a revocation made by another process within a second', async () => {
    const link = (await server.consilium.links.issue('elsewhere', nurse.id))!.token;
    expect(await meWith(link)).toBe(200);
    // As the reset script does on PostgreSQL while the server runs: the server's cache is not told.
    await resetPassword({ db: database.db, clock, sessions: { endAll: async () => 0, forgetLinks: () => {} } }, nurse, 'elsewhere');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await meWith(link)).toMatch(/revoked/);
  });
});
