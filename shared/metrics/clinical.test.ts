import { describe, expect, it } from 'vitest';
import {
  binaryClinicalMetrics,
  clinicalMetricsSchema,
  expectedCalibrationError,
  multiclassClinicalMetrics,
  poolAuroc,
  poolClinicalMetrics,
  type BinaryClinicalMetrics,
  type MulticlassClinicalMetrics,
} from './clinical';

describe('binaryClinicalMetrics', () => {
  // Worked example: 6 patients, 3 with the disease.
  const probs = [0.9, 0.8, 0.3, 0.6, 0.2, 0.1];
  const labels = [1, 1, 1, 0, 0, 0];
  const m = binaryClinicalMetrics(probs, labels);

  it('counts the confusion matrix at 0.5 and derives sensitivity and specificity', () => {
    expect(m.confusion).toEqual({ tp: 2, fn: 1, fp: 1, tn: 2 });
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.sensitivity).toBeCloseTo(2 / 3, 12);
    expect(m.specificity).toBeCloseTo(2 / 3, 12);
    // Positives above negatives in 8 of 9 pairs (0.3 < 0.6).
    expect(m.auroc).toBeCloseTo(8 / 9, 12);
    expect(clinicalMetricsSchema.parse(m)).toEqual(m);
  });

  it('computes the expected calibration error from top-label confidence bins', () => {
    // Confidences 0.9 ✓, 0.8 ✓, 0.7 ✗ (0.3 → negative, truth positive), 0.6 ✗, 0.8 ✓, 0.9 ✓.
    // Bins: [0.6,0.7): 1 sample conf 0.6 acc 0 → 0.6; [0.7,0.8): conf 0.7 acc 0 → 0.7;
    // [0.8,0.9): 2 samples conf 1.6 acc 2 → 0.4; [0.9,1]: 2 samples conf 1.8 acc 2 → 0.2. Sum / 6.
    expect(m.ece).toBeCloseTo((0.6 + 0.7 + 0.4 + 0.2) / 6, 12);
    expect(m.calibration.count.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('says null, not a made-up number, for sensitivity without positives', () => {
    const none = binaryClinicalMetrics([0.2, 0.7], [0, 0]);
    expect(none.sensitivity).toBeNull();
    expect(none.specificity).toBe(0.5);
    expect(none.auroc).toBe(0.5);
  });

  it('a perfectly calibrated model has no calibration error', () => {
    expect(expectedCalibrationError({ count: [0, 0, 0, 0, 0, 2, 0, 0, 0, 0], confidence: [0, 0, 0, 0, 0, 1, 0, 0, 0, 0], correct: [0, 0, 0, 0, 0, 1, 0, 0, 0, 0] })).toBe(0);
  });
});

describe('multiclassClinicalMetrics', () => {
  // 3 classes, 4 samples.
  const outputs = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.5, 0.4, 0.1, 0.2, 0.2, 0.6];
  const labels = [0, 1, 1, 2];
  const m = multiclassClinicalMetrics(outputs, labels, 3);

  it('reports the confusion matrix, per-class recall and macro-F1', () => {
    expect(m.confusion).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
    expect(m.recall).toEqual([1, 0.5, 1]);
    // F1: class 0: p 1/2 r 1 → 2/3; class 1: p 1 r 1/2 → 2/3; class 2: 1. Mean 7/9.
    expect(m.macroF1).toBeCloseTo(7 / 9, 12);
    expect(m.accuracy).toBe(0.75);
    expect(m.loss).toBeCloseTo(-(Math.log(0.7) + Math.log(0.8) + Math.log(0.4) + Math.log(0.6)) / 4, 12);
    expect(clinicalMetricsSchema.parse(m)).toEqual(m);
  });

  it('says null for the recall of a class the site has no case of', () => {
    expect(multiclassClinicalMetrics([0.9, 0.1, 0.2, 0.8], [0, 0], 2).recall).toEqual([0.5, null]);
  });
});

describe('poolClinicalMetrics', () => {
  it('pools confusion matrices, calibration bins and (from the score histograms) AUROC exactly, and weights loss by samples', () => {
    const a = binaryClinicalMetrics([0.9, 0.8, 0.3, 0.6], [1, 1, 1, 0]);
    const b = binaryClinicalMetrics([0.2, 0.1, 0.7, 0.4, 0.95, 0.05], [0, 0, 1, 1, 1, 0]);
    const pooled = poolClinicalMetrics([a, b]) as BinaryClinicalMetrics;
    const all = binaryClinicalMetrics([0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.7, 0.4, 0.95, 0.05], [1, 1, 1, 0, 0, 0, 1, 1, 1, 0]);
    expect(pooled.confusion).toEqual(all.confusion);
    expect(pooled.sensitivity).toBeCloseTo(all.sensitivity!, 12);
    expect(pooled.specificity).toBeCloseTo(all.specificity!, 12);
    expect(pooled.ece).toBeCloseTo(all.ece, 12);
    expect(pooled.loss).toBeCloseTo(all.loss, 12);
    // No two of these scores share a 0.001 bin: the pooled AUROC is that of the pooled scores, to the last digit.
    expect(pooled.auroc).toBeCloseTo(all.auroc, 12);
    expect(pooled.auroc).not.toBeCloseTo((a.auroc * 4 + b.auroc * 6) / 10, 2);
    expect(pooled.numSamples).toBe(10);
    expect(pooled.histogram).toBeUndefined();
  });

  it('falls back to the sample-weighted mean of the two-class sites\' AUROCs when a report has no histogram', () => {
    const a = binaryClinicalMetrics([0.9, 0.8, 0.3, 0.6], [1, 1, 1, 0]);
    const b = binaryClinicalMetrics([0.2, 0.1, 0.7, 0.4, 0.95, 0.05], [0, 0, 1, 1, 1, 0], { histogram: false });
    const oneClass = binaryClinicalMetrics([0.2, 0.4, 0.3], [0, 0, 0]);
    expect(b.histogram).toBeUndefined();
    expect(poolAuroc([a, b, oneClass])).toEqual({ auroc: (a.auroc * 4 + b.auroc * 6) / 10, method: 'weighted-mean', maxError: null, withoutHistogram: 1 });
    expect((poolClinicalMetrics([a, b, oneClass]) as BinaryClinicalMetrics).auroc).toBeCloseTo((a.auroc * 4 + b.auroc * 6) / 10, 12);
    // With histograms everywhere, the one-class site's scores rank against the others'.
    const withIt = poolAuroc([a, binaryClinicalMetrics([0.2, 0.1, 0.7, 0.4, 0.95, 0.05], [0, 0, 1, 1, 1, 0]), oneClass]);
    const all = binaryClinicalMetrics([0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.7, 0.4, 0.95, 0.05, 0.2, 0.4, 0.3], [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]);
    expect(withIt.method).toBe('histogram');
    expect(Math.abs(withIt.auroc! - all.auroc)).toBeLessThanOrEqual(withIt.maxError! + 1e-12);
  });

  it('gives the same pooled figures, to the last bit, whatever order the reports came in', () => {
    const reports = [0.13, 0.71, 0.37, 0.93].map((shift, k) =>
      binaryClinicalMetrics(
        Array.from({ length: 7 + k }, (_, i) => (Math.sin(i * 12.9898 + shift) + 1) / 2),
        Array.from({ length: 7 + k }, (_, i) => (i + k) % 2),
      ),
    );
    const pooled = poolClinicalMetrics(reports);
    expect(poolClinicalMetrics([reports[2], reports[0], reports[3], reports[1]])).toEqual(pooled);
    expect(poolClinicalMetrics([...reports].reverse())).toEqual(pooled);
  });

  it('pools multi-class reports into the pooled confusion matrix', () => {
    const a = multiclassClinicalMetrics([0.7, 0.3, 0.4, 0.6], [0, 0], 2);
    const b = multiclassClinicalMetrics([0.1, 0.9, 0.8, 0.2], [1, 1], 2);
    const pooled = poolClinicalMetrics([a, b]) as MulticlassClinicalMetrics;
    expect(pooled.confusion).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(pooled.recall).toEqual([0.5, 0.5]);
    expect(pooled.accuracy).toBe(0.5);
  });

  it('has nothing to pool without samples, and refuses mixed kinds', () => {
    expect(poolClinicalMetrics([])).toBeNull();
    expect(() => poolClinicalMetrics([binaryClinicalMetrics([0.9], [1]), multiclassClinicalMetrics([0.9, 0.1], [0], 2)])).toThrow(/pool/);
  });
});
