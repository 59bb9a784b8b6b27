import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../shared/protocol';
import { mulberry32 } from '../../shared/synthetic/rng';
import { initialWeights, modelInputShape, modelInputSize, outputUnits, type ModelSpec } from '../../shared/tasks';
import { buildModel, lossFor, trainLocal, type Dataset } from '../../shared/training';
import { gradientError, type BackendMeasurement } from './backendChoice';

/**
 * Measures TensorFlow.js backends on the study's own model: a warm-up (it compiles the GPU
 * programs), a few timed training steps through the same `trainLocal` a round runs, and the
 * gradients on one fixed, seeded batch, compared with the CPU backend's.
 */

export interface ProbeOptions {
  /** Samples per step: the study's batch size. Default 32. */
  batchSize?: number;
  /** Untimed steps first, so shader compilation does not count. Default 2. */
  warmupSteps?: number;
  /** Timed steps. Default 8. */
  timedSteps?: number;
  /** Seeds the fixed batch and the weights the gradients are taken at. Default 1. */
  seed?: number;
  /**
   * Test hook: this backend's gradients are scaled by `1 + perturbation.by` before the check, so a
   * test can show that a backend computing wrong gradients is refused. Never set in production.
   */
  perturbation?: { backend: BackendName; by?: number };
  now?: () => number;
}

/** A backend made current, or why it cannot be. */
export type Activation = { ok: true; adapter?: string } | { ok: false; reason: string };

/** A fixed batch of the model's input: values in [0, 1) (a pixel or a scaled feature), labels of every class. */
export function probeBatch(spec: ModelSpec, rows: number, seed: number): Dataset {
  const rand = mulberry32(seed);
  const width = modelInputSize(spec);
  const units = outputUnits(spec);
  const x = new Float32Array(rows * width);
  for (let i = 0; i < x.length; i++) x[i] = rand();
  // One-hot rows for a softmax output, 0/1 for a sigmoid one; classes in turn, so each appears.
  const y = new Float32Array(rows * (units > 1 ? units : 1));
  for (let r = 0; r < rows; r++) {
    if (units > 1) y[r * units + (r % units)] = 1;
    else y[r] = r % 2;
  }
  const shape = modelInputShape(spec);
  return { x, y, n: rows, width, ...(shape.length > 1 ? { shape } : {}) };
}

/** The loss gradients of every trainable weight, on the current backend, at `weights`, on `batch`. */
export async function batchGradients(spec: ModelSpec, weights: Float32Array[], batch: Dataset): Promise<Float32Array[]> {
  const model = buildModel(spec, weights);
  try {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const grads = tf.tidy(() => {
      const xs = tf.tensor(batch.x, [batch.n, ...modelInputShape(spec)], 'float32');
      const ys = tf.tensor2d(batch.y, [batch.n, batch.y.length / batch.n]);
      const { grads } = tf.variableGrads(() => lossFor(spec, ys, model.apply(xs, { training: true }) as tf.Tensor), vars);
      return vars.map((v) => grads[v.name]);
    });
    try {
      const values = await Promise.all(grads.map((g) => g.data<'float32'>()));
      return values.map((v) => Float32Array.from(v));
    } finally {
      tf.dispose(grads);
    }
  } finally {
    model.dispose();
  }
}

/** Mean time of one training step on the current backend, after `warmupSteps` untimed ones. */
export async function timeSteps(spec: ModelSpec, opts: ProbeOptions = {}): Promise<{ msPerStep: number; samplesPerSecond: number }> {
  const { batchSize = 32, warmupSteps = 2, timedSteps = 8, seed = 1, now = () => performance.now() } = opts;
  const weights = initialWeights(spec, seed);
  const run = (steps: number) =>
    trainLocal({ spec, weights, data: probeBatch(spec, batchSize * steps, seed + 1), epochs: 1, batchSize, learningRate: 1e-3, seed });
  if (warmupSteps > 0) await run(warmupSteps);
  const start = now();
  await run(timedSteps);
  const msPerStep = (now() - start) / timedSteps;
  return { msPerStep, samplesPerSecond: msPerStep > 0 ? (batchSize * 1000) / msPerStep : Infinity };
}

/**
 * Measures each candidate in turn. `activate` makes a backend current (and says why it cannot);
 * the CPU backend is measured first, as the reference every other backend's gradients are checked
 * against. Leaves whichever backend was measured last current: the caller activates its choice.
 */
export async function measureBackends(
  spec: ModelSpec,
  candidates: BackendName[],
  activate: (backend: BackendName) => Promise<Activation>,
  opts: ProbeOptions = {},
): Promise<BackendMeasurement[]> {
  const { batchSize = 32, seed = 1, perturbation } = opts;
  const weights = initialWeights(spec, seed);
  const batch = probeBatch(spec, batchSize, seed);
  let reference: Float32Array[] | null = null;
  const cpu = await activate('cpu');
  if (cpu.ok) reference = await batchGradients(spec, weights, batch).catch(() => null);

  const out: BackendMeasurement[] = [];
  // The CPU last: it is already current, and measured after the others it is not warmed by them.
  const ordered = [...candidates.filter((b) => b !== 'cpu'), ...candidates.filter((b) => b === 'cpu')];
  for (const backend of ordered) {
    const activation = await activate(backend);
    if (!activation.ok) {
      out.push({ backend, available: false, reason: activation.reason });
      continue;
    }
    const adapter = activation.adapter ? { adapter: activation.adapter } : {};
    try {
      let error: number | null = null;
      if (backend === 'cpu') error = reference ? 0 : null;
      else if (reference) {
        let grads = await batchGradients(spec, weights, batch);
        if (perturbation?.backend === backend) grads = grads.map((g) => g.map((v) => v * (1 + (perturbation.by ?? 0.05))));
        error = gradientError(grads, reference);
      }
      const timing = await timeSteps(spec, opts);
      out.push({ backend, available: true, ...adapter, ...timing, gradientError: error });
    } catch (e) {
      out.push({ backend, available: false, ...adapter, reason: `failed while training: ${(e as Error).message}` });
    }
  }
  return out;
}
