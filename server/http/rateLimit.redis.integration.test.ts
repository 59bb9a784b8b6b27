import { Hono } from 'hono';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { testPrefix, testRedisUrl, twoProcesses } from '../testing/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consume, createRateLimiters, rateLimit, type RateLimitSettings } from './rateLimit';

/** Rate limits as two server processes behind one load balancer hold them: one Redis, two connections. */
describe('rate limits shared through Redis', () => {
  const prefix = testPrefix('rl:');
  let redisA: Redis;
  let redisB: Redis;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ a: redisA, b: redisB, close } = await twoProcesses(prefix));
  });
  afterAll(() => close());

  const overrides: Partial<RateLimitSettings> = { loginPerEmail: { points: 5, durationSeconds: 900 } };

  it('two processes spend one budget: 3 on A and 2 on B pass, the 6th on either is refused with when to retry', async () => {
    const a = createRateLimiters(overrides, { redis: redisA, prefix });
    const b = createRateLimiters(overrides, { redis: redisB, prefix });
    const key = `nurse-${randomBytes(4).toString('hex')}@hospital.org`;
    for (let i = 0; i < 3; i++) expect(await consume(a.loginPerEmail, [key])).toEqual({ ok: true });
    for (let i = 0; i < 2; i++) expect(await consume(b.loginPerEmail, [key])).toEqual({ ok: true });
    const onA = await consume(a.loginPerEmail, [key]);
    const onB = await consume(b.loginPerEmail, [key]);
    for (const refused of [onA, onB]) {
      expect(refused.ok).toBe(false);
      if (refused.ok) continue;
      expect(refused.retryAfterSeconds).toBeGreaterThan(900 - 5);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(900);
    }
    // Another account, and another setting under the same key, have budgets of their own.
    expect(await consume(b.loginPerEmail, [`other-${key}`])).toEqual({ ok: true });
    expect(await consume(a.loginPerAddress, [key])).toEqual({ ok: true });
    // The counters are in Redis under the setting's name, not in either process.
    expect(await redisA.get(`${prefix}loginPerEmail:${key}`)).toBe('7');
  });

  it('answers 429 through the middleware of the other process', async () => {
    const appOn = (redis: Redis) => {
      const limiters = createRateLimiters({ chatPerAddress: { points: 2, durationSeconds: 60 } }, { redis, prefix });
      const app = new Hono();
      app.use('/chat', rateLimit({ limiter: limiters.chatPerAddress, keys: (c) => [c.req.header('x-client')], message: 'too many chat requests' }));
      app.post('/chat', (c) => c.text('ok'));
      return app;
    };
    const [a, b] = [appOn(redisA), appOn(redisB)];
    const client = `client-${randomBytes(4).toString('hex')}`;
    const ask = (app: Hono) => app.request('/chat', { method: 'POST', headers: { 'x-client': client } });
    expect((await ask(a)).status).toBe(200);
    expect((await ask(b)).status).toBe(200);
    const refused = await ask(a);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('falls back to a per-process budget while Redis cannot be reached, rather than refusing everyone', async () => {
    // A client that never reaches a Redis: as during an outage, it is not "ready".
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    try {
      const limiters = createRateLimiters(overrides, { redis: down, prefix });
      const key = `nurse-${randomBytes(4).toString('hex')}@hospital.org`;
      for (let i = 0; i < 5; i++) expect(await consume(limiters.loginPerEmail, [key])).toEqual({ ok: true });
      expect(await consume(limiters.loginPerEmail, [key])).toMatchObject({ ok: false });
    } finally {
      down.disconnect();
    }
  });
});
