import { describe, expect, it } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { heartRisk } from '../tasks/heartRisk';
import { hospitalSplit, splitTrainValidation } from './split';

const labels = Float32Array.from({ length: 103 }, (_, i) => (i % 3 === 0 ? 1 : 0)); // 35 positives, 68 negatives

describe('splitTrainValidation', () => {
  it('partitions every row once, stratified by label', () => {
    const { train, validation } = splitTrainValidation(labels, 0.2, 7);
    expect([...train, ...validation].sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    const positives = (idx: Uint32Array) => [...idx].filter((i) => labels[i] === 1).length;
    expect(positives(validation)).toBe(Math.round(0.2 * 35));
    expect(validation.length - positives(validation)).toBe(Math.round(0.2 * 68));
    expect([...train]).toEqual([...train].sort((a, b) => a - b));
  });

  it('is seeded', () => {
    expect(splitTrainValidation(labels, 0.2, 7)).toEqual(splitTrainValidation(labels, 0.2, 7));
    expect(splitTrainValidation(labels, 0.2, 8).validation).not.toEqual(splitTrainValidation(labels, 0.2, 7).validation);
  });

  it('refuses a fraction outside [0, 1]', () => {
    expect(() => splitTrainValidation(labels, 1.5, 1)).toThrow(RangeError);
  });
});

describe('hospitalSplit', () => {
  it('encodes and splits a site the same way every time', () => {
    const h = demoHospitals[0];
    const records = generateHeartRecords(h);
    const a = hospitalSplit(heartRisk, h.id, records);
    const b = hospitalSplit(heartRisk, h.id, records);
    expect(a).toEqual(b);
    expect(a.train.n + a.validation.n).toBe(records.length);
    expect(a.validation.n).toBeCloseTo(records.length * heartRisk.defaults.validationFraction, -1);
    expect(a.train.width).toBe(heartRisk.model.inputDim);
    expect(a.train.x).toHaveLength(a.train.n * a.train.width);
    // Another site id, another split of the same records.
    expect(hospitalSplit(heartRisk, 'elsewhere', records).validation.y).not.toEqual(a.validation.y);
  });
});
