import type { StrategyConfig, StrategyConfigInput } from './registry';
import { strategyConfigSchema } from './registry';
import type { UpdateReport } from './report';
import { addPairDistances } from './pairwise';
import { maxOf, selectInPlace, selectTwoInPlace } from './select';
import type { ServerState } from './state';
import { checkSamples, StrategyError, usableState, type AggregationResult, type StrategyName } from './strategy';
import { squaredDistanceFrom, squaredDistanceFrom4 } from './sums';
import { trimmedPerSide } from './trimmedMean';

/**
 * The robust rules (coordinate-wise median, trimmed mean, Krum, Multi-Krum) over updates read a
 * block of coordinates at a time, so that a round needs O(n × block) of update values in memory
 * (plus the n × n distance table for Krum and the model-sized result), not every update at once.
 *
 * The result is `createStrategy(config).aggregate(base, updates)`'s bit for bit (weights and
 * report), for any block size, given the same updates (already clipped) in participant-id order and
 * no norm bound: every sum the in-memory rules make runs coordinate after coordinate over the model
 * flattened tensor after tensor, and here each is continued across blocks in that same order:
 * - each coordinate's statistic depends only on that coordinate's n values, gathered in update
 *   order (quickselect is deterministic, so the trimmed mean sums its kept values in the very order
 *   the in-memory selection leaves them);
 * - each update's squared distance to the aggregate is one running sum per update (as
 *   `squaredDistancesTo`), each pair's squared distance one running sum per pair (as
 *   `pairwiseSquaredDistances`), carried from block to block;
 * - Multi-Krum's mean adds the chosen updates per coordinate in update order and divides by m.
 * Block boundaries may fall anywhere, across tensor boundaries included: no sum restarts at a
 * tensor's start, so where the blocks fall changes no bit.
 */

/**
 * The round's updates, already clipped (scaled) as the server's intake decided, read a block of
 * coordinates at a time. Coordinates are the model's tensors flattened in order. Reads of different
 * updates may be in flight at once (one block of every update is read together); each read has its
 * own `out`, which it must fill completely before its promise resolves.
 */
export interface UpdateBlocks {
  /** Number of updates, in participant-id order (the order the report lists). */
  readonly count: number;
  /** Reads coordinates [start, start + out.length) of update k into out. */
  read(k: number, start: number, out: Float32Array): Promise<void>;
}

/** What the server's intake measured of one update: `participants[k]` describes update k of the source. */
export interface BlockwiseParticipant {
  participantId: string;
  numSamples: number;
  /** L2 norm of the update as received, before clipping. */
  norm: number;
  /** The factor the intake scaled it by (1 when not clipped). */
  scale: number;
  clipped: boolean;
}

export interface BlockwiseOptions {
  /**
   * Coordinates read per update at a time; by default as many as make n × block float32 values
   * about 16 MiB (at least 1024).
   */
  blockSize?: number;
  /** The round's clipping bound the intake applied, for the report; null (the default) when none was. */
  normBound?: number | null;
}

/** The rules `aggregateBlockwise` runs. */
export const blockwiseStrategyNames = ['median', 'trimmed-mean', 'krum', 'multi-krum'] as const;
export type BlockwiseStrategyName = (typeof blockwiseStrategyNames)[number];

export function supportsBlockwise(name: StrategyName): name is BlockwiseStrategyName {
  return (blockwiseStrategyNames as readonly string[]).includes(name);
}

/** Bytes of float32 update values one block of every update takes, by default. */
const BLOCK_BYTES = 16 * 1024 * 1024;
const MIN_BLOCK = 1024;

/** The default block size for n updates: n × block float32 values ≈ 16 MiB, at least 1024 coordinates. */
export function defaultBlockSize(n: number): number {
  return Math.max(MIN_BLOCK, Math.floor(BLOCK_BYTES / (4 * Math.max(1, n))));
}

/**
 * One robust rule's aggregation over updates read block by block: the same result as
 * `createStrategy(config).aggregate(base, updates, state)` run in memory on the same updates
 * (already clipped, in participant-id order) with the norm bound off. The config's own `normBound`
 * is not applied (the intake clipped already); the report's norm, scale and clipped come from
 * `participants`, its normBound from `options.normBound`.
 */
