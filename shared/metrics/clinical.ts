import { z } from 'zod';
import { auroc, confusionMatrix, logLoss, PROBABILITY_EPSILON } from './binary';
import {
  binaryHistogram,
  binaryHistogramSchema,
  denseScores,
  multiclassHistogram,
  multiclassHistogramSchema,
  scoresAuroc,
  sumScores,
} from './histogram';
import { accuracyOf, argmaxRows, macroF1, multiclassConfusionMatrix, perClassRecall } from './multiclass';

/** Reliability bins of the expected calibration error. */
export const CALIBRATION_BINS = 10;

/**
 * Per bin of top-label confidence (`[k/B, (k+1)/B)`, the last closed): how many samples, the sum of
 * their confidences and how many were right. Summing two sites' bins gives the pooled bins exactly.
 */
export const calibrationBinsSchema = z.object({
  count: z.array(z.number().int().min(0)).length(CALIBRATION_BINS),
  confidence: z.array(z.number().min(0)).length(CALIBRATION_BINS),
  correct: z.array(z.number().int().min(0)).length(CALIBRATION_BINS),
});
export type CalibrationBins = z.infer<typeof calibrationBinsSchema>;

const finite = z.number().refine(Number.isFinite, 'must be finite');
const rate = z.number().min(0).max(1);

export const binaryClinicalSchema = z.object({
  kind: z.literal('binary'),
  numSamples: z.number().int().min(0),
  loss: finite,
  accuracy: rate,
  auroc: rate,
  /** At threshold 0.5; null when the site has no positive (or no negative) case. */
  sensitivity: rate.nullable(),
  specificity: rate.nullable(),
  confusion: z.object({ tp: z.number().int().min(0), fp: z.number().int().min(0), tn: z.number().int().min(0), fn: z.number().int().min(0) }),
  ece: rate,
  calibration: calibrationBinsSchema,
  /**
   * Per label, the histogram of the predicted probability of label 1 (./histogram.ts), so the server
   * pools AUROC and ROC exactly up to 0.001. Optional: an older tab sends none, and a differentially
   * private study must not send it un-noised (it is a release of its own).
   */
  histogram: binaryHistogramSchema.optional(),
});

export const multiclassClinicalSchema = z.object({
  kind: z.literal('multiclass'),
  numSamples: z.number().int().min(0),
  loss: finite,
  accuracy: rate,
  /** `confusion[actual][predicted]`. */
  confusion: z.array(z.array(z.number().int().min(0))),
  /** Per class, in the template's class order; null for a class the site has no case of. */
  recall: z.array(rate.nullable()),
  macroF1: rate,
  ece: rate,
  calibration: calibrationBinsSchema,
  /** Per class, one-vs-rest histograms of its softmax output (./histogram.ts); optional, and never un-noised under differential privacy. */
  histogram: multiclassHistogramSchema.optional(),
});

/** What a site reports for a model version on its validation split, and what the server pools. */
export const clinicalMetricsSchema = z.discriminatedUnion('kind', [binaryClinicalSchema, multiclassClinicalSchema]);
export type ClinicalMetrics = z.infer<typeof clinicalMetricsSchema>;
export type BinaryClinicalMetrics = z.infer<typeof binaryClinicalSchema>;
export type MulticlassClinicalMetrics = z.infer<typeof multiclassClinicalSchema>;

function emptyBins(): CalibrationBins {
  return {
    count: new Array<number>(CALIBRATION_BINS).fill(0),
    confidence: new Array<number>(CALIBRATION_BINS).fill(0),
    correct: new Array<number>(CALIBRATION_BINS).fill(0),
  };
}

function addToBins(bins: CalibrationBins, confidence: number, correct: boolean) {
  const k = Math.min(CALIBRATION_BINS - 1, Math.max(0, Math.floor(confidence * CALIBRATION_BINS)));
  bins.count[k]++;
  bins.confidence[k] += confidence;
  if (correct) bins.correct[k]++;
}

