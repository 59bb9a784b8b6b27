/**
 * `trainLocal` under record-level DP-SGD (see ./dpsgd.ts): each optimiser step is one DP-SGD step on
 * a fresh Poisson sample of the records. Only the type of train.ts is imported (train.ts calls this).
 */
import * as tf from '@tensorflow/tfjs';
import { modelInputShape, outputUnits } from '../tasks/modelSpec';
import type { Dataset } from './dataset';
import { computeDelta } from './deltas';
import { poissonSample, secretRandom } from './dpRandom';
import { checkDpSgdOptions, clippedGradientSum, dpStepCount, noisyMean, resolveMethod, type DpSgdOptions } from './dpsgd';
import { buildModel, getModelWeights } from './model';
import type { TrainOptions, TrainResult } from './train';

/** Why streamed data is refused rather than sampled approximately. */
export const DP_SGD_STREAM_REFUSAL =
  'record-level DP-SGD Poisson-samples every record at every step (the sampling its privacy accounting assumes), which needs all records at hand; streamed data is read a window at a time, and sampling within windows would break that assumption. Load the data in memory, or train without dpSgd';

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const YIELD_EVERY_MS = 25;

/**
 * DP-SGD local training: `steps`, or `epochs` × round(1/q), steps. An "epoch" for `losses` and
 * `onEpochEnd` is round(1/q) steps (an epoch's expected worth of samples); its loss is the mean over
 * the examples its batches sampled (NaN if none). `onBatchEnd` is called for every step, with NaN
 * for an empty batch (which still moves the model: noise and, with FedProx, the proximal pull).
 * `batchReadEveryMs` is ignored: each step's loss is read when `onBatchEnd` is set.
 * The losses describe the private data and are not themselves private.
 */
export async function trainDpSgd(opts: TrainOptions & { dpSgd: DpSgdOptions }, data: Dataset, labels: Float32Array): Promise<TrainResult> {
  const { spec, dpSgd: dp, learningRate } = opts;
  checkDpSgdOptions(dp);
  const method = resolveMethod(spec, dp.method);
  const q = dp.sampleRate;
  const steps = dpStepCount(opts, q);
  if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`steps must be a whole number, got ${steps}`);
  const perEpoch = Math.max(1, Math.round(1 / q));
  const random = dp.random ?? secretRandom();
  const { n, width } = data;
  const units = outputUnits(spec);
  const inputShape = modelInputShape(spec);
  const mu = opts.fedProxMu ?? 0;
  // Dividing by the expected batch size, not the realised one, keeps one record's effect ≤ C/(q·n).
  const denominator = q * n;
  const std = dp.noiseMultiplier * dp.clipNorm;

  const model = buildModel(spec, opts.weights);
  const optimizer: tf.Optimizer = (opts.optimizer ?? spec.optimizer) === 'adam' ? tf.train.adam(learningRate) : tf.train.sgd(learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const anchors = mu > 0 ? vars.map((v, i) => tf.tensor(opts.weights[i], v.shape, 'float32')) : null;
  const losses: number[] = [];
  let lastYield = Date.now();
  let epochLoss = 0;
  let epochSeen = 0;
  try {
    for (let s = 1; s <= steps; s++) {
      const chosen = poissonSample(n, q, random.uniform);
      const rows = chosen.length;
      const x = new Float32Array(rows * width);
      const y = new Float32Array(rows * units);
      chosen.forEach((i, r) => {
        x.set(data.x.subarray(i * width, (i + 1) * width), r * width);
        y.set(labels.subarray(i * units, (i + 1) * units), r * units);
      });
      const lossSum = tf.tidy(() => {
        const xs = tf.tensor(x, [rows, ...inputShape], 'float32');
        const ys = tf.tensor2d(y, [rows, units]);
        const clipped = clippedGradientSum(method, model, spec, vars, xs, ys, dp.clipNorm);
        const released = noisyMean(clipped.sum, std, denominator, random.normal);
        // FedProx's pull depends on no record: added after clipping and noise, it costs no privacy.
        const named: tf.NamedTensorMap = {};
        vars.forEach((v, j) => (named[v.name] = anchors ? tf.add(released[j], tf.mul(mu, tf.sub(v, anchors[j]))) : released[j]));
        optimizer.applyGradients(named);
        return clipped.lossSum;
      });
      const sum = (await lossSum.data())[0];
      lossSum.dispose();
      epochLoss += sum;
      epochSeen += rows;
      if (opts.onBatchEnd) await opts.onBatchEnd(s, rows > 0 ? sum / rows : NaN);
      if (s % perEpoch === 0 || s === steps) {
        losses.push(epochSeen > 0 ? epochLoss / epochSeen : NaN);
        epochLoss = 0;
        epochSeen = 0;
        if (opts.onEpochEnd) await opts.onEpochEnd(losses.length, losses[losses.length - 1]);
      }
      if (Date.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = Date.now();
      }
    }
    const weights = await getModelWeights(model);
    return { weights, delta: computeDelta(weights, opts.weights), losses, numSamples: n, steps, dpSgd: { steps, sampleRate: q, method } };
  } finally {
    if (anchors) tf.dispose(anchors);
    optimizer.dispose();
    model.dispose();
  }
}
