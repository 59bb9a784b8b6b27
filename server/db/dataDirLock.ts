import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/*
 * Why an OS lock, and why this one.
 *
 * A pid file cannot tell its writer from a stranger: pids are reused after a crash (in a container the
 * server is often pid 1 every time), and "read, check, delete, create" lets two starts over a stale file
 * both get in. The kernel already knows who holds a lock and drops it the instant its holder dies, even
 * on SIGKILL, so we ask it instead: an exclusive, non-blocking lock on a file in the data folder.
 *
 * fs-native-extensions (Holepunch, the locking under their hypercore storage) ships prebuilt binaries
 * for Linux and macOS (and Windows), with no install script, so `npm ci` needs the npm registry only:
 * no compiler, no node-gyp headers from nodejs.org. On Linux it takes an open-file-description lock
 * (F_OFD_SETLK), on macOS flock(2): both belong to the open file, not to the process, so the lock does
 * not vanish when some other code in the server closes another handle on the file (as classic fcntl
 * locks do), and a second attempt from the same process is refused like any other; the kernel decides
 * among simultaneous attempts, so exactly one wins. A lock lives in the inode, so containers sharing the
 * volume exclude each other whatever their PID and network namespaces (an abstract Unix socket, the
 * other no-addon candidate, is scoped to a network namespace and exists on Linux only; a socket file with
 * a connect probe needs a stale-file removal step that two starts can interleave).
 *
 * The file's text (pid and host) only makes the refusal readable; nothing trusts it. The file is never
 * deleted, not even on release: a start that opened it just before a delete would lock an orphaned
 * inode while the next start locks a fresh one, and both would get in.
 */

const LOCK_FILE = 'consilium.lock';

export interface DataDirHolder {
  pid: number;
  host: string;
}

export class DataDirLockedError extends Error {
  readonly pid: number | undefined;

  constructor(readonly dataDir: string, readonly holder?: DataDirHolder) {
    const who = holder ? ` (pid ${holder.pid} on host ${holder.host})` : '';
    super(
      `The data folder ${dataDir} is already in use by another Consilium server${who}. ` +
        'PGlite is a single-process database: stop that server, or give this one its own DATA_DIR, ' +
        'or set DATABASE_URL to share a PostgreSQL database between servers.',
    );
    this.name = 'DataDirLockedError';
    this.pid = holder?.pid;
  }
}

/** The platform has no lock to offer (no prebuilt binary for it), so the embedded database is unsafe. */
export class DataDirLockUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      `Cannot lock the data folder on this platform (${process.platform}-${process.arch}): ` +
        `${(cause as Error)?.message ?? cause}. The embedded database needs that lock to keep a second ` +
        'server out; run on glibc Linux, macOS or Windows, or set DATABASE_URL to use PostgreSQL.',
    );
    this.name = 'DataDirLockUnavailableError';
  }
}

type TryLock = (fd: number) => boolean;
let tryLockImpl: TryLock | undefined;

// Loaded on first use, so servers on PostgreSQL never need the binary.
function tryLock(fd: number): boolean {
  if (!tryLockImpl) {
    try {
      const mod = createRequire(import.meta.url)('fs-native-extensions') as { tryLock: TryLock };
      tryLockImpl = mod.tryLock;
    } catch (err) {
      throw new DataDirLockUnavailableError(err);
    }
  }
  return tryLockImpl(fd);
}

function readHolder(file: string): DataDirHolder | undefined {
  try {
    const [pid, host] = fs.readFileSync(file, 'utf8').trim().split(/\s+/, 2);
    const n = Number.parseInt(pid ?? '', 10);
    return Number.isInteger(n) && n > 0 && host ? { pid: n, host } : undefined;
  } catch {
    return undefined;
  }
}

function sameFile(fd: number, file: string): boolean {
  try {
    const a = fs.fstatSync(fd);
    const b = fs.statSync(file);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/**
 * Take the data folder for this process, or throw DataDirLockedError if another process (or another
 * call in this one) holds it. The returned function releases it; so does the process's death.
 */
export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  // Loops only if the file was deleted or replaced under us between open and lock (a person removing
  // what looks like a stale lock file): the lock must be on the inode the path names.
  for (;;) {
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    let locked: boolean;
    try {
      locked = tryLock(fd);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    if (!locked) {
      fs.closeSync(fd);
      throw new DataDirLockedError(dataDir, readHolder(file));
    }
    if (!sameFile(fd, file)) {
      fs.closeSync(fd);
      continue;
    }
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${process.pid} ${os.hostname() || 'unknown'}\n`, 0);

    let released = false;
    return () => {
      if (released) return;
      released = true;
      try {
        fs.ftruncateSync(fd, 0); // so a stale name is not shown; the lock itself goes with the close
      } catch {
        /* the close below still releases the lock */
      }
      fs.closeSync(fd);
    };
  }
}
