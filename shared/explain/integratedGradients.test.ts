import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { encodeRecords } from '../tasks/encoding';
import { heartRisk } from '../tasks/heartRisk';
import { initialWeights } from '../tasks/modelSpec';
import type { TabularRecord } from '../tasks/spec';
import { buildModel } from '../training/model';
import { hospitalSplit } from '../training/split';
import { trainLocal } from '../training/train';
import { foldAttributions, integratedGradients, logitOf, meanPatient } from './integratedGradients';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const features = heartRisk.features;
const baseline = meanPatient(features);

/** Patients whose values differ from the typical one in most features, a few in every category. */
const patients: TabularRecord[] = [
  { id: 'p1', label: 0, values: { age: 63, sex: 1, cp: 1, trestbps: 145, chol: 347, fbs: 1, restecg: 2, thalach: 171, exang: 0, oldpeak: 2.7, slope: 3, ca: 0, thal: 6 } },
  { id: 'p2', label: 0, values: { age: 41, sex: 0, cp: 2, trestbps: 130, chol: 204, fbs: 0, restecg: 0, thalach: 172, exang: 0, oldpeak: 1.4, slope: 1, ca: 0, thal: 3 } },
  { id: 'p3', label: 0, values: { age: 77, sex: 1, cp: 4, trestbps: 200, chol: 560, fbs: 1, restecg: 1, thalach: 80, exang: 1, oldpeak: 6.2, slope: 2, ca: 3, thal: 7 } },
  { id: 'p4', label: 0, values: { age: 25, sex: 0, cp: 3, trestbps: 90, chol: 120, fbs: 0, restecg: 0, thalach: 210, exang: 0, oldpeak: -2, slope: 1, ca: 0, thal: 3 } },
];

function sigmoidOf(z: number) {
  return 1 / (1 + Math.exp(-z));
}

async function trainedModel() {
  const site = demoHospitals[0];
  const { train } = hospitalSplit(heartRisk, site.id, generateHeartRecords(site));
  const { weights } = await trainLocal({ spec: heartRisk.model, weights: initialWeights(heartRisk.model, 7), data: train, epochs: 5, batchSize: 32, learningRate: 0.01, seed: 3 });
  return buildModel(heartRisk.model, weights);
}

describe('integrated gradients from the mean patient', () => {
  it('takes the logit before the sigmoid: sigmoid(logit) is what predict() says', () => {
    const model = buildModel(heartRisk.model, initialWeights(heartRisk.model, 5));
    try {
      const x = encodeRecords(features, patients);
      const [z, p] = tf.tidy(() => {
        const input = tf.tensor2d(x.x, [x.n, x.width]);
        return [logitOf(model, input).arraySync(), (model.predict(input) as tf.Tensor).reshape([-1]).arraySync() as number[]];
      });
      z.forEach((zi, i) => expect(sigmoidOf(zi)).toBeCloseTo(p[i], 6));
    } finally {
      model.dispose();
    }
  });

  for (const [kind, make] of [
    ['a seeded model', async () => buildModel(heartRisk.model, initialWeights(heartRisk.model, 2026))],
    ['a trained model', trainedModel],
  ] as const) {
    it(`adds up to logit(x) − logit(baseline) within 1e-2 on ${kind}, and leaves no tensors`, async () => {
      const model = await make();
      try {
        const before = tf.memory().numTensors;
        const gaps: { first: number; refined: number; steps: number }[] = [];
        for (const p of patients) {
          const x = encodeRecords(features, [p]).x;
          const ig = integratedGradients(model, x, baseline, { steps: 64, tolerance: 1e-3 });
          const sum = ig.attributions.reduce((a, b) => a + b, 0);
          // The logit gap is not trivially small, so completeness is a real check.
          expect(Math.abs(ig.logit - ig.baselineLogit)).toBeGreaterThan(0.05);
          expect(Math.abs(sum - (ig.logit - ig.baselineLogit))).toBeLessThan(1e-2);
          expect(ig.gap).toBeCloseTo(sum - (ig.logit - ig.baselineLogit), 6);
          // Folding keeps the total: one number per feature, the same sum.
          const folded = foldAttributions(features, ig.attributions);
          expect(folded.map((f) => f.name)).toEqual(features.map((f) => f.name));
          expect(folded.reduce((a, f) => a + f.attribution, 0)).toBeCloseTo(sum, 5);
          // A single 64-step pass, for the record: refining only ever helps.
          const first = integratedGradients(model, x, baseline, { steps: 64 });
          expect(Math.abs(ig.gap)).toBeLessThanOrEqual(Math.abs(first.gap) + 1e-6);
          gaps.push({ first: Math.abs(first.gap), refined: Math.abs(ig.gap), steps: ig.steps });
        }
        const worst = (k: 'first' | 'refined') => Math.max(...gaps.map((g) => g[k])).toExponential(2);
        console.info(
          `integrated gradients on ${kind}: largest completeness gap ${worst('first')} with 64 steps, ${worst('refined')} refined (steps ${gaps.map((g) => g.steps).join(', ')})`,
        );
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        model.dispose();
      }
    });
  }

  it('gives a feature equal to the baseline ~0, and the baseline itself nothing at all', async () => {
    const model = buildModel(heartRisk.model, initialWeights(heartRisk.model, 2026));
    try {
      // The typical patient except for three values; the rest are missing, so imputed as the baseline.
      const x = encodeRecords(features, [{ id: 'q', label: 0, values: { age: 70, chol: 347, cp: 1 } }]).x;
      const folded = foldAttributions(features, integratedGradients(model, x, baseline).attributions);
      for (const f of folded) {
        if (['age', 'chol', 'cp'].includes(f.name)) expect(Math.abs(f.attribution), f.name).toBeGreaterThan(1e-4);
        else expect(Math.abs(f.attribution), f.name).toBeLessThan(1e-6);
      }
      const same = integratedGradients(model, baseline, baseline);
      expect(same.attributions.every((a) => a === 0)).toBe(true);
      expect(same.logit).toBe(same.baselineLogit);
    } finally {
      model.dispose();
    }
  });

  it('builds the baseline from the study\'s means and modes', () => {
    const features2 = features.map((f) => (f.kind === 'categorical' && f.name === 'cp' ? { ...f, mode: 2 } : f));
    const b = meanPatient(features2);
    // Numeric columns standardise the mean to 0; cp's one-hot marks its mode (code 2, the second column).
    expect(b[0]).toBe(0);
    expect(Array.from(b.slice(2, 6))).toEqual([0, 1, 0, 0]);
    expect(b[1]).toBe(1); // sex: the template's mode, male
  });

  it('refuses a model it cannot explain and a baseline of the wrong width', () => {
    const model = buildModel(heartRisk.model);
    try {
      expect(() => integratedGradients(model, baseline, baseline.slice(1))).toThrow(/columns/);
      expect(() => integratedGradients(model, baseline, baseline, { steps: 0 })).toThrow(/steps/);
      expect(() => foldAttributions(features, [1, 2, 3])).toThrow(/encoded columns/);
    } finally {
      model.dispose();
    }
  });
});