/** Expected calibration error: Σ_b (n_b / n) · |accuracy_b − confidence_b| over the bins. */
export function expectedCalibrationError(bins: CalibrationBins): number {
  const n = bins.count.reduce((a, b) => a + b, 0);
  if (n === 0) return 0;
  let ece = 0;
  for (let k = 0; k < CALIBRATION_BINS; k++) {
    if (bins.count[k] === 0) continue;
    ece += Math.abs(bins.correct[k] - bins.confidence[k]) / n;
  }
  return Math.min(1, ece);
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

export interface ClinicalOptions {
  /** Send the score histograms (default true). A differentially private study passes false until it can noise them. */
  histogram?: boolean;
}

/** Binary metrics from sigmoid outputs (probability of the positive class) and 0/1 labels. */
export function binaryClinicalMetrics(probs: ArrayLike<number>, labels: ArrayLike<number>, options: ClinicalOptions = {}): BinaryClinicalMetrics {
  const confusion = confusionMatrix(probs, labels);
  const bins = emptyBins();
  for (let i = 0; i < labels.length; i++) {
    const predicted = probs[i] > 0.5;
    // Top-label confidence: the probability of the class predicted.
    addToBins(bins, predicted ? probs[i] : 1 - probs[i], predicted === labels[i] > 0.5);
  }
  const n = labels.length;
  return {
    kind: 'binary',
    numSamples: n,
    loss: n ? logLoss(probs, labels) : 0,
    accuracy: n ? (confusion.tp + confusion.tn) / n : 0,
    auroc: auroc(probs, labels),
    sensitivity: ratio(confusion.tp, confusion.tp + confusion.fn),
    specificity: ratio(confusion.tn, confusion.tn + confusion.fp),
    confusion,
    ece: expectedCalibrationError(bins),
    calibration: bins,
    ...(options.histogram === false ? {} : { histogram: binaryHistogram(probs, labels) }),
  };
}

/** Multi-class metrics from softmax outputs (`n × classes`) and class-index labels. */
export function multiclassClinicalMetrics(
  outputs: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  options: ClinicalOptions = {},
): MulticlassClinicalMetrics {
  const n = labels.length;
  if (outputs.length !== n * classes) throw new RangeError(`${outputs.length} outputs do not fit ${n} samples of ${classes} classes`);
  const predicted = argmaxRows(outputs, classes);
  const confusion = multiclassConfusionMatrix(labels, predicted, classes);
  const bins = emptyBins();
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const truth = labels[i];
    loss -= Math.log(Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, outputs[i * classes + truth])));
    addToBins(bins, outputs[i * classes + predicted[i]], predicted[i] === truth);
  }
  return {
    kind: 'multiclass',
    numSamples: n,
    loss: n ? loss / n : 0,
    accuracy: accuracyOf(confusion),
    confusion,
    recall: recallOrNull(confusion),
    macroF1: macroF1(confusion),
    ece: expectedCalibrationError(bins),
    calibration: bins,
    ...histogramField(options.histogram === false ? null : multiclassHistogram(outputs, labels, classes)),
  };
}

const histogramField = <H>(h: H | null) => (h ? { histogram: h } : {});

function recallOrNull(confusion: number[][]): (number | null)[] {
  const recall = perClassRecall(confusion);
  return confusion.map((row, k) => (row.reduce((a, b) => a + b, 0) > 0 ? recall[k] : null));
}

/** How a pooled AUROC was computed: from the sites' summed score histograms, or as a sample-weighted mean of their AUROCs. */
export type AurocMethod = 'histogram' | 'weighted-mean';

export interface PooledAuroc {
  /** Binary: label 1 against label 0; multi-class: the macro one-vs-rest AUROC (histograms only). Null when undefined. */
  auroc: number | null;
  method: AurocMethod | null;
  /** Histograms: the most the AUROC of the pooled raw scores can differ from `auroc`; null otherwise. */
  maxError: number | null;
  /** Reports with samples that sent no histogram: one is enough to fall back to the weighted mean. */
  withoutHistogram: number;
}

/**
 * The pooled AUROC of reports with samples: exact up to the bin width from their summed histograms
 * when every one sent a histogram (a site with one class counts too: its scores rank against the
 * others'); otherwise, for binary reports, the sample-weighted mean of the AUROCs of the sites that
 * have both classes (a one-class site has none), which is what the method says.
 */
