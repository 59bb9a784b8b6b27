import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './dataDirLock';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-lock-'));
  dirs.push(d);
  return d;
};

// A separate server process in miniature: it loads the lock (warming the addon on a scratch folder, so
// the race below is not decided by load times), says "ready", tries the folder named on its stdin, says
// "locked" or "refused", and holds whatever it got until its stdin closes or it is killed.
const CHILD = `
import readline from 'node:readline';
const { lockDataDir, DataDirLockedError } = await import(process.env.LOCK_MODULE);
lockDataDir(process.env.WARM_DIR)();
const lines = readline.createInterface({ input: process.stdin });
process.stdout.write('ready\\n');
lines.on('line', (dir) => {
  try {
    lockDataDir(dir);
    process.stdout.write('locked\\n');
  } catch (err) {
    process.stdout.write(err instanceof DataDirLockedError ? 'refused\\n' : 'error ' + err.message + '\\n');
  }
});
lines.on('close', () => process.exit(0));
`;
const lockModule = fileURLToPath(new URL('./dataDirLock.ts', import.meta.url));

interface Child {
  proc: ChildProcessWithoutNullStreams;
  next(): Promise<string>;
  exited: Promise<void>;
}

const children: Child[] = [];

function startChild(): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, LOCK_MODULE: lockModule, WARM_DIR: tmp() },
  });
  let stderr = '';
  proc.stderr.on('data', (b) => (stderr += b));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queue.push(line);
  });
  const next = () =>
    queue.length
      ? Promise.resolve(queue.shift()!)
      : Promise.race([
          new Promise<string>((resolve) => waiting.push(resolve)),
          exited.then(() => {
            throw new Error(`child exited early: ${stderr}`);
          }),
        ]);
  const child = { proc, next, exited };
  children.push(child);
  return child;
}

async function ready(n: number): Promise<Child[]> {
  const started = Array.from({ length: n }, startChild);
  for (const c of started) expect(await c.next()).toBe('ready');
  return started;
}

async function kill(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

afterEach(async () => {
  await Promise.all(children.splice(0).map(kill));
  dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

describe('data folder lock', () => {
  it('refuses a folder held by a live server, naming it and the way out', async () => {
    const dir = tmp();
    const [holder] = await ready(1);
    holder.proc.stdin.write(`${dir}\n`);
    expect(await holder.next()).toBe('locked');

    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`${dir}.*pid ${holder.proc.pid} on host .*DATA_DIR.*DATABASE_URL`, 's'));
  });

  it('is taken at once after its holder is killed with SIGKILL', async () => {
    const dir = tmp();
    const [holder] = await ready(1);
    holder.proc.stdin.write(`${dir}\n`);
    expect(await holder.next()).toBe('locked');
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);

    await kill(holder);
    const release = lockDataDir(dir);
    release();
  });

  it('is not fooled by a leftover lock file naming a live, unrelated process', async () => {
    const dir = tmp();
    const [bystander] = await ready(1); // alive, but it never locked this folder
    for (const name of [`${bystander.proc.pid} ${os.hostname()}`, `1 ${os.hostname()}`, String(process.pid)]) {
      fs.writeFileSync(path.join(dir, 'consilium.lock'), name);
      fs.writeFileSync(path.join(dir, 'consilium.pid'), name); // what earlier versions left behind
      lockDataDir(dir)();
    }
  });

  it('admits exactly one of many simultaneous starts, over a fresh folder and a stale one alike', async () => {
    const racers = await ready(8); // reused: each round's winner keeps only that round's folder
    for (let round = 0; round < 6; round++) {
      const dir = tmp();
      if (round % 2 === 1) {
        // The folder a server killed mid-run leaves: its lock file, naming a pid that may live again.
        const [dead] = await ready(1);
        dead.proc.stdin.write(`${dir}\n`);
        expect(await dead.next()).toBe('locked');
        await kill(dead);
      }
      for (const r of racers) r.proc.stdin.write(`${dir}\n`);
      const results = await Promise.all(racers.map((r) => r.next()));
      expect(results.filter((r) => r === 'locked')).toHaveLength(1);
      expect(results.filter((r) => r === 'refused')).toHaveLength(7);
    }
  });

  it('refuses a second take from the same process, and is takeable again once released', async () => {
    const dir = tmp();
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);

    const [other] = await ready(1);
    other.proc.stdin.write(`${dir}\n`);
    expect(await other.next()).toBe('refused');

    release();
    release(); // twice is harmless
    other.proc.stdin.write(`${dir}\n`);
    expect(await other.next()).toBe('locked');
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
  });

  it('creates a missing folder', () => {
    const dir = path.join(tmp(), 'nested', 'data');
    lockDataDir(dir)();
    expect(fs.existsSync(dir)).toBe(true);
  });
});
