import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface DemoHospitalLink {
  name: string;
  url: string;
  token: string;
  /** The site the link signs in as (the token's subject). */
  siteId: string;
}

export interface ConsiliumServer {
  url: string;
  dataDir: string;
  /** The sign-in file the server wrote (admin password, hospital links): the console only names it. */
  signInFile: string;
  admin: { email: string; password: string };
  hospitals: DemoHospitalLink[];
  /** Everything the server printed (stdout and stderr: the logs and the banner), across restarts, for failure messages. */
  output(): string;
  /** Whether the server process is up. */
  running(): boolean;
  /** The server process's id while it is up (to read its memory in /proc, say). */
  pid(): number | undefined;
  /**
   * Stops the process but keeps its port and data folder, so `start()` brings the same server back
   * and open tabs reconnect. `SIGKILL` is a crash: no shutdown code runs.
   */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts a killed server again on the same port and data folder; resolves once it serves. `env` is merged over the first start's. */
  start(env?: Record<string, string>): Promise<void>;
  /** Resolves when the process has exited by itself (a crash point, say); rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<void>;
  /** `kill()` then `start()`; `hard` kills with SIGKILL. */
  restart(opts?: { hard?: boolean }): Promise<void>;
  /** Stops the server for good and removes its data folder. */
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
}

interface Launched {
  child: ChildProcess;
  banner: string;
}

/**
 * Spawns `tsx server/main.ts` and waits for its console banner: the URL, and the sign-in file it names
 * (the admin password and hospital links are never printed to captured output, only written there).
 */
async function launch(env: Record<string, string>, log: (chunk: string) => void): Promise<Launched> {
  // CONSILIUM_SERVER_NODE_ARGS: extra flags for the server's Node, e.g. `--cpu-prof` to profile it under a bench.
  const extra = process.env.CONSILIUM_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...extra, '--import', 'tsx', 'server/main.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (d: Buffer) => {
    out += d;
    log(String(d));
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);

  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 120 s:\n${out}`));
    }, 120_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    };
    const check = () => {
      if (/Sign-in details .* in .+\n/.test(out)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout!.off('data', check);
        resolve(out);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', onExit);
  });
  return { child, banner };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/**
 * Start the real server (`tsx server/main.ts`, as `npm start` does after its build) on a free port
 * with a data folder of its own, and read its console banner (URL) and the sign-in file it names
 * (admin password, hospital links).
 * The returned handle can kill (gracefully or hard) and restart it on the same port and data folder.
 */
export async function startConsilium(opts: StartOptions = {}): Promise<ConsiliumServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-e2e-'));
  let out = '';
  const log = (chunk: string) => (out += chunk);
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '', ...opts.env };

  let current: ChildProcess;
  let banner: string;
  try {
    ({ child: current, banner } = await launch(env, log));
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }

  const url = banner.match(/running at (\S+)/)![1];
  const port = new URL(url).port;
  const signInFile = banner.match(/Sign-in details .* in (.+)\n/)![1];
  const details = fs.readFileSync(signInFile, 'utf8');
  const email = details.match(/email:\s+(\S+)/)![1];
  // Made at first start; a fresh data folder always has one.
  const password = details.match(/password:\s+(\S+)\s+\(/)![1];
  const hospitals = [...details.matchAll(/^\s{4}(.+?)\s+(https?:\/\/\S+\/hospital\/(\S+))$/gm)].map((m) => ({
    name: m[1].trim(),
    url: m[2],
    token: m[3],
    siteId: JSON.parse(Buffer.from(m[3].split('.')[1], 'base64url').toString('utf8')).sub as string,
  }));

  const isRunning = () => current.exitCode === null && current.signalCode === null;

  async function kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (!isRunning()) return;
    const done = exited(current);
    current.kill(signal);
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
    if (isRunning()) {
      current.kill('SIGKILL');
      await done;
    }
  }

  async function start(overrides: Record<string, string> = {}): Promise<void> {
    if (isRunning()) throw new Error('the server is already running');
    out += `\n--- restarted on port ${port} ---\n`;
    // The same port and data folder: links, sessions and open tabs carry on.
    ({ child: current } = await launch({ ...env, ...overrides, PORT: port }, log));
  }

  return {
    url,
    dataDir,
    signInFile,
    admin: { email, password },
    hospitals,
    output: () => out,
    running: isRunning,
    pid: () => (isRunning() ? current.pid : undefined),
    kill,
    start,
    exited: (timeoutMs = 30_000) =>
      Promise.race([
        exited(current),
        new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`the server still runs after ${timeoutMs} ms`)), timeoutMs).unref()),
      ]),
    async restart({ hard = false } = {}) {
      await kill(hard ? 'SIGKILL' : 'SIGTERM');
      await start();
    },
    async stop() {
      await kill('SIGTERM');
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
