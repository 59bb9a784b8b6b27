import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { addProximalGradient } from '../fl/fedprox';
import { squaredDistance } from '../fl/vectors';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { heartRisk } from '../tasks/heartRisk';
import { initialWeights } from '../tasks/modelSpec';
import { hospitalSplit } from './split';
import { trainLocal, type TrainOptions } from './train';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const spec = heartRisk.model;
const site = demoHospitals[2];
const { train } = hospitalSplit(heartRisk, site.id, generateHeartRecords(site));
const base: TrainOptions = { spec, weights: initialWeights(spec, 7), data: train, epochs: 3, batchSize: 32, learningRate: 0.01, seed: 3 };
const bits = (ws: Float32Array[]) => ws.map((w) => Array.from(new Uint32Array(w.buffer, w.byteOffset, w.length)));

describe('trainLocal with a FedProx proximal term', () => {
  it('changes nothing, bit for bit, when mu is 0', async () => {
    const plain = await trainLocal(base);
    const zero = await trainLocal({ ...base, fedProxMu: 0 });
    expect(bits(zero.weights)).toEqual(bits(plain.weights));
    expect(zero.losses).toEqual(plain.losses);
  });

  it('keeps the local weights closer to the global ones as mu grows', async () => {
    const distances: number[] = [];
    for (const mu of [0, 0.1, 1, 10]) {
      const r = await trainLocal({ ...base, fedProxMu: mu });
      distances.push(squaredDistance(r.weights, base.weights));
      // The reported loss is the data loss: still a cross-entropy, finite and positive.
      expect(r.losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
    }
    for (let i = 1; i < distances.length; i++) expect(distances[i]).toBeLessThan(distances[i - 1]);
    expect(distances[3]).toBeLessThan(distances[0] * 0.5);
  });

  it('adds exactly mu·(w − w_global) to the gradient (full-batch SGD, two steps)', async () => {
    // One batch per epoch: step 1 starts at w_global, where the pull is zero, so both runs share w1;
    // step 2 then differs by −lr·mu·(w1 − w_global).
    const sgd: TrainOptions = { ...base, batchSize: train.n, optimizer: 'sgd', learningRate: 0.5 };
    const mu = 0.8;
    const w1 = (await trainLocal({ ...sgd, epochs: 1 })).weights;
    const plain = (await trainLocal({ ...sgd, epochs: 2 })).weights;
    const prox = (await trainLocal({ ...sgd, epochs: 2, fedProxMu: mu })).weights;
    const pull = addProximalGradient(w1.map((w) => new Float32Array(w.length)), w1, base.weights, mu);
    let moved = 0;
    prox.forEach((t, k) =>
      t.forEach((v, i) => {
        const expected = plain[k][i] - sgd.learningRate * pull[k][i];
        expect(Math.abs(v - expected)).toBeLessThan(1e-5);
        moved = Math.max(moved, Math.abs(v - plain[k][i]));
      }),
    );
    expect(moved).toBeGreaterThan(1e-3);
  });

  it('leaves no tensors behind', async () => {
    await trainLocal({ ...base, epochs: 1, fedProxMu: 0.1 });
    const before = tf.memory().numTensors;
    await trainLocal({ ...base, fedProxMu: 0.1 });
    await trainLocal({ ...base, fedProxMu: 0.1, optimizer: 'sgd' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a negative or non-finite mu', async () => {
    await expect(trainLocal({ ...base, fedProxMu: -1 })).rejects.toThrow(/fedProxMu/);
    await expect(trainLocal({ ...base, fedProxMu: Number.NaN })).rejects.toThrow(/fedProxMu/);
  });
});
