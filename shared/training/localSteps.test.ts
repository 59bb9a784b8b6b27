import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { heartRisk } from '../tasks/heartRisk';
import { initialWeights } from '../tasks/modelSpec';
import { subset, type Dataset } from './dataset';
import { hospitalSplit } from './split';
import { memoryBlockSource } from './stream';
import { batchesPerEpoch, epochsForSteps, localWork, trainLocal, type TrainOptions } from './train';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});
afterEach(() => vi.restoreAllMocks());

const spec = heartRisk.model;
const site = demoHospitals[0];
const { train } = hospitalSplit(heartRisk, site.id, generateHeartRecords(site));
const first = (n: number): Dataset => subset(train, Array.from({ length: n }, (_, i) => i));
const small = first(30);
const large = first(200);
const common = { spec, weights: initialWeights(spec, 11), batchSize: 16, learningRate: 0.01, seed: 5 } satisfies Partial<TrainOptions>;
const bits = (ws: Float32Array[]) => ws.map((w) => Array.from(new Uint32Array(w.buffer, w.byteOffset, w.length)));

/**
 * Counts the optimiser's applications of gradients, whatever calls them: every optimiser `trainLocal`
 * makes (SGD or Adam) is wrapped as it is made.
 */
function countOptimiserSteps(): { readonly count: number } {
  const counter = { count: 0 };
  for (const name of ['sgd', 'adam'] as const) {
    const make = tf.train[name].bind(tf.train) as (lr: number) => tf.Optimizer;
    vi.spyOn(tf.train, name).mockImplementation(((lr: number) => {
      const optimizer = make(lr);
      const apply = optimizer.applyGradients.bind(optimizer);
      optimizer.applyGradients = (grads) => {
        counter.count++;
        apply(grads);
      };
      return optimizer;
    }) as never);
  }
  return counter;
}

describe('local work in optimiser steps', () => {
  it('gives a 30-record site and a 200-record site exactly the same number of steps', async () => {
    for (const steps of [5, 30]) {
      for (const data of [small, large]) {
        const counter = countOptimiserSteps();
        let batches = 0;
        const epochsSeen: number[] = [];
        const result = await trainLocal({ ...common, data, steps, onBatchEnd: () => void batches++, onEpochEnd: (e) => void epochsSeen.push(e) });
        vi.restoreAllMocks();
        expect(counter.count, `${data.n} records, ${steps} steps`).toBe(steps);
        expect(batches).toBe(steps);
        expect(result.steps).toBe(steps);
        // The update still weighs the site's record count.
        expect(result.numSamples).toBe(data.n);
        // As many epochs as the steps span, the last one partial, each with a finite mean loss.
        const epochs = epochsForSteps(data.n, common.batchSize, steps);
        expect(epochsSeen).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
        expect(result.losses).toHaveLength(epochs);
        for (const l of result.losses) expect(Number.isFinite(l)).toBe(true);
      }
    }
    // 30 records in batches of 16 are 2 batches an epoch: 30 steps cycle through 15 epochs; 200 records are 13.
    expect(batchesPerEpoch(30, 16)).toBe(2);
    expect(epochsForSteps(30, 16, 30)).toBe(15);
    expect(epochsForSteps(200, 16, 30)).toBe(3);
  });

  it('leaves epochs mode as it was: the small site takes 2 steps an epoch, the large one 13', async () => {
    for (const [data, perEpoch] of [
      [small, 2],
      [large, 13],
    ] as const) {
      const counter = countOptimiserSteps();
      const result = await trainLocal({ ...common, data, epochs: 2 });
      vi.restoreAllMocks();
      expect(counter.count).toBe(2 * perEpoch);
      expect(result.steps).toBe(2 * perEpoch);
      expect(result.losses).toHaveLength(2);
      expect(result.numSamples).toBe(data.n);
    }
  });

  it('trains a whole number of epochs’ worth of steps bit for bit as those epochs, in memory and streamed', async () => {
    const byEpochs = await trainLocal({ ...common, data: large, epochs: 2 });
    const bySteps = await trainLocal({ ...common, data: large, steps: 2 * batchesPerEpoch(large.n, common.batchSize) });
    expect(bits(bySteps.weights)).toEqual(bits(byEpochs.weights));
    expect(bySteps.losses).toEqual(byEpochs.losses);
    // Streamed in windows that hold the whole dataset, as in memory; in smaller ones, still exactly the steps asked.
    const whole = await trainLocal({ ...common, data: memoryBlockSource(large, 64), steps: 2 * batchesPerEpoch(large.n, common.batchSize), windowSamples: 256 });
    expect(bits(whole.weights)).toEqual(bits(byEpochs.weights));
    const counter = countOptimiserSteps();
    const windowed = await trainLocal({ ...common, data: memoryBlockSource(large, 24), steps: 20, windowSamples: 48 });
    expect(counter.count).toBe(20);
    expect(windowed.steps).toBe(20);
  });

  it('takes fewer steps than one epoch when asked, and refuses a request for both or neither', async () => {
    const counter = countOptimiserSteps();
    const result = await trainLocal({ ...common, data: large, steps: 3 });
    expect(counter.count).toBe(3);
    expect(result.losses).toHaveLength(1);
    await expect(trainLocal({ ...common, data: large, steps: 3, epochs: 1 })).rejects.toThrow(/one of epochs and steps/);
    await expect(trainLocal({ ...common, data: large })).rejects.toThrow(/one of epochs and steps/);
    await expect(trainLocal({ ...common, data: large, steps: 2.5 })).rejects.toThrow(/steps must be a whole number/);
  });

  it('reads a study’s settings: steps when it counts them, else epochs', () => {
    expect(localWork({ localEpochs: 2 })).toEqual({ epochs: 2 });
    expect(localWork({ localEpochs: 2, localSteps: 50 })).toEqual({ steps: 50 });
  });
});