export async function aggregateBlockwise(
  config: StrategyConfigInput,
  base: readonly Float32Array[],
  participants: readonly BlockwiseParticipant[],
  src: UpdateBlocks,
  state: ServerState | null,
  options: BlockwiseOptions = {},
): Promise<AggregationResult> {
  const c = strategyConfigSchema.parse(config);
  if (!supportsBlockwise(c.name)) throw new Error(`${c.name} is not aggregated blockwise (only ${blockwiseStrategyNames.join(', ')})`);
  const n = participants.length;
  if (src.count !== n) throw new Error(`the source holds ${src.count} updates, ${n} participants were given`);
  for (let k = 1; k < n; k++)
    if (participants[k - 1].participantId > participants[k].participantId)
      throw new Error(`participants must be in participant-id order: ${participants[k - 1].participantId} comes before ${participants[k].participantId}`);
  if (options.blockSize !== undefined && !(Number.isSafeInteger(options.blockSize) && options.blockSize > 0))
    throw new Error(`blockSize must be a positive integer, got ${options.blockSize}`);

  // The in-memory strategy's checks, in its order (the layout is the source's to keep).
  const minUpdates = c.name === 'krum' || c.name === 'multi-krum' ? 2 * c.options.byzantine + 3 : 1;
  if (n === 0) throw new StrategyError('no_updates', `${c.name} needs at least one update`);
  if (n < minUpdates) throw new StrategyError('too_few_updates', `${c.name} needs at least ${minUpdates} updates, got ${n}`);
  for (const p of participants) checkSamples({ name: c.name, weighted: false }, p);
  const { stateReset } = usableState(c.name, state, base);

  const model = new ModelWriter(base);
  const block = Math.max(1, Math.min(options.blockSize ?? defaultBlockSize(n), model.size));
  const reader = new BlockReader(src, n, block);
  const out = await runRule(c as BlockwiseConfig, model, reader);

  const updates: UpdateReport[] = participants.map((p, k) => ({
    participantId: p.participantId,
    numSamples: p.numSamples,
    norm: p.norm,
    clipped: p.clipped,
    scale: p.scale,
    selected: out.selected ? out.selected[k] : true,
    weight: out.weight ? out.weight[k] : null,
    score: out.score ? out.score[k] : null,
    distance: Math.sqrt(out.distances[k]),
  }));
  return {
    weights: model.weights,
    state: null,
    report: { strategy: c.name, normBound: options.normBound ?? null, stateReset, updates, details: out.details ?? {} },
  };
}

type BlockwiseConfig = Extract<StrategyConfig, { name: BlockwiseStrategyName }>;

interface BlockwiseOutput {
  /** Each update's squared distance to the aggregate. */
  distances: Float64Array;
  selected?: boolean[];
  weight?: number[];
  score?: number[];
  details?: Record<string, number>;
}

