import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { foldAttributions, integratedGradients, meanPatient } from '../../../shared/explain/integratedGradients';
import { demoHospitals, generateHeartRecords } from '../../../shared/synthetic/heart';
import { heartRisk } from '../../../shared/tasks';
import { encodeRecords, encodedWidth, featureWidth } from '../../../shared/tasks/encoding';
import { initialWeights } from '../../../shared/tasks/modelSpec';
import { buildModel } from '../../../shared/training/model';
import { hospitalSplit } from '../../../shared/training/split';
import { trainLocal } from '../../../shared/training/train';
import { typicalValue } from './describe';
import { explainFactors, type Factor } from './factors';
import { expectedDirection } from './plainWords';

const features = heartRisk.features;
const answers = { age: 63, sex: 1, cp: 1, trestbps: 145, chol: null, fbs: 1, restecg: 0, thalach: 171, exang: 0, oldpeak: 2.7, slope: 2, ca: 0, thal: 3 };
const attributions = features.map((f) => ({
  name: f.name,
  attribution: ({ oldpeak: 1.4, age: 0.35, cp: 0.1, thalach: -0.8, ca: -0.5, slope: -0.01, chol: 0, fbs: 0.05 } as Record<string, number>)[f.name] ?? 0,
}));

/** The one word of a factor's text that says which way it moved the estimate. */
function statedDirection(f: Factor): 'up' | 'down' {
  const raised = /\braised your estimate\b/.test(f.text);
  const lowered = /\blowered your estimate\b/.test(f.text);
  expect(raised !== lowered, f.text).toBe(true);
  return raised ? 'up' : 'down';
}

describe('the factors behind an estimate', () => {
  it('lists the answers that moved it up and down the most, as plain sentences with the typical value', () => {
    const s = explainFactors(features, answers, attributions);
    expect(s.up.map((f) => f.feature)).toEqual(['oldpeak', 'age', 'cp']);
    expect(s.down.map((f) => f.feature)).toEqual(['thalach', 'ca']);
    expect(s.up[0]).toMatchObject({ value: '2.7 mm', typical: '1.0 mm', strength: 'strongly', direction: 'up' });
    expect(s.up[1]).toMatchObject({ value: '63 years', typical: '54 years', strength: 'moderately' });
    expect(s.up[2]).toMatchObject({ value: 'typical angina', typical: 'asymptomatic', strength: 'slightly' });
    expect(s.up[1].text).toBe('You are 63 years old; the study’s average is 54 years. This raised your estimate somewhat.');
    expect(s.down[0].text).toBe(
      'The highest heart rate you reached in the exercise test was 171 beats/min; the study’s average is 150 beats/min. This lowered your estimate somewhat.',
    );
    expect(s.up[2].text).toBe(
      'You described chest pain that comes on with exertion and eases with rest (typical angina); the most common answer in the study was no chest pain. This raised your estimate a little.',
    );
    expect(s.up[2].typicalKind).toBe('most common');
    // A "don't know" is imputed: it moved nothing, and is said so rather than listed as a factor.
    expect(s.unknown).toEqual(['cholesterol']);
  });

  it('says so, in the model’s name, when the model moves an answer the other way from what doctors expect', () => {
    // 0 major arteries on fluoroscopy, against the study's average: clinically that should lower it.
    const s = explainFactors(features, answers, attributions);
    const ca = s.down.find((f) => f.feature === 'ca')!;
    expect(ca.agreesWithClinicalExpectation).toBe(true);
    expect(ca.text).toBe('0 major heart arteries showed up on the dye X-ray of your heart (fluoroscopy); the study’s average is 0.7 arteries. This lowered your estimate somewhat.');
    // Typical angina against "no chest pain" lowering it: the model's, not a medical fact.
    const cp = explainFactors(features, answers, [{ name: 'cp', attribution: -2.7 }]).down[0];
    expect(cp.text).toMatch(/^You described chest pain that comes on with exertion .*In this model, this lowered your estimate a lot, although doctors usually see it as a sign of higher risk\./);
    const flipped = explainFactors(features, { ...answers, restecg: 1 }, [{ name: 'restecg', attribution: -1.2 }]);
    expect(flipped.down[0].agreesWithClinicalExpectation).toBe(false);
    expect(flipped.down[0].text).toBe(
      'Your ECG at rest showed changes in the ST segment or T wave (ST-T wave abnormality); the most common answer in the study was a normal result. In this model, this lowered your estimate a lot, although doctors usually see it as a sign of higher risk. That is how this model weighs it alongside your other answers; do not take it as a sign that it protects you.',
    );
  });

  it('names the thallium stress test for what it is, never "thalassemia"', () => {
    const s = explainFactors(features, { ...answers, thal: 7 }, [{ name: 'thal', attribution: 0.9 }]);
    expect(s.up[0].label).toBe('Thallium stress test');
    expect(s.up[0].text).toMatch(/^Your thallium stress test \(heart scan\) showed a reversible defect/);
    expect(s.up[0].text).not.toMatch(/thalass/i);
    expect(explainFactors(features, { ...answers, thal: null }, [{ name: 'thal', attribution: 0 }]).unknown).toEqual(['thallium stress test']);
  });

  it('keeps to the limit and leaves out what barely moved it', () => {
    const s = explainFactors(features, answers, attributions, 1);
    expect(s.up.map((f) => f.feature)).toEqual(['oldpeak']);
    expect(s.down.map((f) => f.feature)).toEqual(['thalach']);
    expect(explainFactors(features, answers, attributions, 10).down.some((f) => f.feature === 'slope')).toBe(false);
  });

  it('knows which way a clinician expects each answer to move it', () => {
    const f = (name: string) => features.find((x) => x.name === name)!;
    expect(expectedDirection(f('age'), 70, 54.4)).toBe(1);
    expect(expectedDirection(f('thalach'), 120, 149.6)).toBe(1);
    expect(expectedDirection(f('thalach'), 180, 149.6)).toBe(-1);
    expect(expectedDirection(f('thal'), 7, 3)).toBe(1);
    expect(expectedDirection(f('restecg'), 1, 0)).toBe(1);
    expect(expectedDirection(f('restecg'), 1, 2)).toBe(0);
    expect(expectedDirection(f('cp'), 1, 4)).toBe(1);
    expect(expectedDirection(f('cp'), 3, 4)).toBe(0);
  });
});

