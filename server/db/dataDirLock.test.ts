import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './dataDirLock';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('data folder lock', () => {
  it('refuses a folder held by a live process, naming it and the way out', async () => {
    const dir = tmp();
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      fs.writeFileSync(path.join(dir, 'consilium.pid'), String(holder.pid));
      expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`pid ${holder.pid}.*DATA_DIR`, 's'));
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over a lock left by a process that died (a SIGKILL), and releases its own', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'consilium.pid'), '999999');
    const release = lockDataDir(dir);
    expect(fs.readFileSync(path.join(dir, 'consilium.pid'), 'utf8')).toBe(String(process.pid));
    release();
    expect(fs.existsSync(path.join(dir, 'consilium.pid'))).toBe(false);
  });

  it('creates a missing folder', () => {
    const dir = path.join(tmp(), 'nested', 'data');
    lockDataDir(dir)();
    expect(fs.existsSync(dir)).toBe(true);
  });
});