function runRule(c: BlockwiseConfig, model: ModelWriter, reader: BlockReader): Promise<BlockwiseOutput> {
  switch (c.name) {
    case 'median':
      return coordinateWise(model, reader, medianBlock);
    case 'trimmed-mean': {
      const n = reader.n;
      const trim = trimmedPerSide(n, c.options.trimFraction);
      const kept = n - 2 * trim;
      if (kept < 1) throw new Error(`trimming ${trim} of ${n} values at each end leaves none`);
      return coordinateWise(model, reader, (cols, len, agg, scratch) => trimmedMeanBlock(cols, len, agg, scratch, trim), {
        trimmedPerSide: trim,
        kept,
      });
    }
    case 'krum':
      return krum(model, reader, c.options.byzantine, () => 1);
    case 'multi-krum': {
      const { byzantine: f, select } = c.options;
      return krum(model, reader, f, (n) => Math.min(select ?? n - f, n));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading and writing blocks

/** One block of every update: n float32 buffers of `block` values, reused for every block. */
class BlockReader {
  private readonly full: Float32Array[];
  /** The buffers cut to the current block's length (the last block may be shorter). */
  private cut: Float32Array[];
  private cutLength: number;

  constructor(
    private readonly src: UpdateBlocks,
    readonly n: number,
    readonly block: number,
  ) {
    const values = new Float32Array(n * block);
    this.full = Array.from({ length: n }, (_, k) => values.subarray(k * block, (k + 1) * block));
    this.cut = this.full;
    this.cutLength = block;
  }

  /** Reads coordinates [start, start + len) of the updates `which` (all when omitted); returns the n buffers, each `len` long. */
  async read(start: number, len: number, which?: readonly number[]): Promise<Float32Array[]> {
    if (len !== this.cutLength) {
      this.cut = len === this.block ? this.full : this.full.map((v) => v.subarray(0, len));
      this.cutLength = len;
    }
    const cols = this.cut;
    if (which) await Promise.all(which.map((k) => this.src.read(k, start, cols[k])));
    else {
      const reads: Promise<void>[] = new Array(this.n);
      for (let k = 0; k < this.n; k++) reads[k] = this.src.read(k, start, cols[k]);
      await Promise.all(reads);
    }
    return cols;
  }
}

/** The next model, written block by block: `base + step` rounded once to float32 (as `addStep`). */
class ModelWriter {
  readonly weights: Float32Array[];
  readonly size: number;
  /** Where each tensor starts among the flattened coordinates; one past the end last. */
  private readonly starts: number[];

  constructor(private readonly base: readonly Float32Array[]) {
    this.weights = base.map((b) => new Float32Array(b.length));
    this.starts = [0];
    for (const b of base) this.starts.push(this.starts[this.starts.length - 1] + b.length);
    this.size = this.starts[base.length];
  }

  /** Coordinates [start, start + len) of the next model from the aggregate step `agg[0..len)`. */
  write(start: number, len: number, agg: Float64Array): void {
    const end = start + len;
    let t = 0;
    while (this.starts[t + 1] <= start) t++;
    for (let g = start; g < end; t++) {
      const t0 = this.starts[t];
      const stop = Math.min(end, this.starts[t + 1]);
      writeStep(this.base[t], this.weights[t], agg, g - t0, stop - t0, g - start);
      g = stop;
    }
  }
}

function writeStep(b: Float32Array, out: Float32Array, agg: Float64Array, lo: number, hi: number, at: number): void {
  for (let i = lo, c = at; i < hi; i++, c++) out[i] = b[i] + agg[c];
}

/** Adds each update's squared distance to `agg[0..len)` to its running sum in `distances` (as `squaredDistancesTo`). */
function addDistances(agg: Float64Array, cols: readonly Float32Array[], distances: Float64Array, s4: Float64Array): void {
  const n = cols.length;
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    s4[0] = distances[k];
    s4[1] = distances[k + 1];
    s4[2] = distances[k + 2];
    s4[3] = distances[k + 3];
    squaredDistanceFrom4(agg, cols[k], cols[k + 1], cols[k + 2], cols[k + 3], s4);
    distances[k] = s4[0];
    distances[k + 1] = s4[1];
    distances[k + 2] = s4[2];
    distances[k + 3] = s4[3];
  }
  for (; k < n; k++) distances[k] = squaredDistanceFrom(agg, cols[k], distances[k]);
}

// ---------------------------------------------------------------------------------------------
// Coordinate-wise rules

/**
 * Coordinates gathered per selection round, as in coordinateWise.ts: the n values of SUB
 * coordinates sit in one float64 scratch, coordinate after coordinate, each in update order.
 */
const SUB = 128;

type BlockStatistic = (cols: readonly Float32Array[], len: number, agg: Float64Array, scratch: Float64Array) => void;

/** One pass: per block, the statistic, each update's distance to it, the next model's coordinates. */
async function coordinateWise(model: ModelWriter, reader: BlockReader, statistic: BlockStatistic, details?: Record<string, number>): Promise<BlockwiseOutput> {
  const { n, block } = reader;
  const P = model.size;
  const aggFull = new Float64Array(block);
  const scratch = new Float64Array(SUB * n);
  const distances = new Float64Array(n);
  const s4 = new Float64Array(4);
  for (let start = 0; start < P; start += block) {
    const len = Math.min(block, P - start);
    const cols = await reader.read(start, len);
    const agg = len === block ? aggFull : aggFull.subarray(0, len);
    statistic(cols, len, agg, scratch);
    addDistances(agg, cols, distances, s4);
    model.write(start, len, agg);
  }
  return { distances, details };
}

/** Coordinates `i0…i0 + m` of every update into `scratch`, n values per coordinate in update order. */
function gather(cols: readonly Float32Array[], i0: number, m: number, scratch: Float64Array): void {
  const n = cols.length;
  for (let k = 0; k < n; k++) {
    const col = cols[k];
    for (let c = 0, at = k; c < m; c++, at += n) scratch[at] = col[i0 + c];
  }
}

/** `coordinateMedian`'s per-coordinate computation. */
function medianBlock(cols: readonly Float32Array[], len: number, agg: Float64Array, scratch: Float64Array): void {
  const n = cols.length;
  const mid = n >> 1;
  const odd = n % 2 === 1;
  for (let i0 = 0; i0 < len; i0 += SUB) {
    const m = Math.min(SUB, len - i0);
    gather(cols, i0, m, scratch);
    for (let c = 0, lo = 0; c < m; c++, lo += n) {
      selectInPlace(scratch, lo, lo + n - 1, lo + mid);
      agg[i0 + c] = odd ? scratch[lo + mid] : (maxOf(scratch, lo, lo + mid - 1) + scratch[lo + mid]) / 2;
    }
  }
}

/** `coordinateTrimmedMean`'s per-coordinate computation: the kept values summed in the order the selection leaves them. */
function trimmedMeanBlock(cols: readonly Float32Array[], len: number, agg: Float64Array, scratch: Float64Array, trim: number): void {
  const n = cols.length;
  const kept = n - 2 * trim;
  const top = n - trim - 1;
  for (let i0 = 0; i0 < len; i0 += SUB) {
    const m = Math.min(SUB, len - i0);
    gather(cols, i0, m, scratch);
    for (let c = 0, lo = 0; c < m; c++, lo += n) {
      if (trim > 0) selectTwoInPlace(scratch, lo, lo + n - 1, lo + trim, lo + top);
      let sum = 0;
      for (let j = lo + trim; j <= lo + top; j++) sum += scratch[j];
      agg[i0 + c] = sum / kept;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Krum and Multi-Krum

/**
 * Two passes: the n × n pairwise squared distances, block by block (each pair's sum continued
 * across blocks, as `pairwiseSquaredDistances` continues it across chunks and tensors); scores and
 * selection exactly as krum.ts; then the mean of the chosen updates and every update's distance to
 * it (for m = 1 the aggregate is the chosen update and the distances are its row of the table, as
 * in memory, so only the chosen update is read again).
 */
async function krum(model: ModelWriter, reader: BlockReader, f: number, howMany: (n: number) => number): Promise<BlockwiseOutput> {
  const { n, block } = reader;
  const P = model.size;
  if (n - f - 2 < 1) throw new StrategyError('too_few_updates', `Krum with f = ${f} needs at least ${f + 3} updates, got ${n}`);

  const table = new Float64Array(n * n);
  for (let start = 0; start < P; start += block) {
    const len = Math.min(block, P - start);
    addPairDistances(await reader.read(start, len), len, table);
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) table[j * n + i] = table[i * n + j];

  const scores = scoresFrom(table, n, f);
  const m = howMany(n);
  const ranked = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const chosen = new Set(ranked.slice(0, m).map(([, i]) => i));
  const chosenInOrder = [...chosen].sort((a, b) => a - b);

  const distances = m === 1 ? table.slice(chosenInOrder[0] * n, (chosenInOrder[0] + 1) * n) : new Float64Array(n);
  const aggFull = new Float64Array(block);
  const s4 = new Float64Array(4);
  for (let start = 0; start < P; start += block) {
    const len = Math.min(block, P - start);
    const cols = await reader.read(start, len, m === 1 ? chosenInOrder : undefined);
    const agg = len === block ? aggFull : aggFull.subarray(0, len);
    agg.fill(0);
    for (const k of chosenInOrder) addInto(agg, cols[k]);
    for (let i = 0; i < len; i++) agg[i] /= m;
    if (m !== 1) addDistances(agg, cols, distances, s4);
    model.write(start, len, agg);
  }

  return {
    distances,
    selected: Array.from({ length: n }, (_, k) => chosen.has(k)),
    weight: Array.from({ length: n }, (_, k) => (chosen.has(k) ? 1 / m : 0)),
    score: scores,
    details: { byzantine: f, neighbours: n - f - 2, selected: m },
  };
}

/** krum.ts's scores from the table: each row's n − f − 2 smallest distances to others, summed smallest first. */
function scoresFrom(table: Float64Array, n: number, byzantine: number): number[] {
  const neighbours = n - byzantine - 2;
  return Array.from({ length: n }, (_, i) => {
    const others = Array.from(table.subarray(i * n, (i + 1) * n))
      .filter((_, j) => j !== i)
      .sort((a, b) => a - b);
    let s = 0;
    for (let k = 0; k < neighbours; k++) s += others[k];
    return s;
  });
}

function addInto(acc: Float64Array, d: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += d[i];
}



