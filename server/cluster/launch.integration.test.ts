import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STICKY_COOKIE } from './haproxy';
import { ensureDatabase, startCluster, type Cluster } from './launch';
import { acceptsTcp } from './ports';

const server = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** The status a GET through the balancer gets, and the sticky cookie it sets. */
async function get(url: string): Promise<{ status: number; cookie: string | null }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await res.body?.cancel();
  return { status: res.status, cookie: res.headers.get('set-cookie') };
}

async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined as T);
    if (v !== undefined && done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The launcher with one real server process (several on one database need the per-study
 * coordination; the multi-process behaviour is tested where that lives): it makes the database,
 * puts HAProxy in front, survives a kill -9 and a restart, and stops everything it started.
 */
describe('startCluster', () => {
  const name = `consilium_cluster_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
  let dir: string;
  let cluster: Cluster | undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-cluster-'));
    expect(await ensureDatabase(databaseUrl)).toBe(true);
    cluster = await startCluster({
      processes: 1,
      build: false,
      databaseUrl,
      redisUrl: REDIS_URL,
      redisPrefix: `consilium-test:${name}:`,
      dir,
      env: { LOG_LEVEL: 'warn', DEMO: '0' },
      onLine: (source, line) => lines.push(`${source} | ${line}`),
    });
  }, 150_000);

  afterAll(async () => {
    await cluster?.stop(10_000);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`consilium-test:${name}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    const admin = postgres(server, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('leaves an existing database as it is', async () => {
    expect(await ensureDatabase(databaseUrl)).toBe(false);
  });

  it('serves through HAProxy and pins the browser with the sticky cookie', async () => {
    const res = await get(`http://127.0.0.1:${cluster!.port}/api/health`);
    expect(res.status).toBe(200);
    expect(res.cookie).toMatch(new RegExp(`^${STICKY_COOKIE}=consilium-0;`));
    expect(fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8')).toContain(`server consilium-0 127.0.0.1:${cluster!.processes[0].port} check cookie consilium-0`);
  });

  it('gives each process its data folder and the balancer as its public URL, and prefixes its output with its name', () => {
    const [p] = cluster!.processes;
    expect(cluster!.url).toBe(`http://localhost:${cluster!.port}`);
    expect(p.dataDir).toBe(path.join(dir, '0'));
    expect(fs.existsSync(path.join(p.dataDir, 'sign-in.txt'))).toBe(true);
    expect(lines).toContain(`consilium-0 |   Consilium is running at ${cluster!.url}`);
  });

  it('after a kill -9 the balancer has no server; a restart brings the process back on its port', async () => {
    const [p] = cluster!.processes;
    const before = p.pid;
    await p.kill('SIGKILL');
    expect(p.running()).toBe(false);
    expect(p.pid).toBeUndefined();
    await until(() => get(`${cluster!.url}/api/health`), (r) => r.status === 503, 'HAProxy marks the dead process down');
    await p.restart();
    expect(p.pid).toBeGreaterThan(0);
    expect(p.pid).not.toBe(before);
    await until(() => get(`${cluster!.url}/api/health`), (r) => r.status === 200, 'HAProxy takes the restarted process back');
  }, 150_000);

  it('stop() ends HAProxy and every process', async () => {
    await cluster!.stop(10_000);
    expect(cluster!.processes.every((p) => !p.running())).toBe(true);
    expect(cluster!.haproxy.process.exitCode !== null || cluster!.haproxy.process.signalCode !== null).toBe(true);
    expect(await acceptsTcp(cluster!.port)).toBe(false);
  }, 60_000);
});

/** A stand-in for the server: answers /api/health, and anything else with its PROCESS_NAME and the env it was given. */
const STAND_IN = `
const http = require('node:http');
const { PORT, HOST, PROCESS_NAME, PUBLIC_URL, DATA_DIR, DATABASE_URL, REDIS_URL, BLOB_DIR, EXTRA } = process.env;
http.createServer((req, res) => {
  if (req.url === '/api/health') return res.writeHead(200).end();
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: PROCESS_NAME, PUBLIC_URL, DATA_DIR, DATABASE_URL, REDIS_URL, BLOB_DIR, EXTRA }));
}).listen(Number(PORT), HOST, () => console.log(PROCESS_NAME + ' listening'));
`;

/** The orchestration of several processes (a stand-in command, so it needs no database): spread, pinned, failed over, restarted. */
describe('startCluster with several processes', () => {
  let dir: string;
  let cluster: Cluster | undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-cluster-standin-'));
    cluster = await startCluster({
      processes: 3,
      build: false,
      createDatabase: false,
      databaseUrl: 'postgres://nobody@127.0.0.1:1/none',
      dir,
      command: [process.execPath, '-e', STAND_IN],
      env: { EXTRA: 'all' },
      processEnv: (i): Record<string, string> => (i === 2 ? { EXTRA: 'third' } : {}),
      onLine: (source, line) => lines.push(`${source} | ${line}`),
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop(10_000);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  type Answer = { name: string; PUBLIC_URL: string; DATA_DIR: string; DATABASE_URL: string; REDIS_URL: string; BLOB_DIR: string; EXTRA: string };
  async function ask(cookie?: string): Promise<{ body: Answer; cookie: string | null }> {
    const res = await fetch(`http://127.0.0.1:${cluster!.port}/`, { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(5000) });
    return { body: (await res.json()) as Answer, cookie: res.headers.get('set-cookie') };
  }

  it('gives every process its own port, data folder and name, and the shared settings', async () => {
    const seen = new Map<string, Answer>();
    // Round robin: three fresh browsers land on three processes.
    for (let i = 0; i < 3; i++) {
      const { body } = await ask();
      seen.set(body.name, body);
    }
    expect([...seen.keys()].sort()).toEqual(['consilium-0', 'consilium-1', 'consilium-2']);
    for (const [i, p] of cluster!.processes.entries()) {
      expect(seen.get(p.name)).toEqual({
        name: p.name,
        PUBLIC_URL: cluster!.url,
        DATA_DIR: path.join(dir, String(i)),
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        REDIS_URL: 'redis://127.0.0.1:6379',
        BLOB_DIR: path.join(dir, 'blobs'),
        EXTRA: i === 2 ? 'third' : 'all',
      });
    }
    expect(new Set(cluster!.processes.map((p) => p.port)).size).toBe(3);
    expect(lines).toContain('consilium-1 | consilium-1 listening');
  });

  it('pins a browser to its process, and moves it to a live one when that process is killed', async () => {
    const victim = cluster!.processes[1];
    const cookie = `${STICKY_COOKIE}=${victim.name}`;
    for (let i = 0; i < 4; i++) expect((await ask(cookie)).body.name).toBe(victim.name);
    const pid = victim.pid;
    await victim.kill('SIGKILL');
    const moved = await until(() => ask(cookie), (r) => r.body.name !== victim.name, 'the balancer sends the browser elsewhere');
    expect(moved.cookie).toMatch(new RegExp(`^${STICKY_COOKIE}=${moved.body.name};`));
    expect(lines).toContain(`cluster | ${victim.name} (pid ${pid}) exited: SIGKILL`);
  });

  it('restart() brings the killed process back, and its browsers reach it again', async () => {
    const victim = cluster!.processes[1];
    await victim.restart();
    expect(victim.running()).toBe(true);
    await until(() => ask(`${STICKY_COOKIE}=${victim.name}`), (r) => r.body.name === victim.name, 'the balancer takes it back');
  });

  it('stop() ends every process and the balancer', async () => {
    await cluster!.stop(10_000);
    expect(cluster!.processes.every((p) => !p.running())).toBe(true);
    expect(await acceptsTcp(cluster!.port)).toBe(false);
  });
});
