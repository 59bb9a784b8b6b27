import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, getModelWeights } from '../training/model';
import { hcvStage } from './hcvStage';
import { heartRisk } from './heartRisk';
import { templates } from './index';
import { lesionImages, lesionImagesV2 } from './lesionImages';
import { initialWeights, layerOutputShapes, layerParameterCounts, modelInputShape, outputUnits, parameterCount, weightShapes } from './modelSpec';
import { modelSpecSchema, taskTemplateSchema, type ModelSpec } from './spec';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const cnn = (layers: ModelSpec['layers'], inputShape = [32, 32, 1]): ModelSpec =>
  modelSpecSchema.parse({ inputShape, layers, loss: 'binaryCrossentropy', optimizer: 'adam' });

const head = [
  { type: 'flatten' },
  { type: 'dense', units: 1, activation: 'sigmoid' },
] as const satisfies ModelSpec['layers'];

/** Specs covering padding, strides, rectangular windows, several channels and dense-only models. */
const specs: Record<string, ModelSpec> = {
  'heart-risk (dense)': heartRisk.model,
  'hcv-stage (softmax)': hcvStage.model,
  'lesion-images (CNN)': lesionImages.model,
  'valid padding, stride 2': cnn([
    { type: 'conv2d', filters: 4, kernelSize: 5, strides: 2, padding: 'valid', activation: 'relu' },
    { type: 'conv2d', filters: 6, kernelSize: [3, 2], padding: 'valid', activation: 'tanh' },
    ...head,
  ]),
  'odd sizes, same padding, overlapping pools': cnn(
    [
      { type: 'conv2d', filters: 3, kernelSize: [2, 3], strides: [2, 1], padding: 'same', activation: 'linear' },
      { type: 'maxPooling2d', poolSize: 3, strides: 2 },
      { type: 'maxPooling2d', poolSize: [2, 1], padding: 'same' },
      { type: 'conv2d', filters: 5, kernelSize: 1, padding: 'same', activation: 'sigmoid' },
      { type: 'flatten' },
      { type: 'dense', units: 7, activation: 'relu' },
      { type: 'dense', units: 1, activation: 'sigmoid' },
    ],
    [15, 11, 3],
  ),
  'lesion-images@2 (residual)': lesionImagesV2.model,
  'residual blocks on odd sizes: identity, wider, strided': cnn(
    [
      { type: 'residualBlock', filters: 3, groups: 3 },
      { type: 'residualBlock', filters: 4, strides: 2, groups: 2 },
      { type: 'residualBlock', filters: 6, groups: 1 },
      { type: 'residualBlock', filters: 6, strides: 2, groups: 6 },
      { type: 'globalAveragePooling2d' },
      { type: 'dense', units: 1, activation: 'sigmoid' },
    ],
    [7, 5, 3],
  ),
  'dense via inputShape': modelSpecSchema.parse({
    inputShape: [6],
    layers: [{ type: 'dense', units: 3, activation: 'softmax' }],
    loss: 'categoricalCrossentropy',
    optimizer: 'sgd',
  }),
};

describe('weightShapes', () => {
  for (const [name, spec] of Object.entries(specs)) {
    it(`lists the tensors of the TF.js model, in order: ${name}`, async () => {
      const model = buildModel(spec);
      try {
        expect(model.getWeights().map((w) => w.shape)).toEqual(weightShapes(spec).map((w) => w.shape));
        expect(model.countParams()).toBe(parameterCount(spec));
        expect(model.outputs[0].shape).toEqual([null, outputUnits(spec)]);
        // Every layer's output shape, as TF.js infers it.
        expect(model.layers.map((l) => (l.outputShape as number[]).slice(1))).toEqual(layerOutputShapes(spec));
        // And the weights load where weightShapes says they go.
        const weights = initialWeights(spec, 9);
        model.setWeights(weights.map((w, i) => tf.tensor(w, weightShapes(spec)[i].shape)));
        expect(await getModelWeights(model)).toEqual(weights);
      } finally {
        model.dispose();
      }
    });
  }

  it('computes the flatten size through padding and strides', () => {
    // 32 → same conv 32 → pool 16 → same conv 16 → pool 8: 8 × 8 × 16 = 1024 into the dense layer.
    expect(weightShapes(lesionImages.model).map((w) => w.shape)).toEqual([
      [3, 3, 1, 8],
      [8],
      [3, 3, 8, 16],
      [16],
      [1024, 32],
      [32],
      [32, 1],
      [1],
    ]);
    // 32 → valid 5×5 stride 2: ceil(28 / 2) = 14 → valid 3×2: 12 × 13 × 6 = 936.
    expect(weightShapes(specs['valid padding, stride 2'])[4].shape).toEqual([936, 1]);
    expect(weightShapes(heartRisk.model).map((w) => w.name)).toEqual(['dense_0/kernel', 'dense_0/bias', 'dense_1/kernel', 'dense_1/bias']);
  });
});