export function poolAuroc(reports: readonly ClinicalMetrics[]): PooledAuroc {
  const withSamples = reports.filter((r) => r.numSamples > 0);
  const withoutHistogram = withSamples.filter((r) => !r.histogram).length;
  if (withSamples.length === 0) return { auroc: null, method: null, maxError: null, withoutHistogram };
  if (withoutHistogram === 0) {
    const summed = sumScores(withSamples.map((r) => denseScores(r.histogram!)));
    if (summed) {
      const a = scoresAuroc(summed);
      return { auroc: a?.auroc ?? null, method: a ? 'histogram' : null, maxError: a?.maxError ?? null, withoutHistogram };
    }
  }
  const twoClass = withSamples.filter(
    (r): r is BinaryClinicalMetrics => r.kind === 'binary' && r.confusion.tp + r.confusion.fn > 0 && r.confusion.tn + r.confusion.fp > 0,
  );
  if (twoClass.length === 0) return { auroc: null, method: null, maxError: null, withoutHistogram };
  const n = twoClass.reduce((a, r) => a + r.numSamples, 0);
  return { auroc: twoClass.reduce((a, r) => a + r.auroc * r.numSamples, 0) / n, method: 'weighted-mean', maxError: null, withoutHistogram };
}

/**
 * The global values of several sites' reports: confusion matrices and calibration bins are summed
 * (so sensitivity, specificity, recall, macro-F1 and ECE are those of the pooled validation data);
 * AUROC comes from the summed score histograms when every report has one (`poolAuroc`), else it is a
 * sample-weighted mean; loss, which does not pool from summaries, is a sample-weighted mean. The
 * pooled metrics carry no histogram (see ./curves.ts for what the summed histograms draw).
 */
export function poolClinicalMetrics(reports: readonly ClinicalMetrics[]): ClinicalMetrics | null {
  // In a canonical order, so the floating-point sums do not depend on the order the reports came in.
  const withSamples = reports.filter((r) => r.numSamples > 0).sort((a, b) => a.numSamples - b.numSamples || a.loss - b.loss || a.accuracy - b.accuracy || a.ece - b.ece);
  if (withSamples.length === 0) return null;
  const kind = withSamples[0].kind;
  if (withSamples.some((r) => r.kind !== kind)) throw new RangeError('cannot pool binary and multi-class reports');
  const n = withSamples.reduce((a, r) => a + r.numSamples, 0);
  const weighted = (pick: (r: ClinicalMetrics) => number) => withSamples.reduce((a, r) => a + pick(r) * r.numSamples, 0) / n;
  const bins = emptyBins();
  for (const r of withSamples) {
    for (let k = 0; k < CALIBRATION_BINS; k++) {
      bins.count[k] += r.calibration.count[k];
      bins.confidence[k] += r.calibration.confidence[k];
      bins.correct[k] += r.calibration.correct[k];
    }
  }
  if (kind === 'binary') {
    const all = withSamples as BinaryClinicalMetrics[];
    const c = all.reduce((a, r) => ({ tp: a.tp + r.confusion.tp, fp: a.fp + r.confusion.fp, tn: a.tn + r.confusion.tn, fn: a.fn + r.confusion.fn }), {
      tp: 0,
      fp: 0,
      tn: 0,
      fn: 0,
    });
    return {
      kind,
      numSamples: n,
      loss: weighted((r) => r.loss),
      accuracy: (c.tp + c.tn) / n,
      // 0.5, the convention of an undefined AUROC, when no site has both classes.
      auroc: poolAuroc(all).auroc ?? 0.5,
      sensitivity: ratio(c.tp, c.tp + c.fn),
      specificity: ratio(c.tn, c.tn + c.fp),
      confusion: c,
      ece: expectedCalibrationError(bins),
      calibration: bins,
    };
  }
  const all = withSamples as MulticlassClinicalMetrics[];
  const classes = all[0].confusion.length;
  if (all.some((r) => r.confusion.length !== classes)) throw new RangeError('reports of different class counts');
  const confusion = Array.from({ length: classes }, (_, a) => Array.from({ length: classes }, (_, p) => all.reduce((s, r) => s + r.confusion[a][p], 0)));
  return {
    kind,
    numSamples: n,
    loss: weighted((r) => r.loss),
    accuracy: accuracyOf(confusion),
    confusion,
    recall: recallOrNull(confusion),
    macroF1: macroF1(confusion),
    ece: expectedCalibrationError(bins),
    calibration: bins,
  };
}
