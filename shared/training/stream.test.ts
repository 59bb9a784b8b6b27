import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { heartRisk } from '../tasks/heartRisk';
import { initialWeights } from '../tasks/modelSpec';
import type { Dataset } from './dataset';
import { evaluateModel } from './evaluate';
import { hospitalSplit } from './split';
import { epochWindows, memoryBlockSource, type BlockSource } from './stream';
import { trainLocal, type TrainOptions } from './train';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const spec = heartRisk.model;
const site = demoHospitals[0];
const { train, validation } = hospitalSplit(heartRisk, site.id, generateHeartRecords(site));
const base: TrainOptions = { spec, weights: initialWeights(spec, 11), data: train, epochs: 2, batchSize: 32, learningRate: 0.01, seed: 5 };
const bits = (ws: Float32Array[]) => ws.map((w) => Array.from(new Uint32Array(w.buffer, w.byteOffset, w.length)));

/** A source that records how many samples it holds at once (read but not yet released windows). */
function countingSource(ds: Dataset, blockRows: number) {
  const inner = memoryBlockSource(ds, blockRows);
  const stats = { reads: 0 };
  const source: BlockSource = { ...inner, readBlock: (b) => (stats.reads++, inner.readBlock(b)) };
  return { source, stats };
}

describe('epochWindows', () => {
  it('visits every sample exactly once per epoch, in windows no larger than asked', async () => {
    const ds: Dataset = { x: Float32Array.from({ length: 103 }, (_, i) => i), y: new Float32Array(103), n: 103, width: 1 };
    const source = memoryBlockSource(ds, 10);
    for (const epoch of [1, 2]) {
      const seen: number[] = [];
      const sizes: number[] = [];
      for await (const w of epochWindows(source, epoch, { windowSamples: 25, seed: 3 })) {
        sizes.push(w.n);
        seen.push(...w.x);
      }
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(25);
    }
  });

  it('shuffles differently per epoch and the same for a seed', async () => {
    const ds: Dataset = { x: Float32Array.from({ length: 60 }, (_, i) => i), y: new Float32Array(60), n: 60, width: 1 };
    const order = async (epoch: number, seed: number) => {
      const out: number[] = [];
      for await (const w of epochWindows(memoryBlockSource(ds, 7), epoch, { windowSamples: 20, seed })) out.push(...w.x);
      return out;
    };
    expect(await order(1, 3)).toEqual(await order(1, 3));
    expect(await order(1, 3)).not.toEqual(await order(2, 3));
  });
});

describe('trainLocal on streamed blocks', () => {
  it('trains bit for bit as in memory when one window holds the whole dataset', async () => {
    const inMemory = await trainLocal(base);
    const streamed = await trainLocal({ ...base, data: memoryBlockSource(train, 37), windowSamples: train.n });
    expect(bits(streamed.weights)).toEqual(bits(inMemory.weights));
    expect(streamed.losses).toEqual(inMemory.losses);
  });

  it('learns from windows much smaller than the dataset, reading each block once per epoch, leaving no tensors', async () => {
    const { source, stats } = countingSource(train, 16);
    const before = tf.memory().numTensors;
    const result = await trainLocal({ ...base, epochs: 4, data: source, windowSamples: 48 });
    expect(tf.memory().numTensors).toBe(before);
    expect(stats.reads).toBe(4 * source.blockSizes.length);
    expect(result.numSamples).toBe(train.n);
    expect(result.losses[3]).toBeLessThan(result.losses[0] * 0.9);
    const start = await evaluateModel(spec, base.weights, validation);
    const after = await evaluateModel(spec, result.weights, memoryBlockSource(validation, 20));
    expect(after.loss).toBeLessThan(start.loss);
    expect(after).toEqual(await evaluateModel(spec, result.weights, validation));
  });

  it('refuses a block that does not hold what the source said', async () => {
    const source = memoryBlockSource(train, 50);
    const lying: BlockSource = { ...source, blockSizes: [...source.blockSizes.slice(0, -1), source.blockSizes.at(-1)! + 1], n: source.n + 1 };
    await expect(trainLocal({ ...base, data: lying, windowSamples: 60 })).rejects.toThrow(/holds/);
  });
});
