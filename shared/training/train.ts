import * as tf from '@tensorflow/tfjs';
import { deriveSeed, mulberry32, shuffledIndices } from '../synthetic/rng';
import { modelInputShape, outputUnits } from '../tasks/modelSpec';
import type { ModelSpec } from '../tasks/spec';
import type { Dataset } from './dataset';
import { computeDelta } from './deltas';
import type { DpSgdOptions } from './dpsgd';
import { DP_SGD_STREAM_REFUSAL, trainDpSgd } from './dpTrain';
import { buildModel, getModelWeights } from './model';
import { epochWindows, isBlockSource, type BlockSource, type TrainingData } from './stream';

export interface TrainOptions {
  spec: ModelSpec;
  /** Starting (global) weights, in `weightShapes(spec)` order. */
  weights: Float32Array[];
  /** In memory, or read a window at a time from a `BlockSource` (see `windowSamples`). */
  data: TrainingData;
  /** Passes over the data; required unless `steps` is set. */
  epochs?: number;
  /**
   * Instead of `epochs`: exactly this many optimiser steps, whatever the data's size (mini-batches of
   * `batchSize` through each epoch's shuffle, as many epochs as that takes, the last one partial; see
   * `epochsForSteps`). Set one of `epochs` and `steps`.
   */
  steps?: number;
  batchSize: number;
  learningRate: number;
  /** Seeds each epoch's shuffle, so a replayed round trains identically. */
  seed: number;
  /** `epoch` is 1-based; `loss` is the epoch's mean training loss (a partial last epoch's: over the samples it saw). */
  onEpochEnd?: (epoch: number, loss: number) => void | Promise<void>;
  /** `batch` counts from 1 across the whole call. Reading each batch's loss costs a GPU sync. */
  onBatchEnd?: (batch: number, loss: number) => void | Promise<void>;
  /**
   * With `onBatchEnd`, for a GPU backend: read a batch's loss only about every this many milliseconds
   * of the backend's work (by the clock in the first epoch, then by batches at the pace the last
   * epoch ran), each read collected at the next one or at the epoch's end, so the backend keeps the
   * batches queued after it and progress still arrives within an epoch. `onBatchEnd` still sees
   * batches in order, each with its own loss. Default 0: every batch, at once. Training itself is
   * unchanged.
   */
  batchReadEveryMs?: number;
  /**
   * Streaming data only: most samples held in memory at once (plus the window being read ahead).
   * Default 8192. A window that holds the whole dataset trains exactly as in memory.
   */
  windowSamples?: number;
  /**
   * FedProx (Li et al. 2020): adds `mu·(w − w_global)`, the gradient of `mu/2·‖w − w_global‖²`, to
   * every gradient, `w_global` being `weights`. Absent or 0: plain local training, bit for bit. The
   * reported losses stay the data loss alone.
   */
  fedProxMu?: number;
  /** The local optimiser (a study may override its template's); default `spec.optimizer`. */
  optimizer?: 'sgd' | 'adam';
  /**
   * Record-level DP-SGD (./dpsgd.ts): every step Poisson-samples the records with `sampleRate`, clips
   * each example's gradient to `clipNorm` and adds noise; `steps`, or `epochs` × round(1/q), steps;
   * `batchSize` and `seed` are unused (the sampling is secret). In-memory data only. Absent: the
   * training above, bit for bit.
   */
  dpSgd?: DpSgdOptions;
}

export interface TrainResult {
  weights: Float32Array[];
  /** `weights - options.weights`. */
  delta: Float32Array[];
  /** Mean training loss of each epoch (a partial last one too), measured on each batch before its update. */
  losses: number[];
  /** The records trained on: the update's weight, however many steps or epochs they took. */
  numSamples: number;
  /** Optimiser steps taken. */
  steps: number;
  /** Under DP-SGD: what the record-level accountant needs (and how the clipping was done). */
  dpSgd?: { steps: number; sampleRate: number; method: 'ghost' | 'microbatch' };
}

/** Mini-batches in one epoch of `n` samples: every batch but the last is full. */
export function batchesPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / Math.max(1, Math.min(Math.floor(batchSize), n)));
}

