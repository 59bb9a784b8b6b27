import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { majorityRate } from '../metrics/binary';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { heartRisk } from '../tasks/heartRisk';
import { initialWeights, weightShapes } from '../tasks/modelSpec';
import type { ModelSpec } from '../tasks/spec';
import type { Dataset } from './dataset';
import { applyDelta, computeDelta } from './deltas';
import { evaluateModel } from './evaluate';
import { buildModel, getModelWeights, setModelWeights } from './model';
import { hospitalSplit } from './split';
import { epochLoss, trainLocal, type TrainOptions } from './train';

beforeAll(async () => {
  tf.enableProdMode(); // also silences the "install the node backend" notice
  await tf.setBackend('cpu');
});

const spec = heartRisk.model;
const site = demoHospitals[0];
const { train, validation } = hospitalSplit(heartRisk, site.id, generateHeartRecords(site));
const base: TrainOptions = {
  spec,
  weights: initialWeights(spec, 11),
  data: train,
  epochs: 2,
  batchSize: 32,
  learningRate: 0.01,
  seed: 5,
};
const bits = (ws: Float32Array[]) => ws.map((w) => Array.from(new Uint32Array(w.buffer, w.byteOffset, w.length)));

describe('model weights', () => {
  it('round-trip through a model as copies', async () => {
    const weights = initialWeights(spec, 3);
    const model = buildModel(spec, weights);
    try {
      const out = await getModelWeights(model);
      expect(out.map((w) => w.length)).toEqual(weightShapes(spec).map((s) => s.shape.reduce((a, b) => a * b, 1)));
      expect(out).toEqual(weights);
      out[0][0] = 123;
      expect((await getModelWeights(model))[0][0]).toBe(weights[0][0]);
      expect(() => setModelWeights(model, weights.slice(1), spec)).toThrow(RangeError);
      expect(() => setModelWeights(model, [weights[0].subarray(1), ...weights.slice(1)], spec)).toThrow(/kernel/);
    } finally {
      model.dispose();
    }
  });
});

