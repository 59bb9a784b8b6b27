import type { FixedPointSum } from '../../shared/fl/fixedPoint';
import type { BlobStore } from '../storage/blobStore';

/**
 * Reading accepted updates back from the blob store, a stretch of coordinates at a time: folding one
 * into a round's sum, serving the robust rules' coordinate blocks, measuring distances for the
 * report. Memory per reader is one stretch (256 KiB), whatever the model's size.
 */
export interface StoredUpdate {
  sha256: string;
  /** Byte offset of value 0 in the payload. */
  dataOffset: number;
  /** Values in the flattened update. */
  values: number;
  /** Sample count × straggler weight. */
  weight: number;
  /** Intake's clipping factor (1: within the round's bound). */
  clipScale: number;
  /** The update's L2 norm as received: a bound on every value. */
  norm?: number;
}

const STRETCH = 64 * 1024;

/**
 * Calls `fn` for every stretch of the update's values, in order; `values` is reused between calls.
 * With `sync`, a local store is read synchronously (see `BlobStore.readRangeSync`).
 */
export async function forEachStretch(
  blobs: BlobStore,
  u: StoredUpdate,
  fn: (offset: number, values: Float32Array) => void,
  options: { stretch?: number; sync?: boolean; buffer?: Float32Array } = {},
): Promise<void> {
  const buffer = options.buffer ? options.buffer.subarray(0, Math.min(options.buffer.length, u.values)) : new Float32Array(Math.min(options.stretch ?? STRETCH, u.values));
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const readSync = options.sync ? blobs.readRangeSync?.bind(blobs) : undefined;
  for (let off = 0; off < u.values; off += buffer.length) {
    const n = Math.min(buffer.length, u.values - off);
    const into = bytes.subarray(0, 4 * n);
    if (readSync) readSync(u.sha256, u.dataOffset + 4 * off, into);
    else await blobs.readRange(u.sha256, u.dataOffset + 4 * off, into);
    fn(off, n === buffer.length ? buffer : buffer.subarray(0, n));
  }
}

/** Adds the update, weighted and clipped as intake decided, into the round's exact sum. */
export async function foldInto(sum: FixedPointSum, blobs: BlobStore, u: StoredUpdate): Promise<void> {
  if (u.values !== sum.length) throw new Error(`an update of ${u.values} values cannot join a sum of ${sum.length}`);
  const m = sum.multiplier(u.weight, u.clipScale);
  // Read straight into the sum's own (WebAssembly) memory where it has one: no copy between disk and kernel.
  const bound = u.norm !== undefined && Number.isFinite(u.norm) ? u.norm : Infinity;
  await forEachStretch(blobs, u, (off, v) => sum.addRange(m, off, v, bound), { sync: true, stretch: 4 * STRETCH, buffer: sum.staging() ?? undefined });
  sum.countUpdate();
}

/** Values [start, start + out.length) of the update, clipped as intake decided (float32, as `scaleTensors` rounds). */
export async function readClipped(blobs: BlobStore, u: StoredUpdate, start: number, out: Float32Array): Promise<void> {
  await blobs.readRange(u.sha256, u.dataOffset + 4 * start, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  if (u.clipScale !== 1) for (let i = 0; i < out.length; i++) out[i] = out[i] * u.clipScale;
}
