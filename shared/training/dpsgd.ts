/**
 * Record-level DP-SGD (Abadi et al. 2016, "Deep learning with differential privacy"): every step
 * Poisson-samples the records (each joins with probability q), clips each example's gradient over
 * the whole model to L2 norm C, sums the clipped gradients, adds Gaussian noise of standard deviation
 * z·C to every coordinate of the sum and divides by the expected batch size q·n. One record then
 * moves a step's gradient by at most C / (q·n) and the noise is z times that: the Poisson-subsampled
 * Gaussian mechanism that shared/fl/privacy/rdp.ts accounts for.
 *
 * TF.js has no per-example gradients, so two ways to get the clipped sum:
 * - `ghost`, models whose trainable layers are all dense: with Z = A·W + b, example i's gradient of W
 *   is a_iᵀ·g_i (g_i = ∂L_i/∂z_i), whose squared norm is ‖a_i‖²·‖g_i‖², plus ‖g_i‖² for the bias.
 *   One backward pass to zero "probe" tensors added to every Z gives every g_i at once; the clipped
 *   sum is then Aᵀ·(c ⊙ G) per layer, one matmul, never a per-example gradient in memory.
 * - `microbatch`, any model: one backward pass per example.
 */
import * as tf from '@tensorflow/tfjs';
import type { DenseLayer, ModelSpec } from '../tasks/spec';
import type { DpRandom } from './dpRandom';

export { cryptoUniform, normalFrom, poissonSample, secretRandom, type DpRandom } from './dpRandom';

export type DpSgdMethod = 'auto' | 'ghost' | 'microbatch';

export interface DpSgdOptions {
  /** C: every example's gradient (all layers together) is clipped to this L2 norm. */
  clipNorm: number;
  /** z: the noise's standard deviation over C. */
  noiseMultiplier: number;
  /** q: each record's chance to join a step's batch. */
  sampleRate: number;
  /** Default 'auto': ghost norms when every trainable layer is dense, else microbatches of one. */
  method?: DpSgdMethod;
  /** Tests only: seeded generators. The product must leave it unset (the OS's CSPRNG). */
  random?: DpRandom;
}

/** Throws on settings DP-SGD cannot run with. */
export function checkDpSgdOptions(dp: DpSgdOptions): void {
  if (!(Number.isFinite(dp.clipNorm) && dp.clipNorm > 0)) throw new RangeError(`dpSgd.clipNorm must be above 0, got ${dp.clipNorm}`);
  if (!(Number.isFinite(dp.noiseMultiplier) && dp.noiseMultiplier >= 0)) throw new RangeError(`dpSgd.noiseMultiplier must be ≥ 0, got ${dp.noiseMultiplier}`);
  if (!(dp.sampleRate > 0 && dp.sampleRate <= 1)) throw new RangeError(`dpSgd.sampleRate must be in (0, 1], got ${dp.sampleRate}`);
}

/** Ghost norms need every trainable layer dense (flatten and pooling have no weights and may stay). */
export function ghostSupported(spec: ModelSpec): boolean {
  return spec.layers.every((l) => l.type === 'dense' || l.type === 'flatten' || l.type === 'maxPooling2d' || l.type === 'globalAveragePooling2d');
}

export function resolveMethod(spec: ModelSpec, method: DpSgdMethod = 'auto'): 'ghost' | 'microbatch' {
  if (method === 'ghost' && !ghostSupported(spec)) throw new RangeError('ghost norms need a model whose trainable layers are all dense: use microbatch');
  if (method === 'auto') return ghostSupported(spec) ? 'ghost' : 'microbatch';
  return method;
}

/** DP-SGD steps a local run takes: `steps`, or `epochs` × round(1/q) (an epoch's worth of expected batches). */
export function dpStepCount(work: { epochs?: number; steps?: number }, sampleRate: number): number {
  if (work.steps !== undefined) return work.steps;
  return (work.epochs ?? 0) * Math.max(1, Math.round(1 / sampleRate));
}

/**
 * Each example's loss, exactly the loss `trainLocal` averages (`lossFor`): Keras's cross-entropies,
 * which clip probabilities to [1e-7, 1 − 1e-7].
 */
export function exampleLosses(spec: ModelSpec, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor1D {
  return (spec.loss === 'binaryCrossentropy' ? tf.metrics.binaryCrossentropy(yTrue, yPred) : tf.metrics.categoricalCrossentropy(yTrue, yPred)) as tf.Tensor1D;
}

export interface ClippedSum {
  /** Σ_i clip(∇L_i), one tensor per trainable variable in `vars` order. */
  sum: tf.Tensor[];
  /** Σ_i L_i before the step. */
  lossSum: tf.Scalar;
  /** ‖∇L_i‖ before clipping, one per example. */
  norms: tf.Tensor1D;
}

/** min(1, C/‖g‖) from squared norms; a zero gradient keeps factor 1. */
const clipFactors = (squaredNorms: tf.Tensor1D, clipNorm: number): tf.Tensor1D =>
  tf.minimum(1, tf.div(clipNorm, tf.sqrt(squaredNorms))) as tf.Tensor1D;

function applyActivation(z: tf.Tensor, activation: DenseLayer['activation']): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(z);
    case 'tanh':
      return tf.tanh(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'softmax':
      return tf.softmax(z);
    case 'linear':
      return z;
  }
}

