/**
 * N Consilium processes on one PostgreSQL and one Redis, behind HAProxy, on this machine: the engine
 * of `npm run cluster` (scripts/cluster.ts), reused by integration tests and the cluster benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { z } from 'zod';
import { findHaproxy, haproxyConfig, HaproxyError, startHaproxy, type RunningHaproxy } from './haproxy';
import { freePort } from './ports';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/consilium_cluster';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const optionsSchema = z.object({
  processes: z.number().int().min(1).max(64).default(2),
  /** The balancer's port; unset: a free one. */
  port: z.number().int().min(0).max(65535).optional(),
  /** Where the balancer and the processes listen. */
  host: z.string().min(1).default('127.0.0.1'),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\/./, { error: 'must be a postgres:// URL' }).default(DEFAULT_DATABASE_URL),
  redisUrl: z.string().regex(/^rediss?:\/\/./, { error: 'must be a redis:// URL' }).default(DEFAULT_REDIS_URL),
  /** Prefix of the cluster's Redis keys (REDIS_PREFIX); unset: the server's default. Tests give each cluster its own. */
  redisPrefix: z.string().min(1).optional(),
  /** Create the database named in databaseUrl when it does not exist. */
  createDatabase: z.boolean().default(true),
  /** Holds each process's DATA_DIR (`<dir>/<i>`), the blob folder they share (`<dir>/blobs`) and the generated haproxy.cfg. */
  dir: z.string().min(1).default('.cluster'),
  /** The command for one process; its env carries PORT, PROCESS_NAME, DATA_DIR and the rest. */
  command: z.array(z.string()).min(1).optional(),
  /** More environment for every process, over the cluster's own (PORT, PROCESS_NAME and DATA_DIR stay per process). */
  env: z.record(z.string(), z.string()).default({}),
  /** Build the SPA once (`npx vite build`) so every process serves the same bundle. */
  build: z.boolean().default(true),
  balance: z.enum(['roundrobin', 'leastconn']).default('roundrobin'),
  /** The URL browsers use (sign-in links point at it); default http://localhost:<port>. */
  publicUrl: z.string().optional(),
  /** How long one process may take to answer /api/health after its start. */
  readyTimeoutMs: z.number().int().min(1).default(120_000),
  cwd: z.string().default(process.cwd()),
});

export type ClusterOptions = z.input<typeof optionsSchema> & {
  /** More environment for one process (a crash point in one of them, say), over `env`. */
  processEnv?: (index: number, name: string) => Record<string, string>;
  /** Each line a process, HAProxy or the build prints, with its source ('consilium-0', 'haproxy', 'build'); default: prefixed on stdout. */
  onLine?: (source: string, line: string) => void;
};

export interface ClusterProcess {
  /** PROCESS_NAME, also its sticky-cookie value at the balancer. */
  name: string;
  port: number;
  dataDir: string;
  /** The live child's process id; undefined while it is down. */
  readonly pid: number | undefined;
  running(): boolean;
  /** Sends `signal` and resolves when the process has exited (SIGKILL is a crash; SIGTERM drains). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Stops it if it runs (SIGTERM), starts it again on the same port and data folder, resolves once
   * /api/health answers 200. `env` is merged over its first start's for this start only.
   */
  restart(env?: Record<string, string>): Promise<void>;
  /** Resolves when the current child exits, however. */
  exited(): Promise<void>;
}

export interface Cluster {
  /** The balancer's URL, e.g. http://localhost:8080. */
  url: string;
  port: number;
  processes: ClusterProcess[];
  haproxy: RunningHaproxy;
  /** Stops HAProxy, then sends SIGTERM to every process and waits for them (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export class ClusterError extends Error {
  override name = 'ClusterError';
}

/** Creates the database `url` names, through the server's `postgres` database, unless it exists. Returns whether it made it. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new ClusterError(`${url} names no database`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const found = await sql`select 1 from pg_database where datname = ${name}`;
    if (found.length) return false;
    await sql`create database ${sql(name)}`;
    return true;
  } catch (err) {
    // Another launcher made it between the look and the create.
    if ((err as { code?: string }).code === '42P04') return false;
    throw new ClusterError(`could not reach or create the database ${name} at ${target.host}: ${(err as Error).message}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Calls `onLine` for each whole line of `stream`, the last one too when it ends without a newline. */
function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (partial) onLine(partial);
    partial = '';
  });
}

function defaultPrinter(width: number) {
  return (source: string, line: string) => process.stdout.write(`${source.padEnd(width)} | ${line}\n`);
}