/** Epochs, the last maybe partial, that `steps` optimiser steps span on `n` samples. */
export function epochsForSteps(n: number, batchSize: number, steps: number): number {
  const perEpoch = batchesPerEpoch(n, batchSize);
  return perEpoch === 0 ? 0 : Math.ceil(steps / perEpoch);
}

/** `trainLocal`'s share of a study's local work settings: epochs, or steps when the study counts them. */
export function localWork(training: { localEpochs: number; localSteps?: number }): { epochs: number } | { steps: number } {
  return training.localSteps !== undefined ? { steps: training.localSteps } : { epochs: training.localEpochs };
}

/**
 * Labels as the loss wants them, `n × units`: binary labels as they are; categorical labels either
 * one-hot already or one class index per row.
 */
export function labelMatrix(spec: ModelSpec, data: Dataset): Float32Array {
  const units = outputUnits(spec);
  if (data.y.length === data.n * units) return data.y;
  if (spec.loss === 'categoricalCrossentropy' && data.y.length === data.n) {
    const out = new Float32Array(data.n * units);
    for (let i = 0; i < data.n; i++) {
      const k = data.y[i];
      if (!Number.isInteger(k) || k < 0 || k >= units) throw new RangeError(`label ${k} of row ${i} is not a class of ${units}`);
      out[i * units + k] = 1;
    }
    return out;
  }
  throw new RangeError(`${data.y.length} labels do not fit ${data.n} rows of a ${units}-unit output`);
}

/**
 * Throws unless `data` fits the model: each sample holds as many values as the model's input, and a
 * dataset that states its sample shape states the model's (one without is reshaped to it).
 */
export function checkDataset(spec: ModelSpec, data: Dataset | BlockSource): void {
  const shape = modelInputShape(spec);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.width !== size) {
    throw new RangeError(
      shape.length === 1
        ? `rows have ${data.width} columns, the model takes ${size}`
        : `samples have ${data.width} values, the model takes [${shape}] (${size})`,
    );
  }
  if (data.shape && data.shape.join() !== shape.join()) throw new RangeError(`samples are [${data.shape}], the model takes [${shape}]`);
  if (isBlockSource(data)) {
    const total = data.blockSizes.reduce((a, b) => a + b, 0);
    if (total !== data.n) throw new RangeError(`blocks hold ${total} samples, not ${data.n}`);
    return;
  }
  if (data.x.length !== data.n * data.width) throw new RangeError(`x holds ${data.x.length} values, not ${data.n} × ${data.width}`);
}

/** Mean loss of a batch, with the clipping Keras applies to probabilities. */
export function lossFor(spec: ModelSpec, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  const perRow =
    spec.loss === 'binaryCrossentropy'
      ? tf.metrics.binaryCrossentropy(yTrue, yPred)
      : tf.metrics.categoricalCrossentropy(yTrue, yPred);
  return tf.mean(perRow) as tf.Scalar;
}

function makeOptimizer(name: 'sgd' | 'adam', learningRate: number): tf.Optimizer {
  return name === 'adam' ? tf.train.adam(learningRate) : tf.train.sgd(learningRate);
}

/**
 * One optimiser step on `loss`, its gradients pulled towards `anchors` (the global weights, one per
 * variable) by `mu·(w − w_global)` when there are anchors. Returns the loss before the step.
 */
function step(optimizer: tf.Optimizer, loss: () => tf.Scalar, vars: tf.Variable[], mu: number, anchors: tf.Tensor[] | null): tf.Scalar {
  if (!anchors) return optimizer.minimize(loss, true, vars)!;
  const { value, grads } = optimizer.computeGradients(loss, vars);
  const pulled: tf.NamedTensorMap = {};
  vars.forEach((v, i) => (pulled[v.name] = tf.add(grads[v.name], tf.mul(mu, tf.sub(v, anchors[i])))));
  optimizer.applyGradients(pulled);
  return value;
}

/** Hand the event loop a turn, so a worker can answer messages mid-training. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const YIELD_EVERY_MS = 25;

/**
 * Train a copy of the model from `weights` on `data`: seeded shuffle per epoch
 * (`deriveSeed(seed, 'epoch-<e>')`), mini-batches in that order, a fresh optimizer per call. Leaves
 * no tensors behind.
 */