describe('initialWeights', () => {
  it('is seeded Glorot-uniform for dense and convolution kernels, zero biases', () => {
    const a = initialWeights(lesionImages.model, 4);
    expect(initialWeights(lesionImages.model, 4)).toEqual(a);
    expect(initialWeights(lesionImages.model, 5)).not.toEqual(a);
    const limits = [
      Math.sqrt(6 / (9 * 1 + 9 * 8)), // conv: fan-in kh·kw·inC, fan-out kh·kw·filters
      0,
      Math.sqrt(6 / (9 * 8 + 9 * 16)),
      0,
      Math.sqrt(6 / (1024 + 32)),
      0,
      Math.sqrt(6 / (32 + 1)),
      0,
    ];
    a.forEach((w, i) => {
      const max = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      if (limits[i] === 0) expect(max).toBe(0);
      else {
        expect(max).toBeLessThanOrEqual(limits[i]);
        // Spread over the range, not squeezed near zero.
        expect(max).toBeGreaterThan(0.8 * limits[i]);
      }
    });
  });

  it('starts residual blocks with Glorot kernels, norm gammas of 1 and betas of 0', () => {
    const spec = specs['residual blocks on odd sizes: identity, wider, strided'];
    const ws = initialWeights(spec, 4);
    weightShapes(spec).forEach(({ name }, i) => {
      const values = new Set(ws[i]);
      if (name.endsWith('/gamma')) expect([...values]).toEqual([1]);
      else if (name.endsWith('/beta') || name.endsWith('/bias')) expect([...values]).toEqual([0]);
      else expect(values.size).toBe(ws[i].length);
    });
    // The shortcut projects only where the block strides or changes the width: not in the first block.
    expect(weightShapes(spec).filter((w) => w.name.endsWith('shortcut/kernel')).map((w) => w.name)).toEqual([
      'residual_1/shortcut/kernel',
      'residual_2/shortcut/kernel',
      'residual_3/shortcut/kernel',
    ]);
  });

  it('keeps dense-only models exactly as before convolution existed', () => {
    // The original dense-only recipe: one stream, kernels in order, limit sqrt(6 / (in + out)).
    const spec = heartRisk.model;
    const ours = initialWeights(spec, 2026);
    let state = 2026 >>> 0;
    const rand = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const dims = [spec.inputDim!, 16, 1];
    const expected: Float32Array[] = [];
    for (let l = 0; l < 2; l++) {
      const k = new Float32Array(dims[l] * dims[l + 1]);
      const limit = Math.sqrt(6 / (dims[l] + dims[l + 1]));
      for (let i = 0; i < k.length; i++) k[i] = (rand() * 2 - 1) * limit;
      expected.push(k, new Float32Array(dims[l + 1]));
    }
    expect(ours).toEqual(expected);
  });
});

