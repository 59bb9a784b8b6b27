import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { heartRisk } from '../tasks/heartRisk';
import { centralBaseline, demoSplits } from './central';
import { simulateFederated } from './federatedSim';
import { hospitalSplit } from './split';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

describe('demo baselines', () => {
  it('split each site exactly as its browser does', () => {
    const sites = demoSplits();
    expect(sites.map((s) => s.profile.id)).toEqual(demoHospitals.map((h) => h.id));
    sites.forEach((s) => expect(s).toMatchObject(hospitalSplit(heartRisk, s.profile.id, generateHeartRecords(s.profile))));
  });

  it('the central model beats the majority class by 15 points and federation comes within 5 of it', async () => {
    const central = await centralBaseline();
    const federated = await simulateFederated();
    expect(central.trainSamples + central.validationSamples).toBe(demoHospitals.reduce((s, h) => s + h.size, 0));
    expect(central.majorityRate).toBeGreaterThan(0.5);
    expect(central.accuracy).toBeGreaterThanOrEqual(central.majorityRate + 0.15);
    expect(federated.majorityRate).toBe(central.majorityRate);
    expect(federated.accuracyByRound).toHaveLength(3);
    expect(federated.accuracy).toBeGreaterThanOrEqual(federated.majorityRate + 0.1);
    expect(Math.abs(federated.accuracy - central.accuracy)).toBeLessThanOrEqual(0.05);
  });
});
