import { describe, expect, it } from 'vitest';
import {
  accuracyOf,
  argmaxRows,
  balancedAccuracy,
  macroF1,
  majorityClassRate,
  multiclassConfusionMatrix,
  perClassF1,
  perClassPrecision,
  perClassRecall,
} from './multiclass';

// Ten rows over three classes:
//   actual    0 0 0 0 0 1 1 1 2 2
//   predicted 0 0 0 1 2 1 1 0 2 1
const actual = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2];
const predicted = [0, 0, 0, 1, 2, 1, 1, 0, 2, 1];
const m = multiclassConfusionMatrix(actual, predicted, 3);

describe('multi-class metrics', () => {
  it('confusion matrix counts [actual][predicted]', () => {
    expect(m).toEqual([
      [3, 1, 1],
      [1, 2, 0],
      [0, 1, 1],
    ]);
    expect(accuracyOf(m)).toBeCloseTo(6 / 10, 12);
  });

  it('per-class recall, precision and F1 by hand', () => {
    // Recall: 3/5, 2/3, 1/2. Precision (column sums 4, 4, 2): 3/4, 2/4, 1/2.
    perClassRecall(m).forEach((v, k) => expect(v).toBeCloseTo([3 / 5, 2 / 3, 1 / 2][k], 12));
    perClassPrecision(m).forEach((v, k) => expect(v).toBeCloseTo([3 / 4, 2 / 4, 1 / 2][k], 12));
    // F1 = 2tp / (2tp + fp + fn): 6/9, 4/7, 2/4.
    const f1 = [6 / 9, 4 / 7, 2 / 4];
    perClassF1(m).forEach((v, k) => expect(v).toBeCloseTo(f1[k], 12));
    expect(macroF1(m)).toBeCloseTo((6 / 9 + 4 / 7 + 2 / 4) / 3, 12);
    expect(balancedAccuracy(m)).toBeCloseTo((3 / 5 + 2 / 3 + 1 / 2) / 3, 12);
  });

  it('a class absent from labels and predictions is left out of the macro average', () => {
    const four = multiclassConfusionMatrix(actual, predicted, 4);
    expect(perClassRecall(four)[3]).toBeNaN();
    expect(perClassF1(four)[3]).toBeNaN();
    expect(macroF1(four)).toBeCloseTo(macroF1(m), 12);
    // Predicted but never present: F1 0, and it counts.
    const ghost = multiclassConfusionMatrix([0, 0], [0, 1], 2);
    expect(perClassRecall(ghost)).toEqual([0.5, NaN]);
    expect(perClassF1(ghost)).toEqual([2 / 3, 0]);
    expect(macroF1(ghost)).toBeCloseTo(1 / 3, 12);
  });

  it('arg-max per row, first on ties', () => {
    expect(Array.from(argmaxRows([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0, 1], 3))).toEqual([1, 0, 2]);
    expect(() => argmaxRows([1, 2, 3, 4], 3)).toThrow(RangeError);
  });

  it('majority class rate is the share of the commonest class', () => {
    expect(majorityClassRate(actual)).toBeCloseTo(5 / 10, 12);
    expect(majorityClassRate([2, 2, 1])).toBeCloseTo(2 / 3, 12);
    expect(majorityClassRate([])).toBe(0);
  });

  it('rejects labels outside the classes and mismatched lengths', () => {
    expect(() => multiclassConfusionMatrix([0, 3], [0, 1], 3)).toThrow(/label 3/);
    expect(() => multiclassConfusionMatrix([0, 1], [0, 1.5], 3)).toThrow(/prediction/);
    expect(() => multiclassConfusionMatrix([0], [0, 1], 3)).toThrow(RangeError);
    expect(accuracyOf(multiclassConfusionMatrix([], [], 2))).toBe(0);
    expect(macroF1(multiclassConfusionMatrix([], [], 2))).toBe(0);
  });
});
