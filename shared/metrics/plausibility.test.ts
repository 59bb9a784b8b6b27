import { describe, expect, it } from 'vitest';
import { splitTrainValidation } from '../training/split';
import { binaryClinicalMetrics, multiclassClinicalMetrics, type BinaryClinicalMetrics, type ClinicalMetrics } from './clinical';
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

describe('implausibleReport: score histograms', () => {
  const m = binaryClinicalMetrics([0.9, 0.8, 0.3, 0.6, 0.2, 0.45], [1, 1, 1, 0, 0, 0]);
  const report = (clinical: ClinicalMetrics) => ({ loss: clinical.loss, accuracy: clinical.accuracy, numSamples: clinical.numSamples, clinical });
  const withHistogram = (h: Partial<NonNullable<BinaryClinicalMetrics['histogram']>>) => report({ ...m, histogram: { ...m.histogram!, ...h } });

  it('passes the histograms of the report\'s own predictions, and a report without them', () => {
    expect(m.histogram).toEqual({ bins: 1000, negative: [[199, 1], [449, 1], [599, 1]], positive: [[299, 1], [799, 1], [899, 1]] });
    expect(implausibleReport(report(m), 2)).toBeNull();
    expect(implausibleReport(report(binaryClinicalMetrics([0.9, 0.2], [1, 0], { histogram: false })), 2)).toBeNull();
  });

  it('refuses histograms that do not count the report\'s samples, or its classes as the confusion matrix does', () => {
    expect(implausibleReport(withHistogram({ positive: [[299, 1], [799, 1], [899, 2]] }), 2)).toMatch(/score histograms count 7 samples, the report 6/);
    expect(implausibleReport(withHistogram({ positive: [[299, 1], [799, 1]], negative: [[199, 2], [449, 1], [599, 1]] }), 2)).toMatch(
      /histogram of label 1 counts 2 samples, the confusion matrix 3/,
    );
    // Right totals, wrong side of 0.5: the confusion matrix calls 2 of the positives right, not 3.
    expect(implausibleReport(withHistogram({ positive: [[799, 1], [800, 1], [899, 1]] }), 2)).toMatch(/label 1 puts 3 samples above 0.5, the confusion matrix 2 \(tp\)/);
  });

  it('refuses what is no histogram: bins out of range or out of order, counts negative or fractional', () => {
    expect(implausibleReport(withHistogram({ positive: [[299, 1], [799, 1], [1000, 1]] }), 2)).toMatch(/histogram of label 1 has bin 1000, outside its 1000 bins/);
    expect(implausibleReport(withHistogram({ negative: [[-1, 1], [449, 1], [599, 1]] }), 2)).toMatch(/label 0 has bin -1/);
    expect(implausibleReport(withHistogram({ positive: [[799, 1], [299, 1], [899, 1]] }), 2)).toMatch(/lists bin 299 after bin 799/);
    expect(implausibleReport(withHistogram({ positive: [[299, 2], [799, -1], [899, 2]] }), 2)).toMatch(/counts -1 in bin 799, not a non-negative integer/);
    expect(implausibleReport(withHistogram({ positive: [[299, 0.5], [799, 1.5], [899, 1]] }), 2)).toMatch(/counts 0.5 in bin 299/);
  });

  it('refuses an AUROC the histograms cannot give', () => {
    expect(implausibleReport(report({ ...m, auroc: 1 }), 2)).toMatch(/reported AUROC 1 is not within 0 of the score histograms' 0.777778/);
  });

  it('checks multi-class histograms class by class', () => {
    const mc = multiclassClinicalMetrics([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.5, 0.4, 0.1, 0.2, 0.2, 0.6], [0, 1, 1, 2], 3);
    const mcReport = (clinical: ClinicalMetrics) => ({ loss: mc.loss, accuracy: mc.accuracy, numSamples: mc.numSamples, clinical });
    expect(implausibleReport(mcReport(mc), 3)).toBeNull();
    const h = mc.histogram!;
    const moved = { ...h, perClass: h.perClass.map((c, k) => (k === 1 ? { ...c, positive: c.positive.slice(1) } : c)) };
    expect(implausibleReport(mcReport({ ...mc, histogram: moved }), 3)).toMatch(/histogram of class 1 counts 1 samples, the confusion matrix 2/);
    const short = { ...h, perClass: h.perClass.slice(0, 2) };
    expect(implausibleReport(mcReport({ ...mc, histogram: short }), 3)).toMatch(/cover 2 classes, the study 3/);
    const outOfRange = { ...h, perClass: h.perClass.map((c, k) => (k === 2 ? { ...c, negative: [[100, 3]] as [number, number][] } : c)) };
    expect(implausibleReport(mcReport({ ...mc, histogram: outOfRange }), 3)).toMatch(/classes other than 2 has bin 100, outside its 100 bins/);
  });
});
