import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { majorityClassRate } from '../metrics/multiclass';
import { generateHcvRecords, hcvHospitals } from '../synthetic/hcv';
import { hcvStage } from '../tasks/hcvStage';
import { initialWeights } from '../tasks/modelSpec';
import { centralBaseline, demoSplits } from './central';
import { concat } from './dataset';
import { evaluateModel } from './evaluate';
import { simulateFederated } from './federatedSim';
import { hospitalSplit } from './split';
import { trainLocal } from './train';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const spec = hcvStage.model;

describe('hcv-stage training', () => {
  it('splits each demo site as its browser does', () => {
    const sites = demoSplits(hcvStage);
    expect(sites.map((s) => s.profile.id)).toEqual(hcvHospitals.map((h) => h.id));
    sites.forEach((s, i) => expect(s).toMatchObject(hospitalSplit(hcvStage, hcvHospitals[i].id, generateHcvRecords(hcvHospitals[i]))));
  });

  it('lowers the loss on class indices and scores by arg-max', async () => {
    const sites = demoSplits(hcvStage);
    const train = concat(sites.map((s) => s.train));
    const validation = concat(sites.map((s) => s.validation));
    const weights = initialWeights(spec, 1);
    const before = await evaluateModel(spec, weights, validation);
    const result = await trainLocal({ spec, weights, data: train, epochs: 3, batchSize: 32, learningRate: 0.01, seed: 1 });
    const after = await evaluateModel(spec, result.weights, validation);
    expect(result.losses[2]).toBeLessThan(result.losses[0] * 0.7);
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.accuracy).toBeGreaterThan(majorityClassRate(validation.y));
    // Arg-max accuracy is the confusion matrix's diagonal.
    const m = after.confusionMatrix!;
    expect(m.flat().reduce((a, b) => a + b, 0)).toBe(validation.n);
    expect(m.reduce((a, row, k) => a + row[k], 0) / validation.n).toBeCloseTo(after.accuracy, 12);
    m.forEach((row, k) => expect(row.reduce((a, b) => a + b, 0)).toBe(Array.from(validation.y).filter((y) => y === k).length));
  });

  it('the central model clears the majority class by 10 points on every stage, and federation comes close', async () => {
    const central = await centralBaseline({ template: hcvStage });
    const federated = await simulateFederated({ template: hcvStage });
    expect(central.trainSamples + central.validationSamples).toBe(hcvHospitals.reduce((s, h) => s + h.size, 0));
    expect(central.majorityRate).toBeGreaterThan(0.7);
    expect(central.accuracy).toBeGreaterThanOrEqual(central.majorityRate + 0.1);
    expect(central.macroF1).toBeGreaterThan(0.65);
    expect(central.perClassRecall).toHaveLength(4);
    // Every stage is found, not only the donors.
    central.perClassRecall!.forEach((r) => expect(r).toBeGreaterThan(0.3));
    expect(federated.majorityRate).toBe(central.majorityRate);
    expect(federated.accuracy).toBeGreaterThanOrEqual(federated.majorityRate + 0.08);
    expect(Math.abs(federated.accuracy - central.accuracy)).toBeLessThanOrEqual(0.05);
  });
});
