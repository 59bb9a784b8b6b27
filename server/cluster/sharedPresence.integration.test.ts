import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SharedPresence, type RemotePresenceChange } from './sharedPresence';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Two server processes, each with its own Redis connection, as they would have. */
describe('presence shared by two processes through Redis', () => {
  const prefix = `consilium-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
  const clients: Redis[] = [];
  const started: SharedPresence[] = [];
  let admin: Redis;

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.close()));
    await Promise.all(clients.splice(0).map((c) => c.quit()));
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
  });
  afterAll(async () => {
    await admin.quit();
  });

  /** A process; the heartbeat is slow so that only the test's explicit sync() moves the mirror. */
  const processNamed = (processId: string, opts: { heartbeatMs?: number; deadAfterMs?: number } = {}) => {
    const redis = new Redis(REDIS_URL);
    clients.push(redis);
    const p = new SharedPresence(redis, { processId, prefix, heartbeatMs: 60_000, deadAfterMs: 120_000, ...opts });
    started.push(p);
    return p;
  };

  it('a tab connected on A is online for B once B has synced, with what it reported; gone when it leaves', async () => {
    const a = processNamed('a');
    const b = processNamed('b');
    a.connect('p1', 'study', 'site-1', 'sock-a1');
    await a.flush();
    await b.sync();
    expect(b.online('study')).toEqual(['p1']);
    expect(b.isOnline('p1')).toBe(true);
    expect(b.connectedSites()).toBe(1);
    expect(b.liveProcesses().sort()).toEqual(['a', 'b']);

    a.report('p1', { studyId: 'study', state: 'training', backend: 'webgl', round: 3, epoch: 1, epochs: 5, loss: 0.42 });
    await a.flush();
    await b.sync();
    expect(b.get('p1')).toMatchObject({ participantId: 'p1', studyId: 'study', siteId: 'site-1', state: 'training', backend: 'webgl', round: 3, epoch: 1, epochs: 5, loss: 0.42 });

    expect(a.disconnect('sock-a1').map((e) => e.participantId)).toEqual(['p1']);
    await a.flush();
    await b.sync();
    expect(b.online('study')).toEqual([]);
    expect(b.isOnline('p1')).toBe(false);
    expect(b.connectedSites()).toBe(0);
    // Its last word stays readable, as in one process: the dashboard shows it offline, not unknown.
    expect(b.get('p1')?.state).toBe('offline');
  });

  it('keeps a suspended tab\'s word for the other processes too', async () => {
    const a = processNamed('a');
    const b = processNamed('b');
    a.connect('p1', 'study', 'site-1', 'sock-a1');
    a.report('p1', { studyId: 'study', state: 'suspended', round: 2 });
    a.disconnect('sock-a1');
    await a.flush();
    await b.sync();
    expect(b.get('p1')).toMatchObject({ state: 'suspended', round: 2 });
    expect(b.online('study')).toEqual([]);
  });

  it('counts a participant connected on both processes once, and prefers the local entry', async () => {
    const a = processNamed('a');
    const b = processNamed('b');
    a.connect('p1', 'study', 'site-1', 'sock-a1');
    a.connect('p2', 'study', 'site-2', 'sock-a2');
    b.connect('p1', 'study', 'site-1', 'sock-b1');
    a.report('p1', { studyId: 'study', state: 'training' });
    b.report('p1', { studyId: 'study', state: 'evaluating' });
    await Promise.all([a.flush(), b.flush()]);
    await Promise.all([a.sync(), b.sync()]);
    expect(a.online('study')).toEqual(['p1', 'p2']);
    expect(b.online('study')).toEqual(['p1', 'p2']);
    expect(a.connectedSites()).toBe(2);
    expect(b.connectedSites()).toBe(2);
    expect(a.get('p1')?.state).toBe('training');
    expect(b.get('p1')?.state).toBe('evaluating');
    // Its tab on B leaves; it is still online through A, for both.
    b.disconnect('sock-b1');
    await b.flush();
    await a.sync();
    expect(a.online('study')).toEqual(['p1', 'p2']);
    expect(b.online('study')).toEqual(['p1', 'p2']);
    expect(b.isOnline('p1')).toBe(true);
    expect(b.get('p1')?.state).toBe('training');
  });

  it('drops a killed process\'s tabs once its heartbeat is older than deadAfterMs, and tells listeners', async () => {
    const a = processNamed('a', { heartbeatMs: 50, deadAfterMs: 300 });
    const b = processNamed('b', { heartbeatMs: 100, deadAfterMs: 300 });
    const changes: RemotePresenceChange[] = [];
    b.onRemoteChange((c) => changes.push(c));
    a.connect('p1', 'study', 'site-1', 'sock-a1');
    await a.flush();
    await vi.waitFor(async () => {
      await b.sync();
      expect(b.liveProcesses()).toContain('a');
    });
    expect(b.online('study')).toEqual(['p1']);
    expect(changes).toEqual([{ studyId: 'study', participantId: 'p1', online: true }]);

    // kill -9: the timer stops, nothing is cleaned up.
    a.stopHeartbeat();
    await vi.waitFor(
      async () => {
        await b.sync();
        expect(b.liveProcesses()).not.toContain('a');
      },
      { timeout: 5_000, interval: 100 },
    );
    expect(b.online('study')).toEqual([]);
    expect(b.isOnline('p1')).toBe(false);
    expect(changes.at(-1)).toEqual({ studyId: 'study', participantId: 'p1', online: false });
    // The reaper deleted the dead process's hash with its heartbeat.
    expect(await admin.exists(`${prefix}presence:a`)).toBe(0);
  });

  it('a process reaped during a long pause publishes its tabs again when it beats', async () => {
    const a = processNamed('a', { heartbeatMs: 50, deadAfterMs: 300 });
    const b = processNamed('b', { heartbeatMs: 100, deadAfterMs: 300 });
    a.connect('p1', 'study', 'site-1', 'sock-a1');
    await a.flush();
    // Another process reaped A while it was paused (as after a long GC pause or a frozen VM).
    await admin.multi().zrem(`${prefix}processes`, 'a').del(`${prefix}presence:a`).exec();
    const backOnB = () =>
      vi.waitFor(
        async () => {
          await b.sync();
          expect(b.online('study')).toEqual(['p1']);
        },
        { timeout: 5_000, interval: 50 },
      );
    await backOnB();
    // Its hash expired (a pause past twice deadAfterMs with no peer to reap it): the same.
    await admin.del(`${prefix}presence:a`);
    await backOnB();
    expect(await admin.pttl(`${prefix}presence:a`)).toBeGreaterThan(0);
  });

  it('close() removes this process\'s tabs and heartbeat from Redis', async () => {
    const a = processNamed('a');
    const b = processNamed('b');
    a.connect('p1', 'study', 'site-1', 'sock-a1');
    await a.flush();
    await b.sync();
    expect(b.online('study')).toEqual(['p1']);
    await a.close();
    await b.sync();
    expect(b.online('study')).toEqual([]);
    expect(b.liveProcesses()).toEqual(['b']);
    expect(await admin.exists(`${prefix}presence:a`)).toBe(0);
  });
});
