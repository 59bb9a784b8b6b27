import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the tests use: REDIS_URL, else the local one (.ci/run starts it). */
export const testRedisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Whether the test Redis answers now (a second at most). */
export async function redisAnswers(): Promise<boolean> {
  const r = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** A key prefix no other test run uses. */
export function testPrefix(what: string): string {
  return `consilium-test:${process.pid}:${randomBytes(4).toString('hex')}:${what}`;
}

/**
 * Two connections to one Redis, as two server processes have, ready before use (until a client is
 * ready the shared limits count in memory: the outage fallback); `close` deletes the prefix's keys.
 */
export async function twoProcesses(prefix: string): Promise<{ a: Redis; b: Redis; close(): Promise<void> }> {
  const a = new Redis(testRedisUrl);
  const b = new Redis(testRedisUrl);
  await Promise.all([a.ping(), b.ping()]);
  return {
    a,
    b,
    async close() {
      await deleteKeys(a, prefix);
      await Promise.all([a.quit(), b.quit()]);
    },
  };
}

/** Deletes every key under the prefix. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
}
