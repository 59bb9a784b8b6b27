import { deriveSeed, mulberry32, shuffledIndices } from '../synthetic/rng';
import { concat, sampleShape, subset, type Dataset } from './dataset';

/**
 * Samples that live somewhere other than memory (IndexedDB in the browser), read one block at a
 * time. Training and evaluation hold at most a window of blocks, so a site's dataset may be far
 * larger than what a tab can keep in memory.
 */
export interface BlockSource {
  /** Samples in all blocks together. */
  n: number;
  /** Values per sample. */
  width: number;
  /** Shape of one sample; `[width]` when absent. */
  shape?: number[];
  /** Sample counts of the blocks, in storage order. */
  blockSizes: readonly number[];
  /** Block `b`'s samples, encoded: `blockSizes[b]` of them. */
  readBlock(b: number): Promise<Dataset>;
}

export type TrainingData = Dataset | BlockSource;

export function isBlockSource(data: TrainingData): data is BlockSource {
  return typeof (data as BlockSource).readBlock === 'function';
}

/** An in-memory dataset as a source of blocks of `blockRows` samples: for tests and benchmarks. */
export function memoryBlockSource(ds: Dataset, blockRows: number): BlockSource {
  const size = Math.max(1, Math.floor(blockRows));
  const blockSizes: number[] = [];
  for (let start = 0; start < ds.n; start += size) blockSizes.push(Math.min(size, ds.n - start));
  return {
    n: ds.n,
    width: ds.width,
    ...(ds.shape ? { shape: [...ds.shape] } : {}),
    blockSizes,
    async readBlock(b) {
      if (!(b >= 0 && b < blockSizes.length)) throw new RangeError(`no block ${b} of ${blockSizes.length}`);
      const start = b * size;
      return subset(ds, Array.from({ length: blockSizes[b] }, (_, k) => start + k));
    },
  };
}

/** Bytes one sample takes as float32 inputs and labels: what a budget is compared with. */
export function bytesPerSample(width: number, labelWidth = 1): number {
  return 4 * (width + labelWidth);
}

export interface WindowOptions {
  /** Most samples held at once (the current window); at least one block is always held. */
  windowSamples: number;
  /** Seeds each epoch's block order and in-window shuffle, as `deriveSeed(seed, 'epoch-<e>')`. */
  seed: number;
}

/**
 * The samples of one epoch, as shuffled windows: the block order is shuffled, consecutive blocks are
 * gathered until the window is full, and the window's samples are shuffled. When one window holds
 * every block, the order equals the in-memory shuffle of the whole dataset, block by block
 * concatenated (so a small dataset trains the same either way). While one window is used, the next is
 * already being read.
 */
export async function* epochWindows(source: BlockSource, epoch: number, opts: WindowOptions): AsyncGenerator<Dataset> {
  const seed = deriveSeed(opts.seed, `epoch-${epoch}`);
  const blocks = source.blockSizes.length;
  const groups: number[][] = [];
  if (source.blockSizes.reduce((a, b) => a + b, 0) <= opts.windowSamples) {
    groups.push(Array.from({ length: blocks }, (_, b) => b));
  } else {
    const order = shuffledIndices(blocks, mulberry32(deriveSeed(seed, 'blocks')));
    let group: number[] = [];
    let held = 0;
    for (const b of order) {
      if (group.length > 0 && held + source.blockSizes[b] > opts.windowSamples) {
        groups.push(group);
        group = [];
        held = 0;
      }
      group.push(b);
      held += source.blockSizes[b];
    }
    if (group.length) groups.push(group);
  }
  const read = async (group: number[]) => {
    const parts: Dataset[] = [];
    for (const b of group) {
      const part = await source.readBlock(b);
      if (part.n !== source.blockSizes[b]) throw new RangeError(`block ${b} holds ${part.n} samples, not ${source.blockSizes[b]}`);
      parts.push(part);
    }
    return parts.length === 1 ? parts[0] : concat(parts);
  };
  // A read-ahead that fails is reported when its window is due, never as an unhandled rejection.
  const readAhead = (g: number) => {
    if (g >= groups.length) return null;
    const p = read(groups[g]);
    p.catch(() => undefined);
    return p;
  };
  let next = readAhead(0);
  for (let g = 0; g < groups.length; g++) {
    const window = await next!;
    next = readAhead(g + 1);
    // A whole-dataset window shuffles with the epoch's own seed, as in-memory training does.
    const rng = mulberry32(groups.length === 1 ? seed : deriveSeed(seed, `window-${g}`));
    yield subset(window, shuffledIndices(window.n, rng));
  }
}

/** The shape of one sample of any training data. */
export function dataSampleShape(data: TrainingData): number[] {
  return isBlockSource(data) ? (data.shape ? [...data.shape] : [data.width]) : sampleShape(data);
}
