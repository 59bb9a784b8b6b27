import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lesionImagesV2 } from '../tasks/lesionImages';
import { initialWeights, parameterCount, weightShapes } from '../tasks/modelSpec';
import { modelSpecSchema, type ModelSpec } from '../tasks/spec';
import { toLayersModelFiles } from './export';
import { buildModel, getModelWeights } from './model';
import { lossFor } from './train';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const spec = lesionImagesV2.model;

/** Every block kind: same width (identity shortcut), wider (projection), strided (projection). */
const small: ModelSpec = modelSpecSchema.parse({
  inputShape: [8, 8, 2],
  layers: [
    { type: 'residualBlock', filters: 2, groups: 1 },
    { type: 'residualBlock', filters: 4, groups: 2 },
    { type: 'residualBlock', filters: 4, strides: 2, groups: 4 },
    { type: 'globalAveragePooling2d' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'categoricalCrossentropy',
  optimizer: 'sgd',
});

/** `count` seeded scans in [0, 1] and alternating labels. */
function batch(count: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  let s = 7;
  const pixels = Float32Array.from({ length: count * 32 * 32 }, () => ((s = (s * 16807) % 2147483647) / 2147483647));
  return { xs: tf.tensor4d(pixels, [count, 32, 32, 1]), ys: tf.tensor2d(Array.from({ length: count }, (_, i) => i % 2), [count, 1]) };
}

describe('residual network (lesion-images@2)', () => {
  it('has 700,001 parameters, counted the same by the spec and by TensorFlow.js', () => {
    const model = buildModel(spec);
    expect(parameterCount(spec)).toBe(700_001);
    expect(model.countParams()).toBe(parameterCount(spec));
    model.dispose();
  });

  it.each([
    ['lesion-images@2', spec],
    ['a small net with every kind of shortcut', small],
  ])('lists weightShapes in the order and shapes of getWeights, all trainable (%s)', (_, s) => {
    const model = buildModel(s, initialWeights(s, 3));
    expect(model.nonTrainableWeights).toHaveLength(0);
    expect(model.getWeights().map((w) => w.shape)).toEqual(weightShapes(s).map((w) => w.shape));
    // The same part in the same place: tfjs names the variables `<layer>/<part>`.
    const part = (name: string) => name.split('/').slice(1).join('/').replace(/_\d+$/, '');
    expect(model.weights.map((w) => part(w.originalName))).toEqual(weightShapes(s).map((w) => part(w.name)));
    model.dispose();
  });

  it('starts each norm as a plain standardisation and each block from its input (zero kernels: relu(x + beta2))', async () => {
    const one: ModelSpec = modelSpecSchema.parse({
      inputShape: [4, 4, 2],
      layers: [{ type: 'residualBlock', filters: 2, groups: 1 }, { type: 'flatten' }, { type: 'dense', units: 1, activation: 'sigmoid' }],
      loss: 'binaryCrossentropy',
      optimizer: 'sgd',
    });
    const w = initialWeights(one, 1);
    expect(Array.from(w[1])).toEqual([1, 1]); // norm1 gamma
    const names = weightShapes(one).map((x) => x.name);
    w.forEach((t, i) => names[i].endsWith('/kernel') && names[i].startsWith('residual_') && t.fill(0));
    w[names.indexOf('residual_0/norm2/beta')].set([0.5, -2]);
    const model = buildModel(one, w);
    const x = tf.tensor4d(Array.from({ length: 32 }, (_, i) => (i % 5) - 1), [1, 4, 4, 2]);
    const block = model.layers[0].apply(x) as tf.Tensor;
    const expected = tf.relu(tf.add(x, tf.tensor1d([0.5, -2])));
    expect(Array.from(await block.data())).toEqual(Array.from(await expected.data()));
    tf.dispose([x, block, expected]);
    model.dispose();
  });

  it('takes one training step on the CPU backend: a finite loss, every weight tensor moved', async () => {
    const before = initialWeights(spec, 2028);
    const model = buildModel(spec, before);
    const { xs, ys } = batch(4);
    const optimizer = tf.train.adam(0.003);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = optimizer.minimize(() => lossFor(spec, ys, model.apply(xs, { training: true }) as tf.Tensor), true, vars)!;
    const value = (await loss.data())[0];
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThan(0);
    const after = await getModelWeights(model);
    const moved = after.map((w, i) => w.some((v, j) => v !== before[i][j]));
    expect(moved.every(Boolean)).toBe(true);
    expect(after.every((w) => w.every(Number.isFinite))).toBe(true);
    tf.dispose([xs, ys, loss]);
    optimizer.dispose();
    model.dispose();
  });

  it('exports as a layers model that loads back with the same predictions', async () => {
    const weights = initialWeights(small, 9);
    const files = await toLayersModelFiles(small, weights);
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: files.modelJson.modelTopology, weightSpecs: files.modelJson.weightsManifest[0].weights, weightData: files.weightsBin.buffer }),
    );
    const model = buildModel(small, weights);
    const x = tf.randomUniform([2, 8, 8, 2], 0, 1, 'float32', 4);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });
});
