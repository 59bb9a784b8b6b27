import { describe, expect, it } from 'vitest';
import { auroc, binaryAccuracy, confusionMatrix, logLoss, majorityRate } from './binary';

const probs = Float32Array.from([0.9, 0.2, 0.6, 0.4, 0.5]);
const labels = Float32Array.from([1, 0, 0, 1, 1]);

describe('binary metrics', () => {
  it('accuracy counts prob > threshold as positive', () => {
    // predictions 1,0,1,0,0 (0.5 is not above 0.5) against 1,0,0,1,1: rows 0 and 1 right.
    expect(binaryAccuracy(probs, labels)).toBeCloseTo(2 / 5, 12);
    // at 0.3: 1,0,1,1,1 against 1,0,0,1,1: four right.
    expect(binaryAccuracy(probs, labels, 0.3)).toBeCloseTo(4 / 5, 12);
  });

  it('log loss is the mean negative log-likelihood', () => {
    const expected =
      -(Math.log(0.9) + Math.log(1 - 0.2) + Math.log(1 - 0.6) + Math.log(0.4) + Math.log(0.5)) / 5;
    expect(logLoss([0.9, 0.2, 0.6, 0.4, 0.5], [1, 0, 0, 1, 1])).toBeCloseTo(expected, 12);
  });

  it('log loss clips certain mistakes instead of returning Infinity', () => {
    const loss = logLoss([0, 1], [1, 0]);
    expect(loss).toBeCloseTo(-Math.log(1e-7), 6);
    expect(Number.isFinite(loss)).toBe(true);
  });

  it('majority rate is the share of the commoner label', () => {
    expect(majorityRate(labels)).toBeCloseTo(3 / 5, 12);
    expect(majorityRate([0, 0, 0, 1])).toBeCloseTo(0.75, 12);
    expect(majorityRate([1, 0])).toBe(0.5);
  });

  it('empty inputs score 0 and mismatched lengths throw', () => {
    expect(binaryAccuracy([], [])).toBe(0);
    expect(logLoss([], [])).toBe(0);
    expect(majorityRate([])).toBe(0);
    expect(() => binaryAccuracy([0.5], [])).toThrow(RangeError);
  });

  it('confusion matrix', () => {
    expect(confusionMatrix(probs, labels)).toEqual({ tp: 1, fp: 1, tn: 1, fn: 2 });
  });

  it('AUROC by pairwise ranking, ties counting half', () => {
    // positives 0.9, 0.4, 0.5; negatives 0.2, 0.6. Pairs won: 0.9 beats both (2), 0.4 beats 0.2 (1),
    // 0.5 beats 0.2 (1): 4 of 6.
    expect(auroc(probs, labels)).toBeCloseTo(4 / 6, 12);
    expect(auroc([0.5, 0.5], [1, 0])).toBe(0.5);
    expect(auroc([0.1, 0.9], [0, 1])).toBe(1);
    expect(auroc([0.3, 0.7], [1, 1])).toBe(0.5);
  });
});
