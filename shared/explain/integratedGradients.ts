import * as tf from '@tensorflow/tfjs';
import { encodedWidth, encodeRecords, featureWidth } from '../tasks/encoding';
import type { Feature } from '../tasks/spec';

/** Trapezoid intervals of a first pass; see `tolerance` for refining it. */
export const IG_STEPS = 64;

/**
 * The model's logit: the pre-activation of its last (dense, single-unit sigmoid or linear) layer,
 * `[n, d] → [n]`. Attributions are taken on the logit, not the probability: the sigmoid squashes
 * differences near 0 and 1, and the logit is where the features' contributions add up.
 */
export function logitOf(model: tf.LayersModel, x: tf.Tensor2D): tf.Tensor1D {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const last = layers[layers.length - 1];
  if (!last || last.getClassName() !== 'Dense') throw new TypeError('the model must end in a dense output layer');
  const config = last.getConfig() as { units?: number; activation?: string; useBias?: boolean };
  if (config.units !== 1 || (config.activation !== 'sigmoid' && config.activation !== 'linear')) {
    throw new TypeError(`integrated gradients here explain one sigmoid output, not a ${config.units}-unit ${config.activation} layer`);
  }
  return tf.tidy(() => {
    let h: tf.Tensor = x;
    for (const layer of layers.slice(0, -1)) h = layer.apply(h) as tf.Tensor;
    // The layer's own variables (not copies), so gradients flow through exactly what predict() uses.
    const [kernel, bias] = last.getWeights();
    let z = tf.matMul(h as tf.Tensor2D, kernel as tf.Tensor2D);
    if (bias) z = tf.add(z, bias);
    return tf.reshape(z, [-1]) as tf.Tensor1D;
  });
}

export interface IntegratedGradientsResult {
  /** Per encoded column: how much of `logit − baselineLogit` it accounts for. */
  attributions: Float32Array;
  logit: number;
  baselineLogit: number;
  /** `Σ attributions − (logit − baselineLogit)`: the integration error (completeness gap). */
  gap: number;
  /** Intervals the path was cut into. */
  steps: number;
}

export interface IntegratedGradientsOptions {
  /** Intervals of the trapezoid rule; default `IG_STEPS`. */
  steps?: number;
  /**
   * Largest completeness gap to accept: while `|gap|` is larger, the steps are doubled, up to
   * `maxSteps`. A ReLU network's gradient jumps where a unit switches on or off along the path, and
   * the trapezoid rule's error there shrinks as 1/steps; checking completeness and refining is the
   * remedy the method's authors recommend. Unset: `steps`, once.
   */
  tolerance?: number;
  /** Default 1024. */
  maxSteps?: number;
}

/** One trapezoid-rule pass over `steps` intervals. */
function integrate(model: tf.LayersModel, input: ArrayLike<number>, baseline: ArrayLike<number>, steps: number): IntegratedGradientsResult {
  const d = input.length;
  const [attributions, ends] = tf.tidy(() => {
    const x = tf.tensor2d(Array.from(input), [1, d]);
    const x0 = tf.tensor2d(Array.from(baseline), [1, d]);
    const diff = tf.sub(x, x0);
    // All steps + 1 points of the path in one batch: row k is x′ + (k / steps)(x − x′).
    const alphas = tf.reshape(tf.div(tf.range(0, steps + 1, 1, 'float32'), steps), [steps + 1, 1]);
    const path = tf.add(x0, tf.mul(alphas, diff)) as tf.Tensor2D;
    // Rows are independent, so the gradient of the summed logits holds each point's own gradient.
    const grads = tf.grad((p: tf.Tensor) => tf.sum(logitOf(model, p as tf.Tensor2D)))(path);
    const w = new Float32Array(steps + 1).fill(1 / steps);
    w[0] = w[steps] = 1 / (2 * steps);
    const meanGrad = tf.sum(tf.mul(grads, tf.tensor2d(w, [steps + 1, 1])), 0);
    const attr = tf.mul(meanGrad, tf.reshape(diff, [d]));
    const logits = logitOf(model, tf.concat([x, x0], 0) as tf.Tensor2D);
    return [attr, logits];
  });
  try {
    const a = Float32Array.from(attributions.dataSync());
    const [logit, baselineLogit] = Array.from(ends.dataSync());
    let sum = 0;
    for (const v of a) sum += v;
    return { attributions: a, logit, baselineLogit, gap: sum - (logit - baselineLogit), steps };
  } finally {
    tf.dispose([attributions, ends]);
  }
}

/**
 * Integrated gradients (Sundararajan, Taly & Yan 2017) of the model's logit, along the straight path
 * from `baseline` to `input`: `(x − x′) · ∫₀¹ ∂logit(x′ + α(x − x′))/∂x dα`, integrated with the
 * trapezoid rule. Completeness: the attributions add up to `logit(x) − logit(x′)` up to the
 * integration error, which `gap` reports. A column where the input equals the baseline gets exactly
 * 0. Leaves no tensors behind.
 */
export function integratedGradients(
  model: tf.LayersModel,
  input: ArrayLike<number>,
  baseline: ArrayLike<number>,
  options: IntegratedGradientsOptions = {},
): IntegratedGradientsResult {
  const { steps = IG_STEPS, tolerance, maxSteps = 1024 } = options;
  if (baseline.length !== input.length) throw new RangeError(`the baseline has ${baseline.length} columns, the input ${input.length}`);
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, not ${steps}`);
  let result = integrate(model, input, baseline, steps);
  while (tolerance !== undefined && Math.abs(result.gap) > tolerance && result.steps * 2 <= maxSteps) {
    result = integrate(model, input, baseline, result.steps * 2);
  }
  return result;
}

/**
 * The study's typical patient, encoded: every value at the mean of a numeric feature (standardised
 * to 0) or the mode of a binary or categorical one, and every value measured (missing indicators 0).
 */
export function meanPatient(features: readonly Feature[]): Float32Array {
  // Encoded as missing, which imputes the means and modes; then marked measured.
  const x = encodeRecords(features, [{ id: 'baseline', values: {}, label: 0 }]).x;
  let col = 0;
  for (const f of features) {
    col += featureWidth(f);
    if (f.missingIndicator) x[col - 1] = 0;
  }
  return x;
}

/**
 * One attribution per feature: a categorical feature's one-hot columns summed (moving from the
 * baseline's category to the patient's shifts both columns; together they are the feature's effect),
 * with its missing indicator's column where it has one.
 */
export function foldAttributions(features: readonly Feature[], columns: ArrayLike<number>): { name: string; attribution: number }[] {
  if (columns.length !== encodedWidth(features)) throw new RangeError(`${columns.length} attributions for ${encodedWidth(features)} encoded columns`);
  let col = 0;
  return features.map((f) => {
    // A missing indicator is part of its feature: "measured, at this value" against the baseline's mean.
    const width = featureWidth(f);
    let attribution = 0;
    for (let k = 0; k < width; k++) attribution += columns[col + k];
    col += width;
    return { name: f.name, attribution };
  });
}
