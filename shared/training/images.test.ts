import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { majorityRate } from '../metrics/binary';
import { generateLesionImages, lesionHospitals, lesionSplit } from '../synthetic/lesions';
import { lesionImages } from '../tasks/lesionImages';
import { initialWeights } from '../tasks/modelSpec';
import { modelSpecSchema } from '../tasks/spec';
import { concat, subset, type Dataset } from './dataset';
import { evaluateModel } from './evaluate';
import { trainLocal, type TrainOptions } from './train';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const spec = lesionImages.model;
// One site keeps the template's CNN quick on two CPU cores.
const { train, validation } = lesionSplit(lesionHospitals[0].id, generateLesionImages(lesionHospitals[0]), lesionImages.defaults);
const base: TrainOptions = {
  spec,
  weights: initialWeights(spec, lesionImages.defaults.seed),
  data: train,
  epochs: 1,
  batchSize: lesionImages.defaults.batchSize,
  learningRate: lesionImages.defaults.learningRate,
  seed: 3,
};
const bits = (ws: Float32Array[]) => ws.map((w) => Array.from(new Uint32Array(w.buffer, w.byteOffset, w.length)));

describe('the CNN on synthetic scans', () => {
  it("the template's CNN lowers the loss, on the training scans and on held-out scans", async () => {
    const before = await evaluateModel(spec, base.weights, validation);
    const result = await trainLocal({ ...base, epochs: 2 });
    const after = await evaluateModel(spec, result.weights, validation);
    expect(result.losses).toHaveLength(2);
    expect(result.losses[1]).toBeLessThan(result.losses[0]);
    expect(after.loss).toBeLessThan(before.loss);
    expect(result.numSamples).toBe(train.n);
  });

  it('a small CNN learns to find lesions in a few CPU epochs', async () => {
    // 16 × 16 scans and four filters: the same convolution, pooling and reshaping path at an eighth
    // of the cost, so it can train long enough to learn the blob, not only the base rate.
    const small = modelSpecSchema.parse({
      inputShape: [16, 16, 1],
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 4 },
        { type: 'flatten' },
        { type: 'dense', units: 1, activation: 'sigmoid' },
      ],
      loss: 'binaryCrossentropy',
      optimizer: 'adam',
    });
    const sites = [lesionHospitals[0], lesionHospitals[3]].map((h) =>
      lesionSplit(h.id, generateLesionImages(h, 16), { validationFraction: 0.25, seed: 1 }),
    );
    const data = concat(sites.map((s) => s.train));
    const held = concat(sites.map((s) => s.validation));
    const result = await trainLocal({ ...base, spec: small, weights: initialWeights(small, 1), data, epochs: 5, learningRate: 0.01 });
    result.losses.slice(1).forEach((loss, e) => expect(loss).toBeLessThan(result.losses[e]));
    const after = await evaluateModel(small, result.weights, held);
    expect(after.accuracy).toBeGreaterThanOrEqual(majorityRate(held.y) + 0.15);
  });

  it('trains bit for bit the same for a seed, and leaves no tensors behind', async () => {
    const small = { ...base, data: subset(train, Array.from({ length: 40 }, (_, i) => i)) };
    const tensors = tf.memory().numTensors;
    const a = await trainLocal(small);
    const b = await trainLocal(small);
    expect(bits(a.weights)).toEqual(bits(b.weights));
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('takes flat rows of the right size as images, and refuses another shape', async () => {
    const shaped = subset(validation, [0, 1, 2, 3, 4, 5]);
    const flat: Dataset = { x: shaped.x, y: shaped.y, n: shaped.n, width: shaped.width };
    expect(await evaluateModel(spec, base.weights, flat)).toEqual(await evaluateModel(spec, base.weights, shaped));
    const wrong: Dataset = { ...shaped, shape: [16, 64, 1] };
    await expect(evaluateModel(spec, base.weights, wrong)).rejects.toThrow(/samples are \[16,64,1\], the model takes \[32,32,1\]/);
    const short: Dataset = { x: new Float32Array(2 * 100), y: new Float32Array(2), n: 2, width: 100 };
    await expect(trainLocal({ ...base, data: short })).rejects.toThrow(/100 values, the model takes \[32,32,1\]/);
  });
});
