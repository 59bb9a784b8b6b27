import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../shared/protocol/errors';
import {
  accountOf,
  addressOf,
  clientAddress,
  consume,
  createLimiter,
  createRateLimiters,
  defaultRateLimits,
  jsonFieldOf,
  normaliseAddress,
  rateLimit,
  type RateLimitSettings,
} from './rateLimit';

/** A login route behind the same two budgets as the server's, echoing the email it read. */
function loginApp(overrides: Partial<RateLimitSettings> = {}) {
  const limiters = createRateLimiters(overrides);
  const app = new Hono();
  app.use('/login', rateLimit({ limiter: limiters.loginPerAddress, methods: ['POST'], keys: (c) => [`address:${addressOf(c)}`] }));
  app.use('/login', rateLimit({ limiter: limiters.loginPerEmail, methods: ['POST'], keys: async (c) => [await jsonFieldOf(c, 'email')] }));
  app.post('/login', async (c) => c.json({ email: ((await c.req.json().catch(() => ({}))) as { email?: string }).email ?? null }));
  app.get('/login', (c) => c.text('the sign-in page'));
  return app;
}

const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

function login(app: Hono, email: string, address = '10.0.0.1') {
  return app.request('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'guess' }) }, from(address));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rate limits on sign-in', () => {
  it('refuses the 6th sign-in for one email within the window with 429 and Retry-After', async () => {
    const app = loginApp();
    for (let i = 1; i <= 5; i++) {
      const res = await login(app, 'nurse@hospital.org');
      expect(res.status).toBe(200);
      // The limit read the email from a copy: the route still gets the whole body.
      expect(await res.json()).toEqual({ email: 'nurse@hospital.org' });
    }
    const res = await login(app, 'Nurse@Hospital.org ');
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(15 * 60 - 5);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(ErrorCode.RateLimited);
    expect(body.error.message).toMatch(/try again in \d+ s/);
    // The same email from elsewhere is refused too: the budget is the account's, not the address's.
    expect((await login(app, 'nurse@hospital.org', '10.9.9.9')).status).toBe(429);
  });

  it('holds another email from the same address only to the address budget', async () => {
    const app = loginApp();
    for (let i = 0; i < 6; i++) await login(app, 'victim@hospital.org');
    expect((await login(app, 'victim@hospital.org')).status).toBe(429);
    // 7 attempts so far from 10.0.0.1; the address allows 30 in 15 minutes, 5 per email.
    for (let i = 8; i <= 30; i++) expect((await login(app, `user${i}@hospital.org`)).status).toBe(200);
    const refused = await login(app, 'fresh@hospital.org');
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.RateLimited);
    // Another address with that same email is still welcome.
    expect((await login(app, 'fresh@hospital.org', '10.0.0.2')).status).toBe(200);
  });

  it('allows the account again once the window has passed', async () => {
    const app = loginApp({ loginPerEmail: { points: 2, durationSeconds: 1 } });
    expect((await login(app, 'a@b.org')).status).toBe(200);
    expect((await login(app, 'a@b.org')).status).toBe(200);
    const refused = await login(app, 'a@b.org');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    await sleep(1100);
    expect((await login(app, 'a@b.org')).status).toBe(200);
  });

  it('counts only the methods it is given', async () => {
    const app = loginApp({ loginPerAddress: { points: 1, durationSeconds: 60 } });
    for (let i = 0; i < 5; i++) expect((await app.request('/login', {}, from('10.0.0.1'))).status).toBe(200);
    expect((await login(app, 'a@b.org')).status).toBe(200);
    expect((await login(app, 'c@d.org')).status).toBe(429);
  });

  it('still limits by address when the body has no email, or is not JSON', async () => {
    const app = loginApp({ loginPerAddress: { points: 2, durationSeconds: 60 } });
    const junk = () => app.request('/login', { method: 'POST', body: 'email=a@b.org' }, from('10.0.0.1'));
    await junk();
    await junk();
    expect((await junk()).status).toBe(429);
  });

  it('works behind @hono/node-server: the peer address and an unconsumed body', async () => {
    const app = loginApp({ loginPerAddress: { points: 3, durationSeconds: 60 } });
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    try {
      const { port } = server.address() as AddressInfo;
      const post = (email: string) =>
        fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
      for (const email of ['a@x.org', 'b@x.org', 'c@x.org']) {
        const res = await post(email);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ email });
      }
      const res = await post('d@x.org');
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('rate limit building blocks', () => {
  it('consume: every key must have a point left, and the wait is the longest one', async () => {
    const short = createLimiter('short', { points: 1, durationSeconds: 2 });
    expect(await consume(short, ['address:1'])).toEqual({ ok: true });
    expect(await consume(short, ['user:1', null, undefined])).toEqual({ ok: true });
    expect(await consume(short, ['user:2', 'address:1'])).toEqual({ ok: false, retryAfterSeconds: 2 });
    expect(await consume(short, [])).toEqual({ ok: true });
  });

  it('accepts a limit given inline, for a route that needs its own', async () => {
    const app = new Hono();
    app.use('/chat/*', rateLimit({ name: 'chat', points: 1, durationSeconds: 30, keys: () => ['one'], message: 'too many chat requests' }));
    app.post('/chat/ask', (c) => c.text('ok'));
    expect((await app.request('/chat/ask', { method: 'POST' })).status).toBe(200);
    const res = await app.request('/chat/ask', { method: 'POST' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('too many chat requests: try again in 30 s');
  });

  it('keys an upload by the account, the hospital link otherwise', async () => {
    const app = new Hono<{ Variables: { principal: unknown } }>();
    let principal: unknown = null;
    app.use('*', async (c, next) => {
      c.set('principal', principal);
      await next();
    });
    app.get('/', (c) => c.text(String(accountOf(c))));
    expect(await (await app.request('/')).text()).toBe('null');
    principal = { kind: 'hospital', siteId: 's1', userId: null };
    expect(await (await app.request('/')).text()).toBe('site:s1');
    principal = { kind: 'hospital', siteId: 's1', userId: 'u7' };
    expect(await (await app.request('/')).text()).toBe('user:u7');
  });

  it('reads addresses: IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64', () => {
    expect(normaliseAddress('192.0.2.7')).toBe('192.0.2.7');
    expect(normaliseAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(normaliseAddress('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(normaliseAddress('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(normaliseAddress('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(normaliseAddress('::1')).toBe('0:0:0:0::/64');
    expect(normaliseAddress(undefined)).toBe('unknown');
  });

  it('believes X-Forwarded-For only as far as the trusted proxies reach', () => {
    const xff = '6.6.6.6, 203.0.113.9';
    expect(clientAddress('10.0.0.1', xff, 0)).toBe('10.0.0.1');
    // One proxy: its own entry (the last) is the client it saw; the forged first entry is ignored.
    expect(clientAddress('10.0.0.1', xff, 1)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.1', xff, 2)).toBe('6.6.6.6');
    expect(clientAddress('10.0.0.1', undefined, 1)).toBe('10.0.0.1');
  });

  it('has the documented defaults', () => {
    expect(defaultRateLimits).toEqual({
      loginPerEmail: { points: 5, durationSeconds: 900 },
      loginPerAddress: { points: 30, durationSeconds: 900 },
      inviteRedeemPerAddress: { points: 10, durationSeconds: 900 },
      uploadsPerAccount: { points: 30, durationSeconds: 60 },
      chatPerAddress: { points: 30, durationSeconds: 60 },
    });
    expect(() => createLimiter('bad', { points: 0, durationSeconds: 60 })).toThrow(/points must be/);
  });
});
