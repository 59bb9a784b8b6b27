import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { mulberry32 } from '../synthetic/rng';
import { heartRisk } from '../tasks/heartRisk';
import { lesionImages } from '../tasks/lesionImages';
import { initialWeights } from '../tasks/modelSpec';
import type { ModelSpec } from '../tasks/spec';
import { subset } from './dataset';
import { normalFrom, poissonSample, secretRandom, type DpRandom } from './dpRandom';
import { clippedGradientSum, dpStepCount, exampleLosses, ghostSupported, noisyMean, resolveMethod } from './dpsgd';
import { buildModel } from './model';
import { hospitalSplit } from './split';
import { memoryBlockSource } from './stream';
import { labelMatrix, lossFor, trainLocal, type TrainOptions } from './train';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});
afterEach(() => vi.restoreAllMocks());

const seeded = (seed: number): DpRandom => ({ uniform: mulberry32(seed), normal: normalFrom(mulberry32(seed + 1)) });
const METHODS = ['ghost', 'microbatch'] as const;

/** The clipped sum, per-example norms and loss sum of `method`, read back as plain arrays. */
function clipped(method: 'ghost' | 'microbatch', spec: ModelSpec, weights: Float32Array[], x: number[][], y: number[][], clipNorm: number) {
  const model = buildModel(spec, weights);
  try {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const out = tf.tidy(() => {
      const r = clippedGradientSum(method, model, spec, vars, tf.tensor2d(x), tf.tensor2d(y), clipNorm);
      return [r.norms, r.lossSum, ...r.sum];
    });
    const [norms, lossSum, ...sum] = out.map((t) => Array.from(t.dataSync()));
    tf.dispose(out);
    return { norms, lossSum: lossSum[0], sum };
  } finally {
    model.dispose();
  }
}

// Logistic regression on two inputs: example i's gradient is (p_i − y_i)·[x_i, 1], by hand.
const logistic: ModelSpec = { inputDim: 2, layers: [{ type: 'dense', units: 1, activation: 'sigmoid' }], loss: 'binaryCrossentropy', optimizer: 'sgd' };
const w = [0.5, -0.3];
const b = 0.1;
const xs = [
  [1, 2],
  [3, -1],
  [0.1, 0.2],
  [-4, 5],
];
const ys = [[1], [0], [1], [0]];
const handGrads = xs.map((x, i) => {
  const p = 1 / (1 + Math.exp(-(w[0] * x[0] + w[1] * x[1] + b)));
  return [(p - ys[i][0]) * x[0], (p - ys[i][0]) * x[1], p - ys[i][0]];
});
const norm = (v: number[]) => Math.hypot(...v);

