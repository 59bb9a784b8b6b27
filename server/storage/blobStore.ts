import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';

/**
 * Where the bulk bytes live: update payloads, model versions and server-optimiser state, each
 * named by the SHA-256 of its content. The database keeps only the hash. This is the whole surface
 * the server uses, narrow on purpose, so an S3-compatible object store can implement it for several
 * processes (put = PutObject after the hash is known, readRange = GetObject with Range, delete =
 * DeleteObject).
 */
export interface BlobStore {
  /** Starts a blob written in pieces (an upload as it streams in); nothing is visible until `commit`. */
  writer(): BlobWriter;
  /** Stores `bytes` durably and returns their hash (idempotent: the same bytes are stored once). */
  put(bytes: Uint8Array): Promise<StoredBlob>;
  /** The whole blob; throws `BlobMissingError` when it is not there. */
  read(sha256: string): Promise<Uint8Array>;
  /** `out.length` bytes from `offset` into `out`; throws when the blob is shorter or missing. */
  readRange(sha256: string, offset: number, out: Uint8Array): Promise<void>;
  /**
   * The same, synchronously, where the store is a local disk (absent elsewhere). Folding an update
   * into a round's sum reads this way: a fold's reads must not queue behind a hundred uploads' writes
   * in the thread pool, or the round's sum lags its intake and the close waits for it.
   */
  readRangeSync?(sha256: string, offset: number, out: Uint8Array): void;
  /** The blob as a stream, for serving it. */
  stream(sha256: string): ReadableStream<Uint8Array>;
  size(sha256: string): Promise<number | null>;
  /** Removes the blob; a missing one is not an error. */
  delete(sha256: string): Promise<void>;
  /** Every stored hash (audits, tests, the disk figure). */
  list(): Promise<string[]>;
  /** Bytes stored in all. */
  bytes(): Promise<number>;
  /** Whether the store answers and takes writes (the health check); cheap: no blob is read or written. */
  ping(): Promise<boolean>;
  /** Releases what the store holds open (temporary folders of test stores are removed). */
  close(): Promise<void>;
}

export interface StoredBlob {
  sha256: string;
  bytes: number;
}

export interface BlobWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the blob durable (fsync, then an atomic rename to its hash) and returns its hash. */
  commit(): Promise<StoredBlob>;
  /** Drops what was written. */
  abort(): Promise<void>;
}

export class BlobMissingError extends Error {
  constructor(readonly sha256: string) {
    super(`stored bytes ${sha256.slice(0, 12)}… are missing from the blob store`);
    this.name = 'BlobMissingError';
  }
}

const HASH = /^[0-9a-f]{64}$/;
/** Blobs up to this size are written in one call at commit. */
const SMALL_BLOB = 256 * 1024;
/** Another process's unfinished pieces older than this are a dead process's. */
const STALE_PIECES_MS = 24 * 3600 * 1000;

/**
 * The embedded default: an append-only spool of content-addressed files, `<root>/<sha256>`, written
 * to `<root>/tmp/` first, fsynced, then renamed into place (and the folder fsynced), so a blob either
 * exists whole and durable or not at all, whatever kill -9 interrupts. One folder, not one per hash
 * prefix: renames that land together share one folder fsync (the store holds versions and the open
 * rounds' payloads, thousands of files, which a single ext4 or xfs folder indexes well).
 */
export class FsBlobStore implements BlobStore {
  private readonly tmp: string;
  /** Temporary names: this process's id and a counter (a crash's leftovers are cleared at start). */
  private written = 0;
  private readonly dirSyncs = new GroupedDirSync();

  constructor(
    readonly root: string,
    private readonly options: { removeOnClose?: boolean } = {},
  ) {
    // Its own folder of pieces: processes on one machine may share the store (several server processes).
    this.tmp = path.join(root, 'tmp', String(process.pid));
    fs.mkdirSync(this.tmp, { recursive: true });
    // Pieces of writes a crash interrupted: never committed, never referenced. Another process's are
    // left alone unless a day old (its process long gone); a pre-existing flat layout's loose files too.
    const now = Date.now();
    for (const f of fs.readdirSync(path.join(root, 'tmp'), { withFileTypes: true })) {
      const where = path.join(root, 'tmp', f.name);
      if (where === this.tmp) for (const piece of fs.readdirSync(where)) fs.rmSync(path.join(where, piece), { force: true });
      else if (f.isFile() || now - fs.statSync(where).mtimeMs > STALE_PIECES_MS) fs.rmSync(where, { recursive: true, force: true });
    }
  }

  /** A store in a fresh temporary folder, removed on close (tests, tools). */
  static temporary(prefix = 'consilium-blobs-'): FsBlobStore {
    return new FsBlobStore(fs.mkdtempSync(path.join(os.tmpdir(), prefix)), { removeOnClose: true });
  }

  private pathOf(sha256: string): string {
    if (!HASH.test(sha256)) throw new Error(`not a SHA-256 hex digest: '${sha256}'`);
    return path.join(this.root, sha256);
  }