/** Ghost clipping (see the file's comment). Call inside tf.tidy. */
export function ghostClippedSum(model: tf.Sequential, spec: ModelSpec, vars: tf.Variable[], xs: tf.Tensor, ys: tf.Tensor, clipNorm: number): ClippedSum {
  const rows = xs.shape[0];
  const dense = spec.layers.flatMap((l, i) => (l.type === 'dense' ? [{ index: i, layer: l }] : []));
  const probes = dense.map(({ layer }) => tf.zeros([rows, layer.units]));
  // Each dense layer's input, kept past the gradient's own scope (freed below; `xs` is the caller's).
  const inputs: tf.Tensor[] = [];
  const { value: lossSum, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
    let a = xs;
    let k = 0;
    spec.layers.forEach((layer, i) => {
      if (layer.type !== 'dense') {
        a = model.layers[i].apply(a) as tf.Tensor;
        return;
      }
      inputs.push(a === xs ? a : tf.keep(a));
      const [kernel, bias] = model.layers[i].trainableWeights.map((w) => w.read());
      a = applyActivation(tf.add(tf.add(tf.matMul(a, kernel), bias), ps[k++]), layer.activation);
    });
    return tf.sum(exampleLosses(spec, ys, a));
  })(probes);
  // ‖∇_W L_i‖² + ‖∇_b L_i‖² = ‖g_i‖²·(‖a_i‖² + 1), summed over the layers.
  const squared = grads.reduce(
    (acc, g, k) => tf.add(acc, tf.mul(tf.sum(tf.square(g), 1), tf.add(tf.sum(tf.square(inputs[k]), 1), 1))),
    tf.zeros([rows]),
  ) as tf.Tensor1D;
  const c = clipFactors(squared, clipNorm).reshape([rows, 1]);
  const byName = new Map<string, tf.Tensor>();
  dense.forEach(({ index }, k) => {
    const scaled = tf.mul(grads[k], c);
    const [kernel, bias] = model.layers[index].trainableWeights.map((w) => w.read() as tf.Variable);
    byName.set(kernel.name, tf.matMul(inputs[k], scaled, true, false));
    byName.set(bias.name, tf.sum(scaled, 0));
  });
  tf.dispose(inputs.filter((a) => a !== xs));
  return { sum: vars.map((v) => byName.get(v.name)!), lossSum: lossSum as tf.Scalar, norms: tf.sqrt(squared) };
}

/** One backward pass per example: any model. Call inside tf.tidy. */
export function microbatchClippedSum(model: tf.Sequential, spec: ModelSpec, vars: tf.Variable[], xs: tf.Tensor, ys: tf.Tensor, clipNorm: number): ClippedSum {
  const rows = xs.shape[0];
  let sum = vars.map((v) => tf.zerosLike(v) as tf.Tensor);
  let lossSum: tf.Scalar = tf.scalar(0);
  const norms: tf.Scalar[] = [];
  for (let i = 0; i < rows; i++) {
    // Each example's tensors freed as it is summed, so memory stays one example's gradient.
    const next = tf.tidy(() => {
      const xi = xs.slice(i, 1);
      const yi = ys.slice(i, 1);
      const { value, grads } = tf.variableGrads(() => tf.sum(exampleLosses(spec, yi, model.apply(xi, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
      const g = vars.map((v) => grads[v.name]);
      const norm = tf.sqrt(tf.addN(g.map((t) => tf.sum(tf.square(t))))) as tf.Scalar;
      const c = tf.minimum(1, tf.div(clipNorm, norm));
      return { sum: sum.map((s, j) => tf.add(s, tf.mul(g[j], c))), lossSum: tf.add(lossSum, value) as tf.Scalar, norm };
    });
    tf.dispose([...sum, lossSum]);
    sum = next.sum;
    lossSum = next.lossSum;
    norms.push(next.norm);
  }
  return { sum, lossSum, norms: rows > 0 ? (tf.stack(norms) as tf.Tensor1D) : tf.zeros([0]) };
}

/** The clipped sum by `method`. Call inside tf.tidy. */
export function clippedGradientSum(
  method: 'ghost' | 'microbatch',
  model: tf.Sequential,
  spec: ModelSpec,
  vars: tf.Variable[],
  xs: tf.Tensor,
  ys: tf.Tensor,
  clipNorm: number,
): ClippedSum {
  if (xs.shape[0] === 0) return { sum: vars.map((v) => tf.zerosLike(v)), lossSum: tf.scalar(0), norms: tf.zeros([0]) };
  return (method === 'ghost' ? ghostClippedSum : microbatchClippedSum)(model, spec, vars, xs, ys, clipNorm);
}

/**
 * (sum + N(0, std²) on every coordinate) / denominator: the released gradient. The noise is drawn
 * here, on the CPU, from `normal` (the secret source in the product).
 */
export function noisyMean(sum: tf.Tensor[], std: number, denominator: number, normal: () => number): tf.Tensor[] {
  return sum.map((s) => {
    const noise = new Float32Array(s.size);
    if (std > 0) for (let j = 0; j < noise.length; j++) noise[j] = std * normal();
    return tf.div(tf.add(s, tf.tensor(noise, s.shape, 'float32')), denominator);
  });
}
