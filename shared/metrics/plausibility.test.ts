import { describe, expect, it } from 'vitest';
import { splitTrainValidation } from '../training/split';
import { binaryClinicalMetrics } from './clinical';
import { implausibleReport, MAX_MEAN_LOSS, maxValidationRecords } from './plausibility';

describe('maxValidationRecords', () => {
  it('bounds every stratified split the training count could come from', () => {
    for (const fraction of [0.05, 0.2, 0.5]) {
      for (let n = 1; n <= 400; n += 7) {
        for (const positives of [0, 1, Math.floor(n / 3), n]) {
          const labels = Array.from({ length: n }, (_, i) => (i < positives ? 1 : 0));
          const { train, validation } = splitTrainValidation(labels, fraction, n);
          expect(validation.length).toBeLessThanOrEqual(maxValidationRecords(train.length, fraction, 2));
        }
      }
    }
    // 200 training records at a 20 % split leave about 50 for validation, not 10^8.
    expect(maxValidationRecords(200, 0.2, 2)).toBeLessThan(53);
  });
});

describe('implausibleReport', () => {
  const m = binaryClinicalMetrics([0.9, 0.8, 0.3, 0.6, 0.2], [1, 1, 1, 0, 0]);
  const honest = { loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples, clinical: m };

  it('passes an honest report, and one from a tab without clinical metrics', () => {
    expect(implausibleReport(honest, 2)).toBeNull();
    expect(implausibleReport({ loss: 0.5, accuracy: 0.8, numSamples: 5 }, 2)).toBeNull();
  });

  it('names what contradicts: accuracy against the confusion matrix, loss beyond the possible, bins against counts', () => {
    expect(implausibleReport({ ...honest, accuracy: 1, clinical: { ...m, accuracy: 1 } }, 2)).toMatch(/confusion matrix gives an accuracy of 0.6000/);
    expect(implausibleReport({ ...honest, loss: MAX_MEAN_LOSS * 2, clinical: { ...m, loss: MAX_MEAN_LOSS * 2 } }, 2)).toMatch(/beyond the largest possible/);
    expect(implausibleReport({ ...honest, clinical: { ...m, loss: m.loss + 0.1 } }, 2)).toMatch(/loss/);
    const bins = { ...m.calibration, count: m.calibration.count.map((c, k) => (k === 9 ? c + 1 : c)) };
    expect(implausibleReport({ ...honest, clinical: { ...m, calibration: bins } }, 2)).toMatch(/calibration bins count 6 samples/);
    const low = { ...m.calibration, count: [1, ...m.calibration.count.slice(1)], confidence: [0.05, ...m.calibration.confidence.slice(1)] };
    expect(implausibleReport({ ...honest, clinical: { ...m, calibration: low } }, 2)).toMatch(/calibration bins count|outside the bin/);
  });
});