  writer(): BlobWriter {
    const file = path.join(this.tmp, `${process.pid}-${(this.written++).toString(36)}`);
    const hash = createHash('sha256');
    // A small blob is kept until commit and written in one call (open, write, fsync and close in one
    // trip to the thread pool); past SMALL_BLOB bytes it goes to a file as it comes. Plain file
    // descriptors: the FileHandle wrappers cost more than the writes for small updates.
    let held: Uint8Array[] | null = [];
    let heldBytes = 0;
    let fd: number | null = null;
    let size = 0;
    let done = false;
    const spill = async (chunks: readonly Uint8Array[]) => {
      fd ??= await fsOpen(file, 'wx');
      for (const chunk of chunks) {
        let off = 0;
        while (off < chunk.byteLength) off += await fsWrite(fd, chunk, off, chunk.byteLength - off);
      }
    };
    return {
      write: async (chunk) => {
        if (done) throw new Error('blob writer already finished');
        hash.update(chunk);
        size += chunk.byteLength;
        if (held && heldBytes + chunk.byteLength <= SMALL_BLOB) {
          // Copied: the caller may reuse its buffer.
          held.push(chunk.slice());
          heldBytes += chunk.byteLength;
          return;
        }
        const pending = held ?? [];
        held = null;
        await spill([...pending, chunk]);
      },
      commit: async () => {
        if (done) throw new Error('blob writer already finished');
        done = true;
        if (held) await writeFlushed(file, held.length === 1 ? held[0] : Buffer.concat(held));
        else {
          await fsFsync(fd!);
          await fsClose(fd!);
        }
        const sha256 = hash.digest('hex');
        const target = this.pathOf(sha256);
        await fsp.rename(file, target);
        await this.dirSyncs.sync(path.dirname(target));
        return { sha256, bytes: size };
      },
      abort: async () => {
        if (done) return;
        done = true;
        if (fd !== null) await fsClose(fd).catch(() => undefined);
        if (!held) await fsp.rm(file, { force: true });
      },
    };
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if ((await this.size(sha256)) === bytes.byteLength) return { sha256, bytes: bytes.byteLength };
    const w = this.writer();
    try {
      await w.write(bytes);
      return await w.commit();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  async read(sha256: string): Promise<Uint8Array> {
    try {
      const buf = await fsp.readFile(this.pathOf(sha256));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      throw missing(err, sha256);
    }
  }

  async readRange(sha256: string, offset: number, out: Uint8Array): Promise<void> {
    let h: fsp.FileHandle;
    try {
      h = await fsp.open(this.pathOf(sha256), 'r');
    } catch (err) {
      throw missing(err, sha256);
    }
    try {
      let got = 0;
      while (got < out.byteLength) {
        const { bytesRead } = await h.read(out, got, out.byteLength - got, offset + got);
        if (bytesRead === 0) throw new Error(`blob ${sha256.slice(0, 12)}… ends before byte ${offset + out.byteLength}`);
        got += bytesRead;
      }
    } finally {
      await h.close();
    }
  }

  readRangeSync(sha256: string, offset: number, out: Uint8Array): void {
    let fd: number;
    try {
      fd = fs.openSync(this.pathOf(sha256), 'r');
    } catch (err) {
      throw missing(err, sha256);
    }
    try {
      let got = 0;
      while (got < out.byteLength) {
        const n = fs.readSync(fd, out, got, out.byteLength - got, offset + got);
        if (n === 0) throw new Error(`blob ${sha256.slice(0, 12)}… ends before byte ${offset + out.byteLength}`);
        got += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  stream(sha256: string): ReadableStream<Uint8Array> {
    return Readable.toWeb(fs.createReadStream(this.pathOf(sha256))) as ReadableStream<Uint8Array>;
  }

  async size(sha256: string): Promise<number | null> {
    try {
      return (await fsp.stat(this.pathOf(sha256))).size;
    } catch {
      return null;
    }
  }

  async delete(sha256: string): Promise<void> {
    await fsp.rm(this.pathOf(sha256), { force: true });
  }

  async list(): Promise<string[]> {
    return (await fsp.readdir(this.root)).filter((f) => HASH.test(f)).sort();
  }

  async bytes(): Promise<number> {
    let total = 0;
    for (const h of await this.list()) total += (await this.size(h)) ?? 0;
    return total;
  }

  async ping(): Promise<boolean> {
    try {
      // The staging folder: every write lands there first, so a store that can write can write here.
      await fsp.access(this.tmp, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.options.removeOnClose) await fsp.rm(this.root, { recursive: true, force: true });
  }
}

const fsOpen = promisify(fs.open);
/** open, write, fsync and close through the callback API (lighter than a FileHandle for small blobs). */
const writeFlushed = (file: string, data: Uint8Array) =>
  new Promise<void>((resolve, reject) => fs.writeFile(file, data, { flag: 'wx', flush: true }, (err) => (err ? reject(err) : resolve())));
const fsFsync = promisify(fs.fsync);
const fsClose = promisify(fs.close);
const fsWrite = (fd: number, buf: Uint8Array, off: number, len: number) =>
  new Promise<number>((resolve, reject) => fs.write(fd, buf, off, len, null, (err, n) => (err ? reject(err) : resolve(n))));

async function syncDir(dir: string): Promise<void> {
  const fd = await fsOpen(dir, 'r');
  try {
    await fsFsync(fd);
  } finally {
    await fsClose(fd);
  }
}

/**
 * Group commit for folder fsyncs: a rename is durable once its folder is synced, and every rename
 * that happened before a sync started is covered by it. Callers that arrive while a sync of the
 * folder runs wait for the next one, which then serves all of them at once.
 */
class GroupedDirSync {
  private readonly state = new Map<string, { running: Promise<void> | null; next: Promise<void> | null }>();

  sync(dir: string): Promise<void> {
    let s = this.state.get(dir);
    if (!s) this.state.set(dir, (s = { running: null, next: null }));
    const entry = s;
    if (entry.next) return entry.next;
    const start = async () => {
      entry.next = null;
      entry.running = p;
      try {
        await syncDir(dir);
      } finally {
        entry.running = null;
        if (!entry.next) this.state.delete(dir);
      }
    };
    const p: Promise<void> = (entry.running ?? Promise.resolve()).catch(() => undefined).then(start);
    entry.next = p;
    return p;
  }
}

function missing(err: unknown, sha256: string): Error {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT' ? new BlobMissingError(sha256) : (err as Error);
}