describe('modelSpecSchema', () => {
  it('still takes dense-only specs with inputDim', () => {
    const spec = modelSpecSchema.parse({
      inputDim: 20,
      layers: [
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'dense', units: 1, activation: 'sigmoid' },
      ],
      loss: 'binaryCrossentropy',
      optimizer: 'adam',
    });
    expect(modelInputShape(spec)).toEqual([20]);
    expect(spec.inputShape).toBeUndefined();
  });

  const problem = (spec: unknown) => {
    const r = modelSpecSchema.safeParse(spec);
    return r.success ? null : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  };
  const base = { loss: 'binaryCrossentropy', optimizer: 'adam' };
  const out = { type: 'dense', units: 1, activation: 'sigmoid' };

  it('refuses layers that do not fit together, saying where', () => {
    expect(problem({ ...base, layers: [out] })).toMatch(/inputDim or inputShape/);
    expect(problem({ ...base, inputShape: [8, 8, 1], layers: [out] })).toMatch(/^layers\.0: .*flatten/);
    expect(problem({ ...base, inputDim: 64, layers: [{ type: 'maxPooling2d', poolSize: 2 }, { type: 'flatten' }, out] })).toMatch(
      /^layers\.0: .*\[height, width, channels\]/,
    );
    expect(
      problem({ ...base, inputShape: [4, 4, 1], layers: [{ type: 'conv2d', filters: 2, kernelSize: 5, padding: 'valid', activation: 'relu' }, { type: 'flatten' }, out] }),
    ).toMatch(/^layers\.0: .*leaves nothing/);
    expect(problem({ ...base, inputDim: 10, inputShape: [3, 3, 1], layers: [{ type: 'flatten' }, out] })).toMatch(/^inputShape/);
    expect(problem({ ...base, inputShape: [4, 4, 1], layers: [{ type: 'flatten' }] })).toMatch(/last layer must be dense/);
    expect(problem({ ...base, inputDim: 3, layers: [{ type: 'dense', units: 2, activation: 'softmax' }] })).toMatch(/one sigmoid/);
    expect(problem({ ...base, loss: 'categoricalCrossentropy', inputDim: 3, layers: [out] })).toMatch(/softmax/);
    expect(problem({ ...base, inputShape: [4, 4, 1], layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, activation: 'relu' }, { type: 'flatten' }, out] })).toMatch(
      /padding/,
    );
    expect(problem(specs['odd sizes, same padding, overlapping pools'])).toBeNull();
    expect(problem({ ...base, inputShape: [4, 4, 1], layers: [{ type: 'residualBlock', filters: 6 }, { type: 'globalAveragePooling2d' }, out] })).toMatch(
      /^layers\.0: .*8 norm groups do not divide 6 filters/,
    );
    expect(problem({ ...base, inputDim: 16, layers: [{ type: 'residualBlock', filters: 8 }, { type: 'flatten' }, out] })).toMatch(/^layers\.0: .*\[height, width, channels\]/);
    expect(problem({ ...base, inputDim: 16, layers: [{ type: 'globalAveragePooling2d' }, out] })).toMatch(/^layers\.0: .*\[height, width, channels\]/);
  });
});

describe('templates', () => {
  it('registers the three templates and their second versions, each valid', () => {
    expect(Object.keys(templates)).toEqual(['heart-risk', 'heart-risk@2', 'hcv-stage', 'hcv-stage@2', 'lesion-images', 'lesion-images@2']);
    for (const t of Object.values(templates)) expect(taskTemplateSchema.parse(t)).toEqual(t);
  });

  it('describes image and multi-class templates consistently', () => {
    expect(lesionImages.image).toEqual({ width: 32, height: 32, channels: 1 });
    expect(lesionImages.features).toEqual([]);
    expect(hcvStage.label.classes).toEqual(['blood donor', 'hepatitis', 'fibrosis', 'cirrhosis']);
    const issues = (t: unknown) => {
      const r = taskTemplateSchema.safeParse(t);
      return r.success ? [] : r.error.issues.map((i) => i.message);
    };
    expect(issues({ ...lesionImages, image: { width: 28, height: 28, channels: 1 } }).join()).toMatch(/\[32,32,1\]/);
    expect(issues({ ...lesionImages, image: undefined }).join()).toMatch(/at least one feature/);
    expect(issues({ ...hcvStage, label: { ...hcvStage.label, classes: undefined } }).join()).toMatch(/4 classes/);
  });
});

describe('layerParameterCounts', () => {
  for (const [name, spec] of Object.entries(specs)) {
    it(`counts each layer's trainable values as TF.js does: ${name}`, () => {
      const model = buildModel(spec);
      try {
        expect(layerParameterCounts(spec)).toEqual(model.layers.map((l) => l.countParams()));
        expect(layerParameterCounts(spec).reduce((a, b) => a + b, 0)).toBe(parameterCount(spec));
      } finally {
        model.dispose();
      }
    });
  }
});