describe('the factors agree with the model’s own attributions', () => {
  beforeAll(async () => {
    tf.enableProdMode();
    await tf.setBackend('cpu');
  });

  const patients: Record<string, number | null>[] = [
    { age: 63, sex: 1, cp: 1, trestbps: 145, chol: 347, fbs: 1, restecg: 2, thalach: 171, exang: 0, oldpeak: 2.7, slope: 3, ca: 0, thal: 6 },
    { age: 41, sex: 0, cp: 2, trestbps: 130, chol: 204, fbs: 0, restecg: 1, thalach: 172, exang: 0, oldpeak: 1.4, slope: 1, ca: 0, thal: 3 },
    { age: 77, sex: 1, cp: 4, trestbps: 200, chol: null, fbs: 1, restecg: 1, thalach: 80, exang: 1, oldpeak: 6.2, slope: 2, ca: 3, thal: 7 },
    { age: 25, sex: 0, cp: 3, trestbps: 90, chol: 120, fbs: 0, restecg: 0, thalach: 210, exang: 0, oldpeak: -2, slope: 1, ca: 0, thal: 3 },
  ];

  /** As the patient's page computes it (worker.ts): integrated gradients from the mean patient, folded per feature. */
  function explain(model: tf.LayersModel, values: Record<string, number | null>) {
    const x = encodeRecords(features, [{ id: 'me', values, label: 0 }]).x;
    const ig = integratedGradients(model, x, meanPatient(features), { steps: 64, tolerance: 1e-3 });
    const folded = foldAttributions(features, ig.attributions);
    return { folded, summary: explainFactors(features, values, folded, features.length) };
  }

  function expectSentencesMatchSigns(model: tf.LayersModel) {
    let listed = 0;
    for (const values of patients) {
      const { folded, summary } = explain(model, values);
      const sign = new Map(folded.map((a) => [a.name, a.attribution]));
      for (const f of [...summary.up, ...summary.down]) {
        const a = sign.get(f.feature)!;
        expect(f.attribution).toBe(a);
        expect(statedDirection(f), `${f.feature}: attribution ${a}`).toBe(a > 0 ? 'up' : 'down');
        expect(f.direction).toBe(a > 0 ? 'up' : 'down');
        // The "doctors usually…" caveat appears exactly when the model's sign is against the expectation.
        const feature = features.find((x) => x.name === f.feature)!;
        const expected = expectedDirection(feature, values[f.feature]!, typicalValue(feature));
        const disagrees = expected !== 0 && expected !== Math.sign(a);
        expect(f.agreesWithClinicalExpectation, f.feature).toBe(expected === 0 ? null : !disagrees);
        expect(/doctors usually/.test(f.text), f.text).toBe(disagrees);
        expect(f.text).not.toMatch(/thalass|pushed/i);
        listed++;
      }
    }
    expect(listed).toBeGreaterThan(10);
  }

  it('on a model with known weights: each sentence says what the weight does', () => {
    // A logistic regression: its logit is linear, so each attribution is exactly w · (x − baseline).
    const width = encodedWidth(features);
    const kernel = new Float32Array(width);
    const offset = (name: string) => {
      let col = 0;
      for (const f of features) {
        if (f.name === name) return col;
        col += featureWidth(f);
      }
      throw new Error(name);
    };
    kernel[offset('age')] = 0.5; // older: up, as expected
    kernel[offset('thalach')] = -0.6; // a higher peak heart rate: down, as expected
    kernel[offset('restecg') + 1] = -1.5; // ST-T changes: down, against the expectation
    kernel[offset('thal') + 2] = 1.2; // a reversible defect: up, as expected
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, activation: 'sigmoid', inputShape: [width] })] });
    model.setWeights([tf.tensor2d(kernel, [width, 1]), tf.tensor1d([0])]);
    try {
      const values = { age: 70, sex: 1, cp: 4, trestbps: 130, chol: 240, fbs: 0, restecg: 1, thalach: 175, exang: 0, oldpeak: 1, slope: 2, ca: 1, thal: 7 };
      const { summary } = explain(model, values);
      const by = new Map([...summary.up, ...summary.down].map((f) => [f.feature, f]));
      expect(statedDirection(by.get('age')!)).toBe('up');
      expect(statedDirection(by.get('thal')!)).toBe('up');
      expect(statedDirection(by.get('thalach')!)).toBe('down');
      expect(statedDirection(by.get('restecg')!)).toBe('down');
      expect(by.get('restecg')!.attribution).toBeCloseTo(-1.5, 3);
      expect(by.get('restecg')!.text).toMatch(/^Your ECG at rest showed changes in the ST segment or T wave .*In this model, this lowered your estimate a lot, although doctors usually see it as a sign of higher risk/);
      expect(by.get('thalach')!.text).not.toMatch(/doctors usually/);
      expectSentencesMatchSigns(model);
    } finally {
      model.dispose();
    }
  });

  it('on a seeded model and on a trained one: every sentence’s direction is its attribution’s sign', async () => {
    const seeded = buildModel(heartRisk.model, initialWeights(heartRisk.model, 2026));
    const site = demoHospitals[0];
    const { train } = hospitalSplit(heartRisk, site.id, generateHeartRecords(site));
    const { weights } = await trainLocal({ spec: heartRisk.model, weights: initialWeights(heartRisk.model, 7), data: train, epochs: 5, batchSize: 32, learningRate: 0.01, seed: 3 });
    const trained = buildModel(heartRisk.model, weights);
    try {
      expectSentencesMatchSigns(seeded);
      expectSentencesMatchSigns(trained);
    } finally {
      seeded.dispose();
      trained.dispose();
    }
  });
});