/** `npx vite build`, its output through `onLine`; throws when it fails. */
export async function buildSpa(cwd: string, onLine: (source: string, line: string) => void): Promise<void> {
  const child = spawn('npx', ['vite', 'build'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  eachLine(child.stdout!, (l) => onLine('build', l));
  eachLine(child.stderr!, (l) => onLine('build', l));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new ClusterError(`the SPA build (npx vite build) failed with ${code}`);
}

/** Polls `GET /api/health` until it answers 200; rejects when `child` exits first or after `timeoutMs`. */
async function waitHealthy(base: string, child: ChildProcess, name: string, timeoutMs: number, tail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
      throw new ClusterError(`${name} exited (${child.exitCode ?? child.signalCode}) before it answered /api/health:\n${tail()}`);
    try {
      const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new ClusterError(`${name} did not answer /api/health within ${timeoutMs} ms:\n${tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts the cluster: the database (created if missing), the SPA build, N processes on free ports,
 * then HAProxy in front once every process answers /api/health.
 *
 * The first process starts alone and the others once it serves: it applies the migrations and makes
 * the platform admin, which N processes racing on an empty database would each try at once.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const o = optionsSchema.parse(options);
  if (!findHaproxy()) throw new HaproxyError('HAProxy is not installed: apt-get install haproxy');
  const names = Array.from({ length: o.processes }, (_, i) => `consilium-${i}`);
  const onLine = options.onLine ?? defaultPrinter(Math.max(...names.map((n) => n.length), 'haproxy'.length));

  if (o.createDatabase) {
    const made = await ensureDatabase(o.databaseUrl);
    if (made) onLine('cluster', `created the database ${new URL(o.databaseUrl).pathname.slice(1)}`);
  }
  if (o.build) await buildSpa(o.cwd, onLine);

  const dir = path.resolve(o.cwd, o.dir);
  fs.mkdirSync(dir, { recursive: true });
  const front = o.port || (await freePort(o.host));
  const publicUrl = (o.publicUrl ?? `http://localhost:${front}`).replace(/\/$/, '');
  const command = o.command ?? [process.execPath, '--import', 'tsx', 'server/main.ts'];
  const ports: number[] = [];
  for (const _ of names) {
    let p = await freePort(o.host);
    // The kernel may hand the same free port twice in a row; it is not bound until the child starts.
    while (p === front || ports.includes(p)) p = await freePort(o.host);
    ports.push(p);
  }

  const shared = {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    ...(o.redisPrefix ? { REDIS_PREFIX: o.redisPrefix } : {}),
    // Every process reads the updates and models any other stored (S3_BUCKET, when set, takes precedence).
    BLOB_DIR: path.join(dir, 'blobs'),
    HOST: o.host,
    PUBLIC_URL: publicUrl,
    // HAProxy adds X-Forwarded-For: believe one hop, so rate limits count browsers, not the balancer.
    TRUST_PROXY: '1',
  };

  const processes = names.map((name, i) => clusterProcess({
    name,
    port: ports[i],
    dataDir: path.join(dir, String(i)),
    command,
    cwd: o.cwd,
    env: { ...process.env, ...shared, ...o.env, ...options.processEnv?.(i, name), PORT: String(ports[i]), PROCESS_NAME: name, DATA_DIR: path.join(dir, String(i)) },
    host: o.host,
    readyTimeoutMs: o.readyTimeoutMs,
    onLine,
  }));

  const stopProcesses = async (graceMs: number) => {
    await Promise.all(
      processes.map(async (p) => {
        if (!p.running()) return;
        const done = p.exited();
        void p.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (p.running()) {
            onLine('cluster', `${p.name} still runs ${graceMs} ms after SIGTERM: killing it`);
            void p.kill('SIGKILL');
          }
        }, graceMs);
        await done;
        clearTimeout(timer);
      }),
    );
  };

  let haproxy: RunningHaproxy;
  try {
    await processes[0].restart();
    await Promise.all(processes.slice(1).map((p) => p.restart()));
    const config = haproxyConfig({
      port: front,
      host: o.host,
      balance: o.balance,
      backends: processes.map((p) => ({ name: p.name, host: o.host, port: p.port })),
    });
    haproxy = await startHaproxy({ config, dir, onLine: (l) => onLine('haproxy', l) });
  } catch (err) {
    await stopProcesses(10_000);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    url: publicUrl,
    port: front,
    processes,
    haproxy,
    stop(graceMs = 30_000) {
      // Once: Ctrl-C and SIGTERM may both arrive.
      stopping ??= (async () => {
        await haproxy.stop();
        await stopProcesses(graceMs);
      })();
      return stopping;
    },
  };
}

interface ProcessSpec {
  name: string;
  port: number;
  dataDir: string;
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  host: string;
  readyTimeoutMs: number;
  onLine: (source: string, line: string) => void;
}

/** One server process that can be killed and started again on the same port and data folder. */
function clusterProcess(spec: ProcessSpec): ClusterProcess {
  let child: ChildProcess | undefined;
  let recent: string[] = [];
  // A child that could not be spawned at all (no such command) has no pid and never exits.
  const running = () => !!child && child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const exited = (c = child) => (!c || c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));
  const base = `http://${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
  fs.mkdirSync(spec.dataDir, { recursive: true });

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!running()) return;
    const done = exited();
    child!.kill(signal);
    await done;
  };

  return {
    name: spec.name,
    port: spec.port,
    dataDir: spec.dataDir,
    get pid() {
      return running() ? child!.pid : undefined;
    },
    running,
    kill,
    exited: () => exited(),
    async restart(env = {}) {
      await kill('SIGTERM');
      recent = [];
      const [file, ...args] = spec.command;
      const line = (l: string) => {
        recent.push(l);
        if (recent.length > 40) recent.shift();
        spec.onLine(spec.name, l);
      };
      const c = spawn(file, args, { cwd: spec.cwd, env: { ...spec.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.once('error', (err) => line(`could not start ${file}: ${err.message}`));
      eachLine(c.stdout!, line);
      eachLine(c.stderr!, line);
      c.once('exit', (code, signal) => spec.onLine('cluster', `${spec.name} (pid ${c.pid}) exited: ${signal ?? `code ${code}`}`));
      try {
        await waitHealthy(base, c, spec.name, spec.readyTimeoutMs, () => recent.join('\n'));
      } catch (err) {
        if (running()) {
          c.kill('SIGKILL');
          await exited(c);
        }
        throw err;
      }
    },
  };
}
