import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditPage, CreatedInvite, SiteDetail } from '../../shared/protocol/accounts';
import type { Database } from '../db/client';
import { auditEvents } from '../db/schema';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, signIn, startServer, type RunningServer, type SessionHeaders } from '../testing/harness';
import { createUser } from './accounts';
import { createSessions } from './sessions';
import { tamperedSignature } from '../testing/tamper';

/** The cookies a response set, as a browser would send them back. */
function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .filter((c) => !c.endsWith('='))
    .join('; ');
}
const cookieValue = (cookies: string, name: string) => cookies.match(new RegExp(`${name}=([^;]+)`))?.[1] ?? '';
const asBrowser = (cookies: string): SessionHeaders => ({ cookie: cookies, 'x-csrf-token': cookieValue(cookies, 'consilium_csrf') });

describe.each(testDatabaseTargets())('accounts, sessions, invites and suspension ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  let admin: SessionHeaders;

  const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      method: init.method ?? (init.json !== undefined ? 'POST' : 'GET'),
      headers: { ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  const invite = async (body: object, headers: Record<string, string> = admin) => {
    const res = await api('/api/invites', { json: body, headers });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as CreatedInvite;
  };
  const redeem = (code: string, email: string, password = 'a long enough password') => api('/api/auth/invites/redeem', { json: { code, email, password } });

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
    expect((await api('/api/sites', { json: { name: 'St Elsewhere', id: 'elsewhere' }, headers: admin })).status).toBe(201);
  });
  afterEach(async () => {
    await server.stop();
  });

  it('signs in with a password, keeps the session fresh with the refresh cookie, and ends it on sign-out', async () => {
    const nurse = await createUser(database.db, { email: 'nurse@elsewhere.test', password: 'correct horse battery', role: 'staff', siteId: 'elsewhere' });
    expect((await api('/api/auth/login', { json: { email: 'nurse@elsewhere.test', password: 'wrong password!' } })).status).toBe(401);
    const login = await api('/api/auth/login', { json: { email: 'Nurse@Elsewhere.test', password: 'correct horse battery' } });
    expect(login.status).toBe(200);
    expect(await login.json()).toEqual({ user: { email: 'nurse@elsewhere.test', role: 'staff', siteId: 'elsewhere', home: '/hospital' } });
    const setCookies = login.headers.getSetCookie();
    expect(setCookies.find((c) => c.startsWith('consilium_session='))).toMatch(/HttpOnly/i);
    expect(setCookies.find((c) => c.startsWith('consilium_session='))).toMatch(/SameSite=Strict/i);
    expect(setCookies.find((c) => c.startsWith('consilium_refresh='))).toMatch(/Path=\/api\/auth/);
    expect(await (await api('/api/auth/me', { headers: asBrowser(cookiesOf(login)) })).json()).toMatchObject({ role: 'hospital', staffRole: 'staff', site: { id: 'elsewhere' } });

    // A session whose access token lives one second: the refresh cookie renews it, keeping the CSRF value.
    const short = await createSessions({ db: database.db, tokens: server.consilium.tokens, clock, options: { accessSeconds: 1 } }).start(nurse.id);
    let browser = asBrowser(`consilium_session=${short.access}; consilium_refresh=${short.refresh}; consilium_csrf=${short.csrf}`);
    expect((await api('/api/auth/me', { headers: browser })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await api('/api/auth/me', { headers: browser })).status).toBe(401);
    const refreshed = await api('/api/auth/refresh', { method: 'POST', headers: browser });
    expect(refreshed.status).toBe(200);
    browser = asBrowser(`${browser.cookie}; ${cookiesOf(refreshed)}`.split('; ').reverse().filter((c, i, all) => all.findIndex((d) => d.split('=')[0] === c.split('=')[0]) === i).join('; '));
    expect(cookieValue(cookiesOf(refreshed), 'consilium_csrf')).toBe(browser['x-csrf-token']);
    expect((await api('/api/auth/me', { headers: browser })).status).toBe(200);

    const logout = await api('/api/auth/logout', { method: 'POST', headers: browser });
    expect(logout.status).toBe(200);
    // The old cookies no longer work, not even to refresh: the session ended in the database.
    expect((await api('/api/auth/refresh', { method: 'POST', headers: browser })).status).toBe(401);
  });

  it('refuses a tampered or foreign token, and a cookie-authenticated write without its CSRF header', async () => {
    const [name, value] = admin.cookie.split('; ')[0].split('=');
    const [h, p, s] = value.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = [h, Buffer.from(JSON.stringify({ ...payload, sub: 'someone-else' })).toString('base64url'), s].join('.');
    expect((await api('/api/auth/me', { headers: { cookie: `${name}=${forged}` } })).status).toBe(401);
    expect((await api('/api/auth/me', { headers: { cookie: `${name}=${tamperedSignature(value)}` } })).status).toBe(401);
    expect((await api('/api/auth/me', { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    const link = await server.consilium.tokens.hospitalLink('elsewhere');
    expect((await api('/api/auth/me', { headers: { authorization: `Bearer ${tamperedSignature(link)}` } })).status).toBe(401);

    const noCsrf = await api('/api/sites', { json: { name: 'Forged Hospital' }, headers: { cookie: admin.cookie } });
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.text()).toMatch(/CSRF/);
    const wrongCsrf = await api('/api/sites', { json: { name: 'Forged Hospital' }, headers: { ...admin, 'x-csrf-token': 'guess' } });
    expect(wrongCsrf.status).toBe(403);
    expect((await api('/api/sites', { json: { name: 'Real Hospital' }, headers: admin })).status).toBe(201);
  });

  it('redeems an invite once into an account at its site; a reused, expired or withdrawn invite is refused', async () => {
    const staff = await invite({ role: 'staff', siteId: 'elsewhere', expiresInHours: 24 });
    expect(staff.url).toMatch(/\/join\/[A-Za-z0-9_-]{20,}$/);
    expect(await (await api(`/api/auth/invites/${staff.code}`)).json()).toMatchObject({ role: 'staff', site: { id: 'elsewhere', name: 'St Elsewhere' } });
    expect((await redeem(staff.code, 'short@elsewhere.test', 'short')).status).toBe(400);
    const first = await redeem(staff.code, 'first@elsewhere.test');
    expect(first.status).toBe(201);
    expect((await first.json()).user).toMatchObject({ role: 'staff', siteId: 'elsewhere', home: '/hospital' });
    expect(await (await api('/api/auth/me', { headers: asBrowser(cookiesOf(first)) })).json()).toMatchObject({ role: 'hospital', email: 'first@elsewhere.test' });

    const reused = await redeem(staff.code, 'second@elsewhere.test');
    expect(reused.status).toBe(403);
    expect(await reused.text()).toMatch(/already been used/);

    const expiring = await invite({ role: 'patient', expiresInHours: 1 });
    offset = 2 * 3600_000;
    const expired = await redeem(expiring.code, 'late@patients.test');
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/expired/);
    offset = 0;

    const withdrawn = await invite({ role: 'site_admin', siteId: 'elsewhere' });
    expect((await api(`/api/invites/${withdrawn.id}`, { method: 'DELETE', headers: admin })).status).toBe(200);
    expect(await (await redeem(withdrawn.code, 'boss@elsewhere.test')).text()).toMatch(/withdrawn/);
    expect((await redeem('not-a-real-code-at-all', 'x@y.test')).status).toBe(403);

    // Two people racing for one code: exactly one account.
    const contested = await invite({ role: 'patient' });
    const race = await Promise.all([redeem(contested.code, 'a@patients.test'), redeem(contested.code, 'b@patients.test')]);
    expect(race.map((r) => r.status).sort()).toEqual([201, 403]);

    const site = (await (await api('/api/sites/elsewhere', { headers: admin })).json()) as SiteDetail;
    expect(site.members.map((m) => m.email)).toEqual(['first@elsewhere.test']);
    expect(site.invites.map((i) => i.status).sort()).toEqual(['redeemed', 'revoked']);
  });

  it('lets a site admin invite staff to their own site only', async () => {
    const boss = await redeem((await invite({ role: 'site_admin', siteId: 'elsewhere' })).code, 'boss@elsewhere.test');
    const headers = asBrowser(cookiesOf(boss));
    await api('/api/sites', { json: { name: 'Other Hospital', id: 'other' }, headers: admin });
    expect((await api('/api/invites', { json: { role: 'staff', siteId: 'elsewhere' }, headers })).status).toBe(201);
    expect((await api('/api/invites', { json: { role: 'site_admin', siteId: 'elsewhere' }, headers })).status).toBe(403);
    expect((await api('/api/invites', { json: { role: 'staff', siteId: 'other' }, headers })).status).toBe(403);
    expect((await api('/api/invites', { json: { role: 'patient' }, headers })).status).toBe(403);
    expect((await api('/api/sites/elsewhere', { headers })).status).toBe(200);
    expect((await api('/api/sites/other', { headers })).status).toBe(403);
    expect((await api('/api/sites/elsewhere/suspend', { method: 'POST', headers })).status).toBe(403);
  });

  it('suspends a site: its sessions, sign-in links, open tabs and invites end, and its people cannot sign in', async () => {
    const nurse = await redeem((await invite({ role: 'staff', siteId: 'elsewhere' })).code, 'nurse@elsewhere.test');
    const nurseHeaders = asBrowser(cookiesOf(nurse));
    const link = await server.consilium.tokens.hospitalLink('elsewhere');
    const open = await invite({ role: 'staff', siteId: 'elsewhere' });
    const tab = await connectSocket(server.url, { token: link });
    const disconnected = new Promise<string>((resolve) => tab.once('disconnect', resolve));

    const res = await api('/api/sites/elsewhere/suspend', { method: 'POST', headers: admin });
    expect(res.status).toBe(200);
    expect(((await res.json()) as SiteDetail).suspendedAt).not.toBeNull();
    expect(await disconnected).toBe('io server disconnect');
    expect((await api('/api/auth/me', { headers: nurseHeaders })).status).toBe(401);
    expect((await api('/api/auth/me', { headers: { authorization: `Bearer ${link}` } })).status).toBe(401);
    await expect(connectSocket(server.url, { token: link })).rejects.toThrow(/unauthenticated/);
    const again = await api('/api/auth/login', { json: { email: 'nurse@elsewhere.test', password: 'a long enough password' } });
    expect(again.status).toBe(403);
    expect(await again.text()).toMatch(/suspended/);
    expect(await (await redeem(open.code, 'new@elsewhere.test')).text()).toMatch(/withdrawn/);
    expect((await api('/api/invites', { json: { role: 'staff', siteId: 'elsewhere' }, headers: admin })).status).toBe(409);

    // Reinstated, its people sign in again (old sessions stay ended).
    expect((await api('/api/sites/elsewhere/reinstate', { method: 'POST', headers: admin })).status).toBe(200);
    expect((await api('/api/auth/me', { headers: nurseHeaders })).status).toBe(401);
    expect((await api('/api/auth/login', { json: { email: 'nurse@elsewhere.test', password: 'a long enough password' } })).status).toBe(200);
    expect((await api('/api/auth/me', { headers: { authorization: `Bearer ${link}` } })).status).toBe(200);
  });

  it('keeps an append-only audit trail that platform admins filter, and nobody edits', async () => {
    await createUser(database.db, { email: 'nurse@elsewhere.test', password: 'correct horse battery', role: 'staff', siteId: 'elsewhere' });
    await api('/api/auth/login', { json: { email: 'nurse@elsewhere.test', password: 'not the password' } });
    await api('/api/auth/login', { json: { email: 'nurse@elsewhere.test', password: 'correct horse battery' } });
    await redeem((await invite({ role: 'patient' })).code, 'pat@patients.test');
    await api('/api/sites/elsewhere/suspend', { method: 'POST', headers: admin });

    const all = (await (await api('/api/audit', { headers: admin })).json()) as AuditPage;
    expect(all.events.map((e) => e.action)).toEqual([
      'site.suspended',
      'auth.sign_in',
      'enrolment.redeemed',
      'invite.created',
      'auth.sign_in',
      'auth.sign_in_failed',
      'site.created',
    ]);
    expect(all.events[0]).toMatchObject({ actor: 'root@test.local', target: 'elsewhere', siteId: 'elsewhere', detail: { sessionsEnded: 1, invitesWithdrawn: 0 } });
    expect(all.events[5]).toMatchObject({ actor: 'nurse@elsewhere.test', detail: { reason: 'wrong email or password' } });
    expect(all.events[5].address).toMatch(/127\.0\.0\.1/);
    // Nothing secret is kept: no password, no invite code.
    expect(JSON.stringify(all)).not.toMatch(/correct horse|not the password/);

    const signIns = (await (await api('/api/audit?action=auth', { headers: admin })).json()) as AuditPage;
    expect(signIns.events.map((e) => e.action)).toEqual(['auth.sign_in', 'auth.sign_in', 'auth.sign_in_failed']);
    const bySite = (await (await api('/api/audit?siteId=elsewhere&limit=2', { headers: admin })).json()) as AuditPage;
    expect(bySite.events).toHaveLength(2);
    const older = (await (await api(`/api/audit?siteId=elsewhere&limit=2&before=${bySite.next}`, { headers: admin })).json()) as AuditPage;
    expect(older.events.every((e) => e.id < bySite.events[1].id)).toBe(true);

    const patient = await signIn(server, { role: 'patient' });
    expect((await api('/api/audit', { headers: patient })).status).toBe(403);
    expect((await api('/api/audit')).status).toBe(401);
    expect((await api('/api/audit', { method: 'DELETE', headers: admin })).status).toBe(404);
    const refusal = (q: ReturnType<typeof sql>) =>
      database.db.execute(q).then(
        () => 'allowed',
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );
    expect(await refusal(sql`UPDATE audit_events SET actor = 'nobody'`)).toMatch(/append-only: UPDATE refused/);
    expect(await refusal(sql`DELETE FROM audit_events`)).toMatch(/append-only: DELETE refused/);
    expect(await database.db.$count(auditEvents)).toBe(all.events.length);
  });
});
