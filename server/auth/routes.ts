import { eq } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { z } from 'zod';
import { redeemInviteSchema, type SessionUser } from '../../shared/protocol/accounts';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { identitySchema, loginRequestSchema, loginResultSchema, type Identity, type LoginResult } from '../../shared/protocol/schemas';
import type { Audit } from '../audit/log';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { sites, users } from '../db/schema';
import { pathParam } from '../http/params';
import { addressOf, requireAny, type AppEnv } from '../http/principal';
import { doc } from '../openapi/describe';
import { studiesOfSite } from '../studies/service';
import { verifyLogin } from './accounts';
import { previewInvite, redeemInvite } from './invites';
import { homeOf, type IssuedSession, type Sessions } from './sessions';
import { CSRF_COOKIE, REFRESH_COOKIE, SESSION_COOKIE } from './tokens';

export interface AuthRouteDeps {
  db: Db;
  clock: Clock;
  sessions: Sessions;
  audit: Audit;
  secureCookies: boolean;
}

async function json<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  const raw = await c.req.json().catch(() => null);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConsiliumError(ErrorCode.BadRequest, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 400);
  return parsed.data;
}

/** Sign-in, sign-out, refresh, who am I, and redeeming an invite. */
export function authRoutes(deps: AuthRouteDeps) {
  const { db, clock, sessions, audit } = deps;
  const cookieBase = { sameSite: 'Strict' as const, secure: deps.secureCookies, path: '/' };

  /** A refresh keeps the CSRF value, so a training worker that was handed it keeps uploading. */
  const setSession = (c: Context, s: IssuedSession, opts: { keepCsrf?: boolean } = {}) => {
    setCookie(c, SESSION_COOKIE, s.access, { ...cookieBase, httpOnly: true, maxAge: s.accessSeconds });
    setCookie(c, REFRESH_COOKIE, s.refresh, { ...cookieBase, httpOnly: true, path: '/api/auth', maxAge: s.refreshSeconds });
    const csrf = (opts.keepCsrf && getCookie(c, CSRF_COOKIE)) || s.csrf;
    setCookie(c, CSRF_COOKIE, csrf, { ...cookieBase, httpOnly: false, maxAge: s.refreshSeconds });
  };
  const clearSession = (c: Context) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    deleteCookie(c, REFRESH_COOKIE, { path: '/api/auth' });
    deleteCookie(c, CSRF_COOKIE, { path: '/' });
  };
  const sessionUser = (u: { email: string; role: SessionUser['role']; siteId: string | null }): SessionUser => ({
    email: u.email,
    role: u.role,
    siteId: u.siteId,
    home: homeOf(u.role),
  });

  return new Hono<AppEnv>()
    .post('/login', doc({ tag: 'Sign-in', summary: 'Sign in with email and password', description: 'Sets the session, refresh and CSRF cookies.', access: 'public', body: loginRequestSchema, response: loginResultSchema, errors: { 429: 'Too many sign-in attempts from this address or for this account.' } }), async (c) => {
      const body = await json(c, loginRequestSchema);
      const address = addressOf(c);
      const user = await verifyLogin(db, body.email, body.password);
      const suspended = user?.siteId ? (await db.select({ s: sites.suspendedAt }).from(sites).where(eq(sites.id, user.siteId)))[0]?.s : null;
      if (!user || suspended) {
        await audit({ action: 'auth.sign_in_failed', actor: { label: body.email.toLowerCase(), userId: user?.id }, address, detail: { reason: user ? 'site suspended' : 'wrong email or password' } });
        if (user && suspended) throw new ConsiliumError(ErrorCode.Forbidden, 'this hospital site is suspended', 403);
        throw new ConsiliumError(ErrorCode.Unauthenticated, 'wrong email or password', 401);
      }
      setSession(c, await sessions.start(user.id));
      await audit({ action: 'auth.sign_in', actor: { label: user.email, userId: user.id }, siteId: user.siteId, address });
      return c.json<LoginResult>({ user: sessionUser(user) });
    })
    .post('/refresh', doc({ tag: 'Sign-in', summary: 'Renew the session from the refresh cookie', access: 'public', response: loginResultSchema }), async (c) => {
      const token = getCookie(c, REFRESH_COOKIE);
      const refreshed = token ? await sessions.refresh(token) : null;
      if (!refreshed) {
        clearSession(c);
        throw new ConsiliumError(ErrorCode.Unauthenticated, 'your session has ended: sign in again', 401);
      }
      setSession(c, refreshed.issued, { keepCsrf: true });
      const [u] = await db.select().from(users).where(eq(users.id, refreshed.principal.userId!));
      return c.json<LoginResult>({ user: sessionUser(u) });
    })
    .post('/logout', doc({ tag: 'Sign-in', summary: 'Sign out: end the session and clear its cookies', access: 'public', response: '`{ ok: true }`' }), async (c) => {
      const p = c.get('principal');
      if (p?.sessionId) {
        await sessions.end(p.sessionId);
        await audit({ action: 'auth.sign_out', actor: p, address: addressOf(c) });
      }
      clearSession(c);
      return c.json({ ok: true });
    })
    .get('/me', doc({ tag: 'Sign-in', summary: 'Who the caller is', access: 'signedIn', response: identitySchema }), async (c) => {
      const p = requireAny(c);
      if (p.kind === 'admin') return c.json<Identity>({ role: 'platform_admin', email: p.email });
      if (p.kind === 'patient') return c.json<Identity>({ role: 'patient', email: p.email });
      const [site] = await db.select().from(sites).where(eq(sites.id, p.siteId));
      if (!site) throw new ConsiliumError(ErrorCode.Unauthenticated, 'this hospital link is no longer valid', 401);
      return c.json<Identity>({
        role: 'hospital',
        site: { id: site.id, name: site.name },
        staffRole: p.role,
        email: p.email,
        demoProfile: site.demoProfile,
        studyIds: await studiesOfSite(db, site.id),
      });
    })
    .get(
      '/invites/:code',
      doc({ tag: 'Sign-in', summary: 'What an invite code is for, before an account is made', access: 'public', params: { code: redeemInviteSchema.shape.code }, response: 'The role, the site (none for patients) and when the code expires (InvitePreview).' }),
      async (c) => c.json(await previewInvite(db, clock, pathParam(c, 'code', redeemInviteSchema.shape.code))),
    )
    .post('/invites/redeem', doc({ tag: 'Sign-in', summary: 'Redeem an invite code: make the account and sign it in', access: 'public', body: redeemInviteSchema, status: 201, response: loginResultSchema, errors: { 429: 'Too many invite codes tried from this address.' } }), async (c) => {
      const body = await json(c, redeemInviteSchema);
      const address = addressOf(c);
      try {
        const { user, invite } = await redeemInvite(db, clock, body);
        await audit({ action: 'enrolment.redeemed', actor: { label: user.email, userId: user.id }, target: user.email, siteId: invite.siteId, address, detail: { role: user.role, invite: invite.id } });
        setSession(c, await sessions.start(user.id));
        await audit({ action: 'auth.sign_in', actor: { label: user.email, userId: user.id }, siteId: user.siteId, address, detail: { via: 'invite' } });
        return c.json<LoginResult>({ user: sessionUser(user) }, 201);
      } catch (err) {
        if (err instanceof ConsiliumError) await audit({ action: 'enrolment.refused', actor: { label: body.email }, address, detail: { reason: err.message } });
        throw err;
      }
    });
}
