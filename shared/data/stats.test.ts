import { describe, expect, it } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../synthetic';
import { heartRisk } from '../tasks';
import { splitTrainValidation } from '../training/split';
import { batchToRecords, BatchBuilder, recordsToBatch } from './columnar';
import { splitCounts, StatsAccumulator } from './stats';

describe('splitCounts', () => {
  it('gives the sizes of the seeded stratified split from the label counts alone', () => {
    for (const h of demoHospitals) {
      const labels = generateHeartRecords(h).map((r) => r.label);
      for (const fraction of [0, 0.1, 0.2, 0.35, 1]) {
        const split = splitTrainValidation(labels, fraction, 7);
        const counts = [labels.filter((l) => l === 0).length, labels.filter((l) => l === 1).length];
        expect(splitCounts(counts, fraction)).toEqual({ train: split.train.length, validation: split.validation.length });
      }
    }
  });
});

describe('columnar batches', () => {
  it('store records as typed arrays and give them back unchanged, missing values included', () => {
    const records = generateHeartRecords(demoHospitals[1], { markers: true });
    const features = heartRisk.features.map((f) => f.name);
    const batch = recordsToBatch(features, records);
    expect(batch.values).toBeInstanceOf(Float64Array);
    expect(batchToRecords(batch)).toEqual(records);
  });

  it('hands out full batches and starts again', () => {
    const b = new BatchBuilder(['a', 'b'], 2);
    b.add('x', [1, NaN], 1);
    b.add('y', [3, 4], 0);
    expect(b.full).toBe(true);
    const batch = b.take();
    expect(batch).toMatchObject({ n: 2, ids: ['x', 'y'], labels: new Uint8Array([1, 0]) });
    expect(Array.from(batch.values)).toEqual([1, NaN, 3, 4]);
    expect(b.size).toBe(0);
    expect(() => {
      b.add('z', [0, 0], 0);
      b.add('z', [0, 0], 0);
      b.add('z', [0, 0], 0);
    }).toThrow(RangeError);
  });
});

describe('StatsAccumulator', () => {
  it('matches statistics computed directly from the records', () => {
    const records = generateHeartRecords(demoHospitals[0]);
    const acc = new StatsAccumulator(heartRisk);
    acc.addBatch(recordsToBatch(heartRisk.features.map((f) => f.name), records));
    const s = acc.result();
    const chol = records.map((r) => r.values.chol).filter((v): v is number => v !== null);
    const cholStats = s.features.find((f) => f.name === 'chol')!;
    expect(cholStats).toMatchObject({ count: chol.length, missing: records.length - chol.length, min: Math.min(...chol), max: Math.max(...chol) });
    expect(cholStats.mean).toBeCloseTo(chol.reduce((a, b) => a + b, 0) / chol.length, 9);
    const mean = cholStats.mean!;
    expect(cholStats.std).toBeCloseTo(Math.sqrt(chol.reduce((a, b) => a + (b - mean) ** 2, 0) / (chol.length - 1)), 6);
    expect(s.labelCounts).toEqual([records.filter((r) => r.label === 0).length, records.filter((r) => r.label === 1).length]);
    const thal = s.features.find((f) => f.name === 'thal')!;
    expect(thal.categories!.reduce((a, c) => a + c.count, 0)).toBe(thal.count);
  });
});