describe('per-example clipping', () => {
  const C = 1;
  // Examples 0 and 1 have gradients longer than C, 2 and 3 shorter: both branches of the clip.
  it('has the hand-computed example gradients, some above C and some below', () => {
    expect(handGrads.map(norm).map((g) => g > C)).toEqual([true, true, false, false]);
  });

  for (const method of METHODS) {
    it(`${method}: finds each example's gradient norm and bounds each example by C`, () => {
      const weights = [Float32Array.from(w), Float32Array.of(b)];
      const all = clipped(method, logistic, weights, xs, ys, C);
      all.norms.forEach((n, i) => expect(n).toBeCloseTo(norm(handGrads[i]), 5));
      // The sum of min(1, C/‖g_i‖)·g_i.
      const expected = [0, 1, 2].map((k) => handGrads.reduce((s, g) => s + g[k] * Math.min(1, C / norm(g)), 0));
      const got = [...all.sum[0], ...all.sum[1]];
      got.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
      // One example at a time: its clipped gradient is at most C long, and untouched when shorter.
      xs.forEach((x, i) => {
        const one = clipped(method, logistic, weights, [x], [ys[i]], C);
        const g = [...one.sum[0], ...one.sum[1]];
        expect(norm(g)).toBeLessThanOrEqual(C * (1 + 1e-6));
        if (norm(handGrads[i]) < C) g.forEach((v, k) => expect(v).toBeCloseTo(handGrads[i][k], 6));
      });
    });
  }

  it('ghost norms and microbatches give the same clipped sum on an MLP with a softmax output', () => {
    const mlp: ModelSpec = {
      inputDim: 5,
      layers: [
        { type: 'dense', units: 8, activation: 'relu' },
        { type: 'dense', units: 6, activation: 'tanh' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: 'categoricalCrossentropy',
      optimizer: 'adam',
    };
    const rand = mulberry32(9);
    const x = Array.from({ length: 12 }, () => Array.from({ length: 5 }, () => rand() * 4 - 2));
    const y = x.map((_, i) => [0, 1, 2].map((k) => (k === i % 3 ? 1 : 0)));
    const weights = initialWeights(mlp, 3);
    const ghost = clipped('ghost', mlp, weights, x, y, 0.5);
    const micro = clipped('microbatch', mlp, weights, x, y, 0.5);
    ghost.norms.forEach((n, i) => expect(n).toBeCloseTo(micro.norms[i], 4));
    expect(ghost.lossSum).toBeCloseTo(micro.lossSum, 4);
    ghost.sum.forEach((t, j) => t.forEach((v, k) => expect(v).toBeCloseTo(micro.sum[j][k], 4)));
  });

  it('uses the loss trainLocal averages, and picks ghost norms only for dense models', () => {
    const pred = tf.tensor2d([[0.2], [0.9], [1]]);
    const truth = tf.tensor2d([[0], [1], [0]]);
    expect(tf.mean(exampleLosses(heartRisk.model, truth, pred)).dataSync()[0]).toBe(lossFor(heartRisk.model, truth, pred).dataSync()[0]);
    expect(resolveMethod(heartRisk.model)).toBe('ghost');
    expect(ghostSupported(lesionImages.model)).toBe(false);
    expect(resolveMethod(lesionImages.model)).toBe('microbatch');
    expect(() => resolveMethod(lesionImages.model, 'ghost')).toThrow(/dense/);
  });
});

describe('noise and sampling', () => {
  it('adds noise of standard deviation z·C, then divides by q·n', () => {
    const sum = [tf.zeros([200, 100])];
    const std = 1.1 * 0.7;
    const [out] = noisyMean(sum, std, 4, normalFrom(mulberry32(21)));
    const v = Array.from(out.dataSync()).map((x) => x * 4);
    tf.dispose([...sum, out]);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
    // 20 000 draws: the sample sd is within ~0.5 % of the truth (1 s.e.); 3 % is generous.
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(sd / std).toBeGreaterThan(0.97);
    expect(sd / std).toBeLessThan(1.03);
  });

  it('Poisson-samples each record with probability q: variable, possibly empty batches', () => {
    const uniform = mulberry32(5);
    const n = 300;
    const q = 0.05;
    const counts = new Array<number>(n).fill(0);
    const sizes: number[] = [];
    for (let s = 0; s < 4000; s++) {
      const chosen = poissonSample(n, q, uniform);
      sizes.push(chosen.length);
      chosen.forEach((i) => counts[i]++);
      expect(chosen.every((i, k) => i >= 0 && i < n && (k === 0 || i > chosen[k - 1]))).toBe(true);
    }
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    const variance = sizes.reduce((a, b) => a + (b - mean) ** 2, 0) / sizes.length;
    expect(mean).toBeCloseTo(q * n, 0); // 15 ± 0.06 (s.e.)
    expect(variance / (n * q * (1 - q))).toBeGreaterThan(0.9);
    expect(variance / (n * q * (1 - q))).toBeLessThan(1.1);
    // Every record's share: 200 ± 14 (s.e.) inclusions each.
    expect(Math.min(...counts)).toBeGreaterThan(130);
    expect(Math.max(...counts)).toBeLessThan(270);
    expect(poissonSample(3, 0.01, mulberry32(1))).toEqual([]);
    expect(poissonSample(4, 1, mulberry32(1))).toEqual([0, 1, 2, 3]);
  });

  it('draws from crypto.getRandomValues by default', () => {
    const spy = vi.spyOn(crypto, 'getRandomValues');
    const r = secretRandom();
    const u = r.uniform();
    r.normal();
    expect(spy).toHaveBeenCalled();
    expect(u >= 0 && u < 1).toBe(true);
  });
});

describe('trainLocal with dpSgd', () => {
  const site = demoHospitals[1];
  const { train } = hospitalSplit(heartRisk, site.id, generateHeartRecords(site));
  const data = subset(train, Array.from({ length: 120 }, (_, i) => i));
  const base: TrainOptions = { spec: heartRisk.model, weights: initialWeights(heartRisk.model, 4), data, epochs: 1, batchSize: 120, learningRate: 0.05, seed: 1, optimizer: 'sgd' };

  it('without noise, clipping or subsampling, one step is the plain full-batch step', async () => {
    const plain = await trainLocal(base);
    for (const method of METHODS) {
      const dp = await trainLocal({ ...base, epochs: undefined, steps: 1, dpSgd: { clipNorm: 1e9, noiseMultiplier: 0, sampleRate: 1, method, random: seeded(1) } });
      expect(dp.dpSgd).toEqual({ steps: 1, sampleRate: 1, method });
      dp.weights.forEach((wt, j) => wt.forEach((v, k) => expect(v).toBeCloseTo(plain.weights[j][k], 5)));
      expect(dp.losses[0]).toBeCloseTo(plain.losses[0], 5);
    }
  });

  it('runs epochs × round(1/q) steps, repeatably with injected randomness, and moves on empty batches', async () => {
    const dpSgd = { clipNorm: 1, noiseMultiplier: 1.1, sampleRate: 0.1, random: seeded(7) };
    const a = await trainLocal({ ...base, epochs: 2, dpSgd });
    const again = await trainLocal({ ...base, epochs: 2, dpSgd: { ...dpSgd, random: seeded(7) } });
    expect(a.steps).toBe(20);
    expect(dpStepCount({ epochs: 2 }, 0.1)).toBe(20);
    expect(a.losses).toHaveLength(2);
    expect(a.weights).toEqual(again.weights);
    // A uniform source that never picks a record: every batch is empty, yet the noise moves the weights.
    const empty = await trainLocal({ ...base, steps: 3, epochs: undefined, dpSgd: { ...dpSgd, random: { uniform: () => 0.999999999, normal: normalFrom(mulberry32(2)) } } });
    expect(empty.losses.every(Number.isNaN)).toBe(true);
    expect(empty.delta.some((d) => d.some((v) => v !== 0))).toBe(true);
  });

  it('leaves no tensors behind, by either method', async () => {
    for (const method of METHODS) {
      const before = tf.memory().numTensors;
      await trainLocal({ ...base, steps: 3, epochs: undefined, fedProxMu: 0.1, dpSgd: { clipNorm: 1, noiseMultiplier: 1, sampleRate: 0.1, method, random: seeded(3) } });
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('trains a convolutional model by microbatches, each example clipped to C', async () => {
    const conv: ModelSpec = {
      inputShape: [4, 4, 1],
      layers: [
        { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'flatten' },
        { type: 'dense', units: 1, activation: 'sigmoid' },
      ],
      loss: 'binaryCrossentropy',
      optimizer: 'sgd',
    };
    const r = mulberry32(4);
    const x = Array.from({ length: 6 }, () => Array.from({ length: 16 }, () => r() * 3));
    const y = x.map((_, i) => [i % 2]);
    const weights = initialWeights(conv, 2);
    const model = buildModel(conv, weights);
    const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
    x.forEach((xi, i) => {
      const n = tf.tidy(() => {
        const one = clippedGradientSum('microbatch', model, conv, vars, tf.tensor4d(xi, [1, 4, 4, 1]), tf.tensor2d([y[i]]), 0.01);
        return tf.sqrt(tf.addN(one.sum.map((g) => tf.sum(tf.square(g)))));
      });
      expect(n.dataSync()[0]).toBeLessThanOrEqual(0.01 * (1 + 1e-5));
      n.dispose();
    });
    model.dispose();
    const data = { x: Float32Array.from(x.flat()), y: Float32Array.from(y.flat()), n: 6, width: 16, shape: [4, 4, 1] };
    const result = await trainLocal({ spec: conv, weights, data, steps: 2, batchSize: 2, learningRate: 0.1, seed: 1, dpSgd: { clipNorm: 1, noiseMultiplier: 1, sampleRate: 0.5, random: seeded(5) } });
    expect(result.dpSgd).toEqual({ steps: 2, sampleRate: 0.5, method: 'microbatch' });
  });

  it('refuses streamed data, saying why', async () => {
    const labels = labelMatrix(heartRisk.model, data);
    expect(labels.length).toBe(data.n);
    await expect(trainLocal({ ...base, data: memoryBlockSource(data, 40), dpSgd: { clipNorm: 1, noiseMultiplier: 1, sampleRate: 0.1 } })).rejects.toThrow(/Poisson/);
  });
});
