import { describe, expect, it } from 'vitest';
import { CALIBRATION_BINS, type BinaryClinicalMetrics, type MulticlassClinicalMetrics } from '../../shared/metrics/clinical';
import { getTemplate } from '../../shared/tasks';
import { cellLabel, cellShade, classCount, confusionCaption, confusionCounts, confusionTable, templateClassNames, worstConfusion } from './confusionMatrix';

const bins = () => ({ count: new Array(CALIBRATION_BINS).fill(0), confidence: new Array(CALIBRATION_BINS).fill(0), correct: new Array(CALIBRATION_BINS).fill(0) });

function binary(confusion: { tp: number; fp: number; tn: number; fn: number }): BinaryClinicalMetrics {
  const { tp, fp, tn, fn } = confusion;
  const n = tp + fp + tn + fn;
  return { kind: 'binary', numSamples: n, loss: 0.4, accuracy: (tp + tn) / n, auroc: 0.9, sensitivity: tp / (tp + fn), specificity: tn / (tn + fp), confusion, ece: 0.05, calibration: bins() };
}

function multiclass(confusion: number[][]): MulticlassClinicalMetrics {
  const n = confusion.flat().reduce((a, b) => a + b, 0);
  const right = confusion.reduce((a, row, k) => a + row[k], 0);
  return {
    kind: 'multiclass',
    numSamples: n,
    loss: 0.8,
    accuracy: right / n,
    confusion,
    recall: confusion.map((row, k) => (row.reduce((a, b) => a + b, 0) ? row[k] / row.reduce((a, b) => a + b, 0) : null)),
    macroF1: 0.5,
    ece: 0.1,
    calibration: bins(),
  };
}

describe('class names', () => {
  it('names a binary template’s negative class 0 and its positive class 1', () => {
    expect(templateClassNames(getTemplate('heart-risk'), 2)).toEqual(['no disease', 'disease present']);
  });

  it('names a multi-class template’s classes in order', () => {
    expect(templateClassNames(getTemplate('hcv-stage'), 4)).toEqual(['blood donor', 'hepatitis', 'fibrosis', 'cirrhosis']);
  });

  it('falls back to class indices without a template or past its names', () => {
    expect(templateClassNames(undefined, 3)).toEqual(['class 0', 'class 1', 'class 2']);
    expect(templateClassNames({ label: { name: 'y', description: '', positive: 'yes', negative: 'no' } }, 3)).toEqual(['no', 'yes', 'class 2']);
  });

  it('counts the classes of either kind', () => {
    expect(classCount(binary({ tp: 1, fp: 0, tn: 1, fn: 0 }))).toBe(2);
    expect(classCount(multiclass([[1, 0, 0], [0, 1, 0], [0, 0, 1]]))).toBe(3);
  });
});

describe('confusionTable', () => {
  it('lays a binary report out actual-by-predicted, negative first', () => {
    expect(confusionCounts(binary({ tp: 30, fp: 5, tn: 50, fn: 15 }))).toEqual([
      [50, 5],
      [15, 30],
    ]);
  });

  it('gives each cell its share of the row and marks the diagonal', () => {
    const t = confusionTable(binary({ tp: 30, fp: 5, tn: 45, fn: 20 }), ['no disease', 'disease present']);
    expect(t.total).toBe(100);
    expect(t.accuracy).toBeCloseTo(0.75);
    expect(t.classes).toEqual(['no disease', 'disease present']);
    expect(t.rows.map((r) => r.total)).toEqual([50, 50]);
    expect(t.rows[0].cells).toEqual([
      { predicted: 0, count: 45, share: 0.9, correct: true },
      { predicted: 1, count: 5, share: 0.1, correct: false },
    ]);
    expect(t.rows[1].cells.map((c) => c.share)).toEqual([0.4, 0.6]);
    // The diagonal's share is the class's recall: specificity, then sensitivity.
    expect(t.rows[1].cells[1].share).toBeCloseTo(binary({ tp: 30, fp: 5, tn: 45, fn: 20 }).sensitivity!);
  });

  it('leaves an empty row’s shares unknown rather than zero', () => {
    const t = confusionTable(multiclass([[4, 1, 0], [0, 0, 0], [1, 0, 2]]), ['a', 'b', 'c']);
    expect(t.rows[1].total).toBe(0);
    expect(t.rows[1].cells.every((c) => c.share === null)).toBe(true);
    expect(t.rows[2].cells.map((c) => c.share)).toEqual([1 / 3, 0, 2 / 3]);
    expect(t.accuracy).toBeCloseTo(6 / 8);
  });

  it('has no accuracy without samples', () => {
    const t = confusionTable(multiclass([[0, 0], [0, 0]]), ['a', 'b']);
    expect(t.total).toBe(0);
    expect(t.accuracy).toBeNull();
    expect(confusionCaption(t, 'pooled')).toBe('Confusion matrix, pooled: no samples');
  });
});

describe('cellShade', () => {
  it('shades right cells teal and wrong ones orange, deeper with the share', () => {
    expect(cellShade({ share: 1, correct: true })).toBe('rgb(31 138 120 / 0.62)');
    expect(cellShade({ share: 0.5, correct: false })).toBe('rgb(194 65 12 / 0.34)');
    const alpha = (s: string) => Number(/\/ ([\d.]+)\)$/.exec(s)![1]);
    expect(alpha(cellShade({ share: 0.2, correct: false }))).toBeLessThan(alpha(cellShade({ share: 0.8, correct: false })));
  });

  it('leaves empty cells and empty rows unshaded', () => {
    expect(cellShade({ share: 0, correct: false })).toBe('transparent');
    expect(cellShade({ share: null, correct: true })).toBe('transparent');
  });
});

describe('captions', () => {
  const t = confusionTable(multiclass([[40, 5, 5], [10, 20, 10], [0, 2, 8]]), ['donor', 'hepatitis', 'cirrhosis']);

  it('finds the most frequent mistake by its share of the row', () => {
    expect(worstConfusion(t)).toEqual({ actual: 1, predicted: 0, share: 0.25 });
    expect(worstConfusion(confusionTable(multiclass([[3, 0], [0, 3]]), ['a', 'b']))).toBeNull();
  });

  it('sums the matrix up in a sentence', () => {
    expect(confusionCaption(t, 'pooled')).toBe('Confusion matrix, pooled: 100 samples, 68.0% on the diagonal; most often mistaken: hepatitis called donor (25.0% of its row)');
  });

  it('reads each cell out with its classes', () => {
    expect(cellLabel(t, t.rows[2], t.rows[2].cells[1])).toBe('actual cirrhosis, predicted hepatitis: 2, 20.0% of the row');
  });
});