export async function trainLocal(opts: TrainOptions): Promise<TrainResult> {
  const { spec, data, learningRate, steps } = opts;
  checkDataset(spec, data);
  if (data.n === 0) throw new RangeError('cannot train on an empty dataset');
  if ((opts.epochs === undefined) === (steps === undefined)) throw new RangeError('set one of epochs and steps');
  if (steps !== undefined && !(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`steps must be a whole number, got ${steps}`);
  if (opts.dpSgd) {
    if (isBlockSource(data)) throw new RangeError(DP_SGD_STREAM_REFUSAL);
    return trainDpSgd({ ...opts, dpSgd: opts.dpSgd }, data, labelMatrix(spec, data));
  }
  const epochs = steps !== undefined ? epochsForSteps(data.n, opts.batchSize, steps) : opts.epochs!;
  if (!(Number.isInteger(epochs) && epochs >= 0)) throw new RangeError(`epochs must be a whole number, got ${epochs}`);
  const batchSize = Math.max(1, Math.min(Math.floor(opts.batchSize), data.n));
  const { n, width } = data;
  const units = outputUnits(spec);
  const inputShape = modelInputShape(spec);

  const mu = opts.fedProxMu ?? 0;
  if (!(Number.isFinite(mu) && mu >= 0)) throw new RangeError(`fedProxMu must be a finite number ≥ 0, got ${mu}`);

  const model = buildModel(spec, opts.weights);
  const optimizer = makeOptimizer(opts.optimizer ?? spec.optimizer, learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // The global weights as tensors, in the variables' order (the spec's weight order), for the proximal pull.
  const anchors = mu > 0 ? vars.map((v, i) => tf.tensor(opts.weights[i], v.shape, 'float32')) : null;
  const losses: number[] = [];
  let batchNo = 0;
  let lastYield = Date.now();
  // Batch reads (see `readBatch`): when and at which batch the last one was started, and how many
  // batches make about `batchReadEveryMs` of the backend's work (learnt from the last epoch).
  const readEveryMs = opts.batchReadEveryMs ?? 0;
  let lastRead = -Infinity;
  let lastReadBatch = 0;
  let readEvery = Infinity;
  /** A GPU read started and not yet handed to `onBatchEnd`. */
  let inFlight: { batch: number; loss: Promise<number> } | null = null;
  /**
   * A GPU backend queues batches far faster than it runs them, so the worker's clock says little
   * about the backend's progress: paced by the clock alone, reads would let a whole epoch queue up
   * between two of them (seconds without progress). An epoch ends with a read of all its losses, which
   * waits for the backend to finish every batch, so its length is what its batches took: reads are
   * then paced by batches, about `batchReadEveryMs` of the backend's own work apart.
   */
  let epochFrom = Date.now();
  const learnPace = (batchesInEpoch: number) => {
    const now = Date.now();
    if (readEveryMs > 0 && batchesInEpoch > 0) readEvery = Math.max(1, Math.floor(readEveryMs / Math.max(1e-3, (now - epochFrom) / batchesInEpoch)));
    epochFrom = now;
  };
  /** Hands the read in flight, if any, to `onBatchEnd` once it is back. */
  const collect = async () => {
    if (!inFlight) return;
    const { batch, loss } = inFlight;
    inFlight = null;
    await opts.onBatchEnd!(batch, await loss);
  };
  /**
   * Reports a batch's loss. On the CPU and WASM a read costs nothing: at once. On a GPU backend
   * (`batchReadEveryMs` set) the read of this batch is started and the previous one collected: the
   * backend keeps working through the batches queued after it while the worker waits, instead of
   * draining its queue at every read.
   */
  const readBatch = async (cost: tf.Scalar) => {
    if (readEveryMs <= 0) {
      await opts.onBatchEnd!(batchNo, (await cost.data())[0]);
      return;
    }
    await collect();
    const loss = cost.data().then((v) => v[0]);
    loss.catch(() => undefined); // collected later; a failure then surfaces there
    inFlight = { batch: batchNo, loss };
    lastRead = Date.now();
    lastReadBatch = batchNo;
  };
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const costs: tf.Scalar[] = [];
      const sizes: number[] = [];
      try {
        for await (const { x, y, rows } of epochBatches(spec, data, epoch, batchSize, opts)) {
          const cost = tf.tidy(() => {
            // Copies: backends may keep the array they are given and upload it later.
            const xs = tf.tensor(x.slice(0, rows * width), [rows, ...inputShape], 'float32');
            const ys = tf.tensor2d(y.slice(0, rows * units), [rows, units]);
            return step(optimizer, () => lossFor(spec, ys, model.apply(xs, { training: true }) as tf.Tensor), vars, mu, anchors);
          });
          costs.push(cost);
          sizes.push(rows);
          batchNo++;
          if (opts.onBatchEnd && (Date.now() - lastRead >= readEveryMs || batchNo - lastReadBatch >= readEvery)) await readBatch(cost);
          if (Date.now() - lastYield > YIELD_EVERY_MS) {
            await yieldToEventLoop();
            lastYield = Date.now();
          }
          // Counting steps, the last epoch ends where they run out.
          if (batchNo === steps) break;
        }
        // The read still in flight first (its batch is this epoch's), then one read for the epoch.
        await collect();
        const stacked = tf.stack(costs);
        const values = await stacked.data();
        stacked.dispose();
        learnPace(costs.length);
        let sum = 0;
        let seen = 0;
        for (let b = 0; b < values.length; b++) {
          sum += values[b] * sizes[b];
          seen += sizes[b];
        }
        // `seen` is `n` but in a partial last epoch.
        losses.push(sum / seen);
      } finally {
        tf.dispose(costs);
      }
      if (opts.onEpochEnd) await opts.onEpochEnd(epoch, losses[losses.length - 1]);
      await yieldToEventLoop();
      lastYield = Date.now();
    }
    const weights = await getModelWeights(model);
    return { weights, delta: computeDelta(weights, opts.weights), losses, numSamples: n, steps: batchNo };
  } finally {
    if (anchors) tf.dispose(anchors);
    optimizer.dispose();
    model.dispose();
  }
}

