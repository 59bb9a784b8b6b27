import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobMissingError, FsBlobStore } from './blobStore';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('FsBlobStore', () => {
  let store: FsBlobStore;
  afterEach(async () => {
    await store.close();
  });

  it('stores bytes under their SHA-256, once, and reads them whole, in ranges and as a stream', async () => {
    store = FsBlobStore.temporary();
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
    const streamed = new Uint8Array(await new Response(store.stream(a.sha256)).arrayBuffer());
    expect(streamed).toEqual(bytes);
    expect(await store.size(a.sha256)).toBe(10_000);
    expect(await store.bytes()).toBe(10_000);
    await store.delete(a.sha256);
    await expect(store.read(a.sha256)).rejects.toBeInstanceOf(BlobMissingError);
    expect(await store.size(a.sha256)).toBeNull();
  });

  it('writes a blob in pieces, visible only once committed; an aborted one leaves nothing', async () => {
    store = FsBlobStore.temporary();
    const w = store.writer();
    await w.write(new Uint8Array([1, 2, 3]));
    await w.write(new Uint8Array([4, 5]));
    expect(await store.list()).toEqual([]);
    const stored = await w.commit();
    expect(stored).toEqual({ sha256: sha(new Uint8Array([1, 2, 3, 4, 5])), bytes: 5 });
    // A large blob goes to its file as it streams in.
    const big = Uint8Array.from({ length: 300 * 1024 }, (_, i) => (i * 7) & 0xff);
    const wb = store.writer();
    for (let off = 0; off < big.length; off += 100 * 1024) await wb.write(big.subarray(off, off + 100 * 1024));
    expect((await wb.commit()).sha256).toBe(sha(big));
    expect(await store.read(sha(big))).toEqual(big);
    await store.delete(sha(big));
    const spilled = store.writer();
    await spilled.write(big);
    await spilled.abort();
    const dropped = store.writer();
    await dropped.write(new Uint8Array([9]));
    await dropped.abort();
    expect(await store.list()).toEqual([stored.sha256]);
    expect(fs.readdirSync(path.join(store.root, 'tmp'))).toEqual([]);
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
    fs.writeFileSync(path.join(store.root, 'tmp', 'left-by-a-crash'), 'x');
    const reopened = new FsBlobStore(store.root);
    expect(fs.readdirSync(path.join(store.root, 'tmp'))).toEqual([]);
    expect((await reopened.list()).length).toBe(64);
  });

  it('answers a health check while its folder is there, and says so once it is gone', async () => {
    store = FsBlobStore.temporary();
    expect(await store.ping()).toBe(true);
    fs.rmSync(store.root, { recursive: true, force: true });
    expect(await store.ping()).toBe(false);
  });
});