describe('trainLocal', () => {
  it('lowers the loss, on the training data and on held-out data', async () => {
    const before = await evaluateModel(spec, base.weights, validation);
    const result = await trainLocal({ ...base, epochs: 4 });
    const after = await evaluateModel(spec, result.weights, validation);
    expect(result.losses).toHaveLength(4);
    expect(result.losses[3]).toBeLessThan(result.losses[0] * 0.8);
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.accuracy).toBeGreaterThan(majorityRate(validation.y) + 0.05);
    expect(result.numSamples).toBe(train.n);
  });

  it('is bit-for-bit deterministic for a seed, and the seed matters', async () => {
    const a = await trainLocal(base);
    const b = await trainLocal(base);
    expect(bits(a.weights)).toEqual(bits(b.weights));
    expect(a.losses).toEqual(b.losses);
    const c = await trainLocal({ ...base, seed: 6 });
    expect(bits(c.weights)).not.toEqual(bits(a.weights));
  });

  it('returns delta = local - global', async () => {
    const result = await trainLocal(base);
    expect(result.delta).toEqual(computeDelta(result.weights, base.weights));
    expect(result.delta.some((d) => d.some((v) => v !== 0))).toBe(true);
    const rebuilt = applyDelta(base.weights, result.delta);
    rebuilt.forEach((w, t) => w.forEach((v, j) => expect(Math.abs(v - result.weights[t][j])).toBeLessThan(1e-6)));
    // The caller's weights are left alone.
    expect(base.weights).toEqual(initialWeights(spec, 11));
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await trainLocal(base);
    await evaluateModel(spec, base.weights, validation);
    await epochLoss(base);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports epochs from 1, batches, and yields to the event loop', async () => {
    const epochs: number[] = [];
    const batches: number[] = [];
    let timerFired = false;
    let timerSeenAtEpoch2 = false;
    setTimeout(() => (timerFired = true), 0);
    const result = await trainLocal({
      ...base,
      onEpochEnd: (epoch, loss) => {
        epochs.push(epoch);
        expect(Number.isFinite(loss)).toBe(true);
        if (epoch === 2) timerSeenAtEpoch2 = timerFired;
      },
      onBatchEnd: (batch) => {
        batches.push(batch);
      },
    });
    expect(epochs).toEqual([1, 2]);
    const perEpoch = Math.ceil(train.n / base.batchSize);
    expect(batches).toEqual(Array.from({ length: 2 * perEpoch }, (_, i) => i + 1));
    expect(timerSeenAtEpoch2).toBe(true);
    expect(result.losses).toHaveLength(2);
  });

  it('reads a batch loss at most every batchReadEveryMs (a GPU sync each), and trains the same', async () => {
    const seen: number[] = [];
    const plain = await trainLocal(base);
    const throttled = await trainLocal({ ...base, batchReadEveryMs: 3_600_000, onBatchEnd: (batch) => void seen.push(batch) });
    // The first batch is read at once; none again within the hour.
    expect(seen).toEqual([1]);
    expect(throttled.losses).toEqual(plain.losses);
    expect(throttled.weights).toEqual(plain.weights);
  });

  it('paced by batches after the first epoch, reports each read batch with its own loss, in order', async () => {
    const every: [number, number][] = [];
    await trainLocal({ ...base, epochs: 3, onBatchEnd: (batch, loss) => void every.push([batch, loss]) });
    const paced: [number, number][] = [];
    // Next to no "backend work" between reads: after the first epoch, a read every batch, each collected at the next.
    const result = await trainLocal({ ...base, epochs: 3, batchReadEveryMs: 1e-6, onBatchEnd: (batch, loss) => void paced.push([batch, loss]) });
    const perEpoch = every.length / 3;
    expect(paced.map(([b]) => b)).toEqual([...paced.map(([b]) => b)].sort((a, b) => a - b));
    for (const [batch, loss] of paced) expect(loss).toBe(every[batch - 1][1]);
    // Epochs 2 and 3: every batch.
    expect(paced.filter(([b]) => b > perEpoch).map(([b]) => b)).toEqual(Array.from({ length: 2 * perEpoch }, (_, i) => perEpoch + i + 1));
    expect(result.losses).toHaveLength(3);
  });

  it('epochLoss is the first epoch of trainLocal', async () => {
    const { losses } = await trainLocal(base);
    expect(await epochLoss(base)).toBe(losses[0]);
  });

  it('refuses data of the wrong width', async () => {
    const bad: Dataset = { x: new Float32Array(6), y: new Float32Array(2), n: 2, width: 3 };
    await expect(trainLocal({ ...base, data: bad })).rejects.toThrow(/columns/);
  });

  it('trains a softmax model on class indices', async () => {
    const softmax: ModelSpec = {
      inputDim: 2,
      layers: [{ type: 'dense', units: 3, activation: 'softmax' }],
      loss: 'categoricalCrossentropy',
      optimizer: 'sgd',
    };
    // Class k sits around the k-th corner of a triangle.
    const centres = [[2, 0], [-2, 2], [-2, -2]];
    const n = 90;
    const x = new Float32Array(n * 2);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const k = i % 3;
      y[i] = k;
      x[2 * i] = centres[k][0] + ((i * 7) % 10) / 20;
      x[2 * i + 1] = centres[k][1] - ((i * 3) % 10) / 20;
    }
    const data = { x, y, n, width: 2 };
    const weights = initialWeights(softmax, 1);
    const result = await trainLocal({ ...base, spec: softmax, weights, data, epochs: 5, learningRate: 0.5 });
    expect(result.losses[4]).toBeLessThan(result.losses[0]);
    expect((await evaluateModel(softmax, result.weights, data)).accuracy).toBe(1);
  });
});

describe('evaluateModel', () => {
  it('matches loss and accuracy computed by hand', async () => {
    // p = sigmoid(x0 - x1): logits 2, -1, 0.5, -3 against labels 1, 1, 0, 0.
    const tiny: ModelSpec = {
      inputDim: 2,
      layers: [{ type: 'dense', units: 1, activation: 'sigmoid' }],
      loss: 'binaryCrossentropy',
      optimizer: 'adam',
    };
    const weights = [Float32Array.from([1, -1]), Float32Array.from([0])];
    const data: Dataset = { x: Float32Array.from([2, 0, 0, 1, 1, 0.5, -1, 2]), y: Float32Array.from([1, 1, 0, 0]), n: 4, width: 2 };
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    const p = [2, -1, 0.5, -3].map(sigmoid);
    const loss = -(Math.log(p[0]) + Math.log(p[1]) + Math.log(1 - p[2]) + Math.log(1 - p[3])) / 4;
    const result = await evaluateModel(tiny, weights, data);
    // Rows 0 and 3 right, row 1 (p 0.27, label 1) and row 2 (p 0.62, label 0) wrong.
    expect(result.accuracy).toBe(0.5);
    expect(result.loss).toBeCloseTo(loss, 5);
    expect(result.numSamples).toBe(4);
  });
});
