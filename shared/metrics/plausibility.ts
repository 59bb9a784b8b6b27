import { PROBABILITY_EPSILON } from './binary';
import type { ClinicalMetrics } from './clinical';

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
  return null;
}
