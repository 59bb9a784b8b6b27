import { describe, expect, it } from 'vitest';
import { CALIBRATION_BINS, type BinaryClinicalMetrics, type MulticlassClinicalMetrics } from '../../shared/metrics/clinical';
import { approvalWarnings, comparisonMetric, predictedOnlyClass, type CheckedVersion } from './approvalChecks';

const bins = { count: Array<number>(CALIBRATION_BINS).fill(0), confidence: Array<number>(CALIBRATION_BINS).fill(0), correct: Array<number>(CALIBRATION_BINS).fill(0) };

function binary(auroc: number, confusion: BinaryClinicalMetrics['confusion']): BinaryClinicalMetrics {
  const n = confusion.tp + confusion.fp + confusion.tn + confusion.fn;
  return { kind: 'binary', numSamples: n, loss: 0.5, accuracy: (confusion.tp + confusion.tn) / n, auroc, sensitivity: null, specificity: null, confusion, ece: 0, calibration: bins };
}

function multiclass(macroF1: number, confusion: number[][]): MulticlassClinicalMetrics {
  const n = confusion.flat().reduce((a, b) => a + b, 0);
  const right = confusion.reduce((s, row, k) => s + row[k], 0);
  return { kind: 'multiclass', numSamples: n, loss: 1, accuracy: right / n, confusion, recall: confusion.map(() => null), macroF1, ece: 0, calibration: bins };
}

const mixed = { tp: 40, fp: 10, tn: 35, fn: 15 };
const version = (v: number, clinical: CheckedVersion['clinical'], reports = 3): CheckedVersion => ({ version: v, reports, accuracy: clinical?.accuracy ?? null, clinical });

describe('predictedOnlyClass', () => {
  it('finds a binary model that calls everyone negative, or everyone positive', () => {
    expect(predictedOnlyClass(binary(0.7, { tp: 0, fp: 0, tn: 60, fn: 40 }))).toEqual({ predicted: 0, count: 100 });
    expect(predictedOnlyClass(binary(0.7, { tp: 40, fp: 60, tn: 0, fn: 0 }))).toEqual({ predicted: 1, count: 100 });
  });

  it('passes a binary model that predicts both classes, even rarely', () => {
    expect(predictedOnlyClass(binary(0.7, mixed))).toBeNull();
    expect(predictedOnlyClass(binary(0.7, { tp: 1, fp: 0, tn: 60, fn: 39 }))).toBeNull();
  });

  it('reads the columns of a multi-class matrix (confusion[actual][predicted])', () => {
    expect(predictedOnlyClass(multiclass(0.2, [[0, 5, 0], [0, 9, 0], [0, 3, 0]]))).toEqual({ predicted: 1, count: 17 });
    // Every row predicts something else, but the diagonal alone would look "varied": columns decide.
    expect(predictedOnlyClass(multiclass(0.5, [[5, 0, 0], [0, 9, 0], [0, 1, 2]]))).toBeNull();
  });

  it('says nothing without predictions', () => {
    expect(predictedOnlyClass(null)).toBeNull();
    expect(predictedOnlyClass(binary(0.5, { tp: 0, fp: 0, tn: 0, fn: 0 }))).toBeNull();
  });
});

describe('comparisonMetric', () => {
  it('is AUROC for binary models, macro-F1 for multi-class ones, accuracy otherwise', () => {
    expect(comparisonMetric(version(1, binary(0.8, mixed))).key).toBe('auroc');
    expect(comparisonMetric(version(1, multiclass(0.6, [[3, 1], [1, 3]]))).key).toBe('macroF1');
    expect(comparisonMetric({ version: 1, reports: 2, accuracy: 0.8, clinical: null }).key).toBe('accuracy');
  });
});

describe('approvalWarnings', () => {
  const history = [version(0, null, 0), version(1, binary(0.81, mixed)), version(2, binary(0.86, mixed)), version(3, binary(0.84, mixed))];

  it('warns that v0 is untrained, and unevaluated when no site reported on it', () => {
    expect(approvalWarnings(history[0], history).map((w) => w.kind)).toEqual(['untrained', 'unevaluated']);
    expect(approvalWarnings(history[0], history)[0].reason).toBe('v0 is the untrained starting model: no round has trained it.');
  });

  it('warns about a version worse than the best earlier one, naming both values', () => {
    const warnings = approvalWarnings(history[3], history);
    expect(warnings).toEqual([{ kind: 'worse', reason: 'v3 is worse than v2 on pooled AUROC: 0.840 against 0.860.' }]);
  });

  it('passes the best version so far, and one that ties at the precision the table shows', () => {
    expect(approvalWarnings(history[2], history)).toEqual([]);
    const tie = version(4, binary(0.8596, mixed));
    expect(approvalWarnings(tie, [...history, tie])).toEqual([]);
  });

  it('compares only with earlier versions: a later, better one does not make an earlier one "worse"', () => {
    expect(approvalWarnings(history[1], history)).toEqual([]);
  });

  it('names the one class, with the template’s class names when given', () => {
    const flat = version(4, binary(0.9, { tp: 0, fp: 0, tn: 70, fn: 30 }));
    expect(approvalWarnings(flat, [...history, flat])).toEqual([
      { kind: 'one-class', reason: 'v4 predicts one class only: all 100 pooled validation predictions are “negative”.' },
    ]);
    expect(approvalWarnings(flat, [...history, flat], ['no disease', 'disease present'])[0].reason).toContain('“no disease”');
  });

  it('compares multi-class versions on macro-F1 and tabular reports without clinical metrics on accuracy', () => {
    const a = version(1, multiclass(0.7, [[3, 1], [1, 3]]));
    const b = version(2, multiclass(0.55, [[3, 1], [2, 2]]));
    expect(approvalWarnings(b, [a, b])[0].reason).toBe('v2 is worse than v1 on pooled macro-F1: 0.550 against 0.700.');
    const c = { version: 1, reports: 2, accuracy: 0.8, clinical: null };
    const d = { version: 2, reports: 2, accuracy: 0.75, clinical: null };
    expect(approvalWarnings(d, [c, d])[0].reason).toBe('v2 is worse than v1 on pooled accuracy: 75.0% against 80.0%.');
  });

  it('gives every reason that applies, in a fixed order', () => {
    const bad = version(4, binary(0.5, { tp: 0, fp: 0, tn: 70, fn: 30 }));
    expect(approvalWarnings(bad, [...history, bad]).map((w) => w.kind)).toEqual(['one-class', 'worse']);
  });
});
