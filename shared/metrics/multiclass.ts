/**
 * Metrics of a multi-class classifier. Classes are indices 0..k-1. A confusion matrix `m` counts
 * `m[actual][predicted]`: row = true class, column = predicted class (scikit-learn's convention).
 */

export type ClassConfusion = number[][];

/** Index of the largest of each row's `units` outputs (the first on ties). */
export function argmaxRows(outputs: ArrayLike<number>, units: number): Int32Array {
  if (!(Number.isInteger(units) && units >= 1) || outputs.length % units !== 0) {
    throw new RangeError(`${outputs.length} outputs do not split into rows of ${units}`);
  }
  const n = outputs.length / units;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < units; k++) if (outputs[i * units + k] > outputs[i * units + best]) best = k;
    out[i] = best;
  }
  return out;
}

function checkClass(c: number, classes: number, what: string, i: number): void {
  if (!Number.isInteger(c) || c < 0 || c >= classes) throw new RangeError(`${what} ${c} of row ${i} is not a class of ${classes}`);
}

/** `k × k` counts of (true class, predicted class) pairs. */
export function multiclassConfusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): ClassConfusion {
  if (actual.length !== predicted.length) throw new RangeError(`${predicted.length} predictions against ${actual.length} labels`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < actual.length; i++) {
    checkClass(actual[i], classes, 'label', i);
    checkClass(predicted[i], classes, 'prediction', i);
    m[actual[i]][predicted[i]]++;
  }
  return m;
}

const rowSum = (m: ClassConfusion, k: number) => m[k].reduce((a, b) => a + b, 0);
const colSum = (m: ClassConfusion, k: number) => m.reduce((a, row) => a + row[k], 0);
const total = (m: ClassConfusion) => m.reduce((a, row) => a + row.reduce((b, c) => b + c, 0), 0);

/** Share of rows on the diagonal; 0 for an empty matrix. */
export function accuracyOf(m: ClassConfusion): number {
  const n = total(m);
  return n ? m.reduce((a, row, k) => a + row[k], 0) / n : 0;
}

/** Per class, the share of its rows predicted as it (sensitivity); NaN for a class with no rows. */
export function perClassRecall(m: ClassConfusion): number[] {
  return m.map((row, k) => {
    const support = rowSum(m, k);
    return support ? row[k] / support : NaN;
  });
}

/** Per class, the share of its predictions that are right; NaN for a class never predicted. */
export function perClassPrecision(m: ClassConfusion): number[] {
  return m.map((row, k) => {
    const predicted = colSum(m, k);
    return predicted ? row[k] / predicted : NaN;
  });
}

/**
 * Per class F1, `2·tp / (2·tp + fp + fn)`; NaN for a class that is neither present nor predicted,
 * 0 for one that is either but never both.
 */
export function perClassF1(m: ClassConfusion): number[] {
  return m.map((row, k) => {
    const tp = row[k];
    const denominator = rowSum(m, k) + colSum(m, k);
    return denominator ? (2 * tp) / denominator : NaN;
  });
}

/**
 * Unweighted mean of the per-class F1 over the classes that occur in the labels or the predictions
 * (as scikit-learn's `f1_score(average='macro')` does), so each rare stage counts as much as the
 * commonest; 0 for an empty matrix.
 */
export function macroF1(m: ClassConfusion): number {
  const f1 = perClassF1(m).filter((v) => !Number.isNaN(v));
  return f1.length ? f1.reduce((a, b) => a + b, 0) / f1.length : 0;
}

/** Unweighted mean of the per-class recall over the classes present in the labels (balanced accuracy). */
export function balancedAccuracy(m: ClassConfusion): number {
  const r = perClassRecall(m).filter((v) => !Number.isNaN(v));
  return r.length ? r.reduce((a, b) => a + b, 0) / r.length : 0;
}

/** Accuracy of always predicting the commonest class index: the bar a multi-class model must clear. */
export function majorityClassRate(labels: ArrayLike<number>): number {
  if (labels.length === 0) return 0;
  const counts = new Map<number, number>();
  let best = 0;
  for (let i = 0; i < labels.length; i++) {
    const c = (counts.get(labels[i]) ?? 0) + 1;
    counts.set(labels[i], c);
    if (c > best) best = c;
  }
  return best / labels.length;
}
