import { batchRowsToRecords, type RecordBatch } from '../data/columnar';
import type { ImageBatch } from '../data/images/batch';
import { toUnitFloats } from '../data/images/pixels';
import { deriveSeed } from '../synthetic/rng';
import { encodeRecords } from '../tasks/encoding';
import type { Feature } from '../tasks/spec';
import type { Dataset } from './dataset';
import { splitTrainValidation } from './split';
import type { BlockSource } from './stream';

/**
 * The train/validation split of a dataset that stays in storage, in chunks: the same rows as the
 * in-memory split (`hospitalSplit`, `lesionSplit`), found from the labels alone, and each side a
 * `BlockSource` whose blocks are the stored chunks, read and encoded only when training asks.
 */

/**
 * Where global row numbers fall in consecutive blocks of `blockSizes` rows: for each block, the
 * block-local rows of `indices` it holds. `indices` must ascend (as `splitTrainValidation`'s do), so
 * each block's rows ascend too and the blocks concatenated list the rows in `indices` order.
 */
export function rowsByBlock(indices: ArrayLike<number>, blockSizes: readonly number[]): Uint32Array[] {
  const total = blockSizes.reduce((a, b) => a + b, 0);
  const out: Uint32Array[] = [];
  let k = 0;
  let start = 0;
  for (const size of blockSizes) {
    const from = k;
    while (k < indices.length && indices[k] < start + size) {
      if (!(Number.isInteger(indices[k]) && indices[k] >= start) || (k > from && indices[k] <= indices[k - 1])) {
        throw new RangeError(`row ${indices[k]} breaks the ascending order of the indices`);
      }
      k++;
    }
    const rows = new Uint32Array(k - from);
    for (let r = 0; r < rows.length; r++) rows[r] = indices[from + r] - start;
    out.push(rows);
    start += size;
  }
  if (k < indices.length) throw new RangeError(`row ${indices[k]} is outside ${total} rows`);
  return out;
}

export interface StoredSplitArgs {
  /** Class index of every stored sample, in storage order. */
  labels: ArrayLike<number>;
  /** Samples per stored chunk, in storage order. */
  chunkSizes: readonly number[];
  validationFraction: number;
  /** The study seed; the split is seeded `deriveSeed(seed, splitKey)`, as in memory. */
  seed: number;
  splitKey: string;
  /** Encoded values per sample, and the sample shape when it is not flat. */
  width: number;
  shape?: number[];
  /** Encodes rows `rows` (ascending, local to the chunk) of stored chunk `chunk`: exactly those samples, in that order. */
  readRows(chunk: number, rows: Uint32Array): Promise<Dataset>;
}

export interface StoredSplit {
  train: BlockSource;
  validation: BlockSource;
  /** Per stored chunk, its train and its validation rows (chunk-local). */
  trainRows: Uint32Array[];
  validationRows: Uint32Array[];
}

/** One side of a split as a source whose blocks are the chunks holding any of its rows. */
function chunkRowsSource(rows: Uint32Array[], args: StoredSplitArgs): BlockSource {
  const chunks = rows.flatMap((r, c) => (r.length > 0 ? [c] : []));
  const blockSizes = chunks.map((c) => rows[c].length);
  return {
    n: blockSizes.reduce((a, b) => a + b, 0),
    width: args.width,
    ...(args.shape ? { shape: [...args.shape] } : {}),
    blockSizes,
    async readBlock(b) {
      if (!(b >= 0 && b < chunks.length)) throw new RangeError(`no block ${b} of ${chunks.length}`);
      const ds = await args.readRows(chunks[b], rows[chunks[b]]);
      if (ds.n !== blockSizes[b]) throw new RangeError(`stored chunk ${chunks[b]} gave ${ds.n} samples, not ${blockSizes[b]}`);
      return ds;
    },
  };
}

/** The stored dataset's split: the rows `splitTrainValidation` picks from all labels, chunk by chunk. */
export function storedSplit(args: StoredSplitArgs): StoredSplit {
  const total = args.chunkSizes.reduce((a, b) => a + b, 0);
  if (total !== args.labels.length) throw new RangeError(`chunks hold ${total} samples, but there are ${args.labels.length} labels`);
  const { train, validation } = splitTrainValidation(args.labels, args.validationFraction, deriveSeed(args.seed, args.splitKey));
  const trainRows = rowsByBlock(train, args.chunkSizes);
  const validationRows = rowsByBlock(validation, args.chunkSizes);
  return { train: chunkRowsSource(trainRows, args), validation: chunkRowsSource(validationRows, args), trainRows, validationRows };
}

/** Rows of a stored record chunk, encoded as `encodeRecords` encodes them (`features` carry the study's normalisation). */
export function encodeChunkRows(features: readonly Feature[], chunk: RecordBatch, rows: ArrayLike<number>): Dataset {
  const { x, y, n, width } = encodeRecords(features, batchRowsToRecords(chunk, rows));
  return { x, y, n, width };
}

/** Scans of a stored chunk as `[height, width, channels]` samples scaled to [0, 1], as the in-memory split scales them. */
export function chunkImageRows(chunk: ImageBatch, rows: ArrayLike<number>): Dataset {
  const size = chunk.height * chunk.width * chunk.channels;
  const x = new Float32Array(rows.length * size);
  const y = new Float32Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    if (!(Number.isInteger(i) && i >= 0 && i < chunk.n)) throw new RangeError(`scan ${i} is outside a chunk of ${chunk.n}`);
    toUnitFloats(chunk.pixels.subarray(i * size, (i + 1) * size), x.subarray(r * size, (r + 1) * size));
    y[r] = chunk.labels[i];
  }
  return { x, y, n: rows.length, width: size, shape: [chunk.height, chunk.width, chunk.channels] };
}
