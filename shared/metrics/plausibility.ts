import { PROBABILITY_EPSILON } from './binary';
import type { ClinicalMetrics } from './clinical';
import { binnedAuroc, sparseAbove, sparseProblem, sparseTotal, toDense, type SparseCounts } from './histogram';

/**
 * Checks an evaluation report against what any honest tab could have sent. They stop careless and
 * inconsistent forgeries; a careful one passes, which is why pooled figures also leave out the sites
 * that sit far from the others (./outliers.ts).
 */

/** The report's figures, as a tab sends them. */
export interface ReportFigures {
  loss: number;
  accuracy: number;
  numSamples: number;
  clinical?: ClinicalMetrics | null;
}

/** No mean cross-entropy can exceed this: every prediction is clipped to [ε, 1 − ε] first. */
export const MAX_MEAN_LOSS = -Math.log(PROBABILITY_EPSILON);

/**
 * The most validation records a site can hold when it reported `train` training records: the split
 * holds out round(fraction × n) of each label's n records, so each label's validation share is at most
 * fraction/(1 − fraction) of its training share, plus half a record of rounding either side.
 */
export function maxValidationRecords(train: number, fraction: number, classes: number): number {
  if (fraction >= 1) return Number.POSITIVE_INFINITY;
  return Math.floor((fraction / (1 - fraction)) * (train + classes / 2) + classes / 2);
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

/** Why the figures cannot be one tab's honest evaluation, or null when they can. */
export function implausibleReport(r: ReportFigures, classes: number): string | null {
  if (r.loss > MAX_MEAN_LOSS * (1 + 1e-9)) return `a mean loss of ${r.loss} is beyond the largest possible (${MAX_MEAN_LOSS.toFixed(2)})`;
  const c = r.clinical;
  if (!c) return null;
  if (c.numSamples !== r.numSamples) return `the clinical metrics count ${c.numSamples} samples, the report ${r.numSamples}`;
  if (!close(c.loss, r.loss)) return `the clinical metrics' loss ${c.loss} differs from the report's ${r.loss}`;
  if (!close(c.accuracy, r.accuracy)) return `the clinical metrics' accuracy ${c.accuracy} differs from the report's ${r.accuracy}`;
  let right: number;
  let total: number;
  if (c.kind === 'binary') {
    const { tp, fp, tn, fn } = c.confusion;
    total = tp + fp + tn + fn;
    right = tp + tn;
  } else {
    if (c.confusion.length !== classes || c.confusion.some((row) => row.length !== classes)) return `the confusion matrix is not ${classes} × ${classes}`;
    total = c.confusion.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
    right = c.confusion.reduce((s, row, k) => s + row[k], 0);
  }
  if (total !== r.numSamples) return `the confusion matrix counts ${total} samples, the report ${r.numSamples}`;
  if (!close(right / Math.max(1, total), r.accuracy)) return `the confusion matrix gives an accuracy of ${(right / Math.max(1, total)).toFixed(4)}, the report ${r.accuracy}`;
  const bins = c.calibration;
  const binned = bins.count.reduce((a, b) => a + b, 0);
  if (binned !== r.numSamples) return `the calibration bins count ${binned} samples, the report ${r.numSamples}`;
  if (bins.correct.reduce((a, b) => a + b, 0) !== right) return 'the calibration bins count other correct predictions than the confusion matrix';
  for (let k = 0; k < bins.count.length; k++) {
    if (bins.correct[k] > bins.count[k]) return `calibration bin ${k} has more correct predictions than predictions`;
    // A top-label confidence is at least 1/classes, and a bin's confidences lie within its own range.
    const lo = Math.max(1 / classes, k / bins.count.length);
    const hi = (k + 1) / bins.count.length;
    if (bins.confidence[k] < bins.count[k] * lo * (1 - 1e-9) - 1e-9 || bins.confidence[k] > bins.count[k] * hi * (1 + 1e-9) + 1e-9)
      return `calibration bin ${k}'s confidences lie outside the bin`;
  }
  return histogramProblem(c, classes);
}

/**
 * Why a report's score histograms cannot be those of its own predictions, or null (also when it sent
 * none). Each must be a histogram of its bins; together they count the report's samples, each class's
 * as many as the confusion matrix gives it; binary ones split at 0.5 as the confusion matrix does, and
 * rank the scores as the reported AUROC says, within the bound their bins leave.
 */
export function histogramProblem(c: ClinicalMetrics, classes: number): string | null {
  if (!c.histogram) return null;
  const check = (what: string, sparse: SparseCounts, bins: number) => {
    const problem = sparseProblem(sparse, bins);
    return problem ? `the score histogram of ${what} ${problem}` : null;
  };
  if (c.kind === 'binary') {
    const h = c.histogram;
    const problem = check('label 0', h.negative, h.bins) ?? check('label 1', h.positive, h.bins);
    if (problem) return problem;
    const [negatives, positives] = [sparseTotal(h.negative), sparseTotal(h.positive)];
    const { tp, fp, tn, fn } = c.confusion;
    if (negatives + positives !== c.numSamples) return `the score histograms count ${negatives + positives} samples, the report ${c.numSamples}`;
    if (positives !== tp + fn) return `the score histogram of label 1 counts ${positives} samples, the confusion matrix ${tp + fn} (tp + fn)`;
    if (negatives !== tn + fp) return `the score histogram of label 0 counts ${negatives} samples, the confusion matrix ${tn + fp} (tn + fp)`;
    const half = h.bins / 2;
    if (sparseAbove(h.positive, half) !== tp) return `the score histogram of label 1 puts ${sparseAbove(h.positive, half)} samples above 0.5, the confusion matrix ${tp} (tp)`;
    if (sparseAbove(h.negative, half) !== fp) return `the score histogram of label 0 puts ${sparseAbove(h.negative, half)} samples above 0.5, the confusion matrix ${fp} (fp)`;
    const binned = binnedAuroc(toDense(h.positive, h.bins), toDense(h.negative, h.bins));
    if (binned.auroc !== null && Math.abs(binned.auroc - c.auroc) > binned.maxError! + 1e-9)
      return `the reported AUROC ${c.auroc} is not within ${Number(binned.maxError!.toPrecision(3))} of the score histograms' ${binned.auroc.toFixed(6)}`;
    return null;
  }
  const h = c.histogram;
  if (h.perClass.length !== classes) return `the score histograms cover ${h.perClass.length} classes, the study ${classes}`;
  for (const [k, pair] of h.perClass.entries()) {
    const problem = check(`class ${k}`, pair.positive, h.bins) ?? check(`the classes other than ${k}`, pair.negative, h.bins);
    if (problem) return problem;
    const support = c.confusion[k].reduce((a, b) => a + b, 0);
    const [positives, negatives] = [sparseTotal(pair.positive), sparseTotal(pair.negative)];
    if (positives !== support) return `the score histogram of class ${k} counts ${positives} samples, the confusion matrix ${support}`;
    if (positives + negatives !== c.numSamples) return `the score histograms of class ${k} against the rest count ${positives + negatives} samples, the report ${c.numSamples}`;
  }
  return null;
}