interface Batch {
  /** Reused buffers: only the first `rows` samples are this batch's. */
  x: Float32Array;
  y: Float32Array;
  rows: number;
}

const DEFAULT_WINDOW_SAMPLES = 8192;

/**
 * One epoch's mini-batches: in memory, the seeded shuffle of all samples; streamed, the shuffled
 * windows of `epochWindows`, with samples left over at a window's end carried into the next batch, so
 * every batch but the epoch's last is full.
 */
async function* epochBatches(
  spec: ModelSpec,
  data: TrainingData,
  epoch: number,
  batchSize: number,
  opts: Pick<TrainOptions, 'seed' | 'windowSamples'>,
): AsyncGenerator<Batch> {
  const { width } = data;
  const units = outputUnits(spec);
  const x = new Float32Array(batchSize * width);
  const y = new Float32Array(batchSize * units);
  if (!isBlockSource(data)) {
    const labels = labelMatrix(spec, data);
    const order = shuffledIndices(data.n, mulberry32(deriveSeed(opts.seed, `epoch-${epoch}`)));
    for (let start = 0; start < data.n; start += batchSize) {
      const rows = Math.min(batchSize, data.n - start);
      for (let r = 0; r < rows; r++) {
        const i = order[start + r];
        x.set(data.x.subarray(i * width, (i + 1) * width), r * width);
        y.set(labels.subarray(i * units, (i + 1) * units), r * units);
      }
      yield { x, y, rows };
    }
    return;
  }
  const windowSamples = Math.max(batchSize, Math.floor(opts.windowSamples ?? DEFAULT_WINDOW_SAMPLES));
  let rows = 0;
  for await (const window of epochWindows(data, epoch, { windowSamples, seed: opts.seed })) {
    if (window.width !== width) throw new RangeError(`a block's samples have ${window.width} values, not ${width}`);
    const labels = labelMatrix(spec, window);
    for (let i = 0; i < window.n; i++) {
      x.set(window.x.subarray(i * width, (i + 1) * width), rows * width);
      y.set(labels.subarray(i * units, (i + 1) * units), rows * units);
      if (++rows === batchSize) {
        yield { x, y, rows };
        rows = 0;
      }
    }
  }
  if (rows > 0) yield { x, y, rows };
}

/** Mean training loss of exactly one epoch from `weights`: the figure compared across backends. */
export async function epochLoss(opts: Omit<TrainOptions, 'epochs' | 'steps'>): Promise<number> {
  const { losses } = await trainLocal({ ...opts, epochs: 1 });
  return losses[0];
}
