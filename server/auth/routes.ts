import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { loginRequestSchema, type Identity, type LoginResult } from '../../shared/protocol/schemas';
import type { Db } from '../db/client';
import { sites } from '../db/schema';
import { requireAny, type AppEnv } from '../http/principal';
import { studiesOfSite } from '../studies/service';
import { verifyLogin } from './admin';
import { ADMIN_SESSION_SECONDS, SESSION_COOKIE, type Tokens } from './tokens';

export function authRoutes(deps: { db: Db; tokens: Tokens; secureCookies: boolean }) {
  const { db, tokens } = deps;
  return new Hono<AppEnv>()
    .post('/login', async (c) => {
      const body = loginRequestSchema.safeParse(await c.req.json().catch(() => null));
      if (!body.success) throw new ConsiliumError(ErrorCode.BadRequest, 'email and password are required', 400);
      const user = await verifyLogin(db, body.data.email, body.data.password);
      if (!user) throw new ConsiliumError(ErrorCode.Unauthenticated, 'wrong email or password', 401);
      setCookie(c, SESSION_COOKIE, await tokens.adminSession(user.id, user.email), {
        httpOnly: true,
        sameSite: 'Strict',
        secure: deps.secureCookies,
        path: '/',
        maxAge: ADMIN_SESSION_SECONDS,
      });
      const result: LoginResult = { user: { email: user.email, role: user.role } };
      return c.json(result);
    })
    .post('/logout', (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.json({ ok: true });
    })
    .get('/me', async (c) => {
      const p = requireAny(c);
      if (p.kind === 'admin') return c.json<Identity>({ role: 'platform_admin', email: p.email });
      const [site] = await db.select().from(sites).where(eq(sites.id, p.siteId));
      if (!site) throw new ConsiliumError(ErrorCode.Unauthenticated, 'this hospital link is no longer valid', 401);
      return c.json<Identity>({
        role: 'hospital',
        site: { id: site.id, name: site.name },
        demoProfile: site.demoProfile,
        studyIds: await studiesOfSite(db, site.id),
      });
    });
}
