/**
 * Scans as they are stored in IndexedDB: a chunk of `n` images of one size, their 8-bit gray (or RGB)
 * pixels in one block, row by row and channels last, the model's input layout. One typed array per
 * chunk stores and loads in one copy, as the tabular `RecordBatch` does.
 */
export interface ImageBatch {
  kind: 'images';
  n: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** File paths (imports) or generated ids (demo scans). */
  ids: string[];
  /** `n × height × width × channels` values, 0–255. */
  pixels: Uint8Array;
  /** Class index per image. */
  labels: Uint8Array;
}

export const isImageBatch = (chunk: object): chunk is ImageBatch => (chunk as { kind?: unknown }).kind === 'images';

export function imageBatchBytes(batch: ImageBatch): number {
  return batch.pixels.byteLength + batch.labels.byteLength + batch.ids.reduce((s, id) => s + 2 * id.length + 8, 0);
}

/** Accumulates images of one size and hands them out as batches. */
export class ImageBatchBuilder {
  private ids: string[] = [];
  private pixels: Uint8Array;
  private labels: Uint8Array;
  private n = 0;
  readonly sampleSize: number;

  constructor(
    readonly shape: { height: number; width: number; channels: 1 | 3 },
    readonly capacity: number,
  ) {
    this.sampleSize = shape.height * shape.width * shape.channels;
    this.pixels = new Uint8Array(capacity * this.sampleSize);
    this.labels = new Uint8Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  get full(): boolean {
    return this.n >= this.capacity;
  }

  add(id: string, pixels: Uint8Array, label: number): void {
    if (this.full) throw new RangeError('batch is full');
    if (pixels.length !== this.sampleSize) throw new RangeError(`${pixels.length} pixel values, the batch holds ${this.sampleSize} per image`);
    this.pixels.set(pixels, this.n * this.sampleSize);
    this.labels[this.n] = label;
    this.ids.push(id);
    this.n++;
  }

  take(): ImageBatch {
    const batch: ImageBatch = {
      kind: 'images',
      n: this.n,
      ...this.shape,
      ids: this.ids,
      pixels: this.pixels.slice(0, this.n * this.sampleSize),
      labels: this.labels.slice(0, this.n),
    };
    this.ids = [];
    this.n = 0;
    return batch;
  }
}

/** Several batches of one size as one: what training reads. */
export function joinImageBatches(batches: readonly ImageBatch[], shape: { height: number; width: number; channels: 1 | 3 }): ImageBatch {
  const size = shape.height * shape.width * shape.channels;
  for (const b of batches) {
    if (b.height !== shape.height || b.width !== shape.width || b.channels !== shape.channels)
      throw new RangeError(`stored scans are ${b.height}×${b.width}×${b.channels}, the study takes ${shape.height}×${shape.width}×${shape.channels}`);
  }
  const n = batches.reduce((s, b) => s + b.n, 0);
  const pixels = new Uint8Array(n * size);
  const labels = new Uint8Array(n);
  const ids: string[] = [];
  let at = 0;
  for (const b of batches) {
    pixels.set(b.pixels.subarray(0, b.n * size), at * size);
    labels.set(b.labels.subarray(0, b.n), at);
    for (let i = 0; i < b.n; i++) ids.push(b.ids[i]);
    at += b.n;
  }
  return { kind: 'images', n, ...shape, ids, pixels, labels };
}
