import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startS3Server } from '../testing/s3Server';
import { BlobMissingError, FsBlobStore, type BlobStore } from './blobStore';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A store under test, and how to take its storage away (the health check's failure). */
interface Opened {
  store: BlobStore;
  breakIt(): Promise<void>;
  dispose(): Promise<void>;
}

/** Every implementation of `BlobStore` keeps the same promises: the one contract, run on each. */
const implementations: { name: string; open(): Promise<Opened> }[] = [
  {
    name: 'FsBlobStore',
    open: async () => {
      const store = FsBlobStore.temporary();
      return { store, breakIt: async () => fs.rmSync(store.root, { recursive: true, force: true }), dispose: () => store.close() };
    },
  },
  {
    name: 'S3BlobStore (a real S3-compatible server, s3rver)',
    open: async () => {
      const server = await startS3Server();
      // A key prefix, as a shared bucket would have: listing and sizes see only this store's objects.
      const store = server.store('consilium/');
      return {
        store,
        breakIt: () => server.stop(),
        dispose: async () => {
          await store.close();
          await server.dispose();
        },
      };
    },
  },
];

describe.each(implementations)('$name', ({ open }) => {
  let opened: Opened;
  let store: BlobStore;
  afterEach(async () => {
    await opened.dispose();
  });
  const start = async () => {
    opened = await open();
    store = opened.store;
  };

  it('stores bytes under their SHA-256, once, and reads them whole, in ranges and as a stream', async () => {
    await start();
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31) & 0xff);
    const a = await store.put(bytes);
    const b = await store.put(bytes);
    expect(a).toEqual({ sha256: sha(bytes), bytes: 10_000 });
    expect(b).toEqual(a);
    expect(await store.list()).toEqual([a.sha256]);
    expect(await store.read(a.sha256)).toEqual(bytes);
    const part = new Uint8Array(100);
    await store.readRange(a.sha256, 5000, part);
    expect(part).toEqual(bytes.subarray(5000, 5100));
    await expect(store.readRange(a.sha256, 9_950, part)).rejects.toThrow(/ends before/);
    await expect(store.readRange(a.sha256, 20_000, part)).rejects.toThrow(/ends before/);
    const streamed = new Uint8Array(await new Response(store.stream(a.sha256)).arrayBuffer());
    expect(streamed).toEqual(bytes);
    expect(await store.size(a.sha256)).toBe(10_000);
    const other = await store.put(new Uint8Array([1, 2, 3]));
    expect(await store.list()).toEqual([a.sha256, other.sha256].sort());
    expect(await store.bytes()).toBe(10_003);
    await store.delete(a.sha256);
    await store.delete(a.sha256);
    expect(await store.list()).toEqual([other.sha256]);
    expect(await store.bytes()).toBe(3);
  });

  it('says a missing blob is missing, the same way whatever the store', async () => {
    await start();
    const absent = sha(new Uint8Array([42]));
    await expect(store.read(absent)).rejects.toBeInstanceOf(BlobMissingError);
    await expect(store.readRange(absent, 0, new Uint8Array(4))).rejects.toBeInstanceOf(BlobMissingError);
    await expect(new Response(store.stream(absent)).arrayBuffer()).rejects.toThrow();
    expect(await store.size(absent)).toBeNull();
    await expect(store.read('not-a-hash')).rejects.toThrow(/SHA-256/);
  });

  it('writes a blob in pieces, visible only once committed; an aborted one leaves nothing', async () => {
    await start();
    const w = store.writer();
    await w.write(new Uint8Array([1, 2, 3]));
    await w.write(new Uint8Array([4, 5]));
    expect(await store.list()).toEqual([]);
    const stored = await w.commit();
    expect(stored).toEqual({ sha256: sha(new Uint8Array([1, 2, 3, 4, 5])), bytes: 5 });
    await expect(w.write(new Uint8Array([6]))).rejects.toThrow(/finished/);
    // A large blob goes to a file as it streams in (both stores keep only small ones in memory).
    const big = new Uint8Array(1200 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const wb = store.writer();
    for (let off = 0; off < big.length; off += 100 * 1024) await wb.write(big.subarray(off, off + 100 * 1024));
    expect(await wb.commit()).toEqual({ sha256: sha(big), bytes: big.length });
    // Compared by hash: an element-wise comparison of a megabyte costs seconds.
    expect(sha(await store.read(sha(big)))).toBe(sha(big));
    const tail = new Uint8Array(16);
    await store.readRange(sha(big), big.length - 16, tail);
    expect(tail).toEqual(big.subarray(big.length - 16));
    await store.delete(sha(big));
    const spilled = store.writer();
    await spilled.write(big);
    await spilled.abort();
    const dropped = store.writer();
    await dropped.write(new Uint8Array([9]));
    await dropped.abort();
    // The same content committed twice is one blob.
    const again = store.writer();
    await again.write(new Uint8Array([1, 2, 3, 4, 5]));
    expect(await again.commit()).toEqual(stored);
    expect(await store.list()).toEqual([stored.sha256]);
  });

  it('answers a health check while its storage is there, and says so once it is gone', async () => {
    await start();
    expect(await store.ping()).toBe(true);
    await opened.breakIt();
    expect(await store.ping()).toBe(false);
  });
});

describe('FsBlobStore on disk', () => {
  let store: FsBlobStore;
  afterEach(async () => {
    await store.close();
  });

  it('leaves no pieces in its staging folder after commits and aborts', async () => {
    store = FsBlobStore.temporary();
    const big = new Uint8Array(300 * 1024).fill(7);
    const spilled = store.writer();
    await spilled.write(big);
    await spilled.abort();
    const w = store.writer();
    await w.write(big);
    await w.commit();
    expect(fs.readdirSync(path.join(store.root, 'tmp', String(process.pid)))).toEqual([]);
  });

  it('commits many writers at once (their folder syncs grouped), and clears pieces a crash left behind', async () => {
    store = FsBlobStore.temporary();
    const blobs = Array.from({ length: 64 }, (_, i) => Uint8Array.from({ length: 100 + i }, (_, j) => (i + j) & 0xff));
    const stored = await Promise.all(
      blobs.map(async (b) => {
        const w = store.writer();
        await w.write(b);
        return w.commit();
      }),
    );
    expect(stored.map((s) => s.sha256)).toEqual(blobs.map(sha));
    expect((await store.list()).length).toBe(64);
    fs.writeFileSync(path.join(store.root, 'tmp', String(process.pid), 'left-by-a-crash'), 'x');
    fs.writeFileSync(path.join(store.root, 'tmp', 'left-by-an-older-layout'), 'x');
    // Another live process sharing the folder is writing: its pieces stay.
    fs.mkdirSync(path.join(store.root, 'tmp', 'other'));
    fs.writeFileSync(path.join(store.root, 'tmp', 'other', 'being-written'), 'x');
    const reopened = new FsBlobStore(store.root);
    expect(fs.readdirSync(path.join(store.root, 'tmp')).sort()).toEqual(['other', String(process.pid)].sort());
    expect(fs.readdirSync(path.join(store.root, 'tmp', String(process.pid)))).toEqual([]);
    expect(fs.readdirSync(path.join(store.root, 'tmp', 'other'))).toEqual(['being-written']);
    expect((await reopened.list()).length).toBe(64);
  });
});
