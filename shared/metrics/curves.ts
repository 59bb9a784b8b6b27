import type { AurocMethod, CalibrationBins, ClinicalMetrics } from './clinical';
import { poolAuroc, poolClinicalMetrics } from './clinical';
import { binnedAuroc, denseScores, scoresAuroc, sumScores, type DenseScores } from './histogram';

/**
 * What the admin console draws for a model version, pooled and per site: ROC curves from the score
 * histograms (./histogram.ts) and reliability diagrams. The confusion matrix is the metrics' own
 * (`clinical.confusion`).
 */

/** One operating point: the samples scored above `threshold` are called positive. */
export interface RocPoint {
  threshold: number;
  /** False-positive rate, 1 − specificity. */
  fpr: number;
  /** True-positive rate, sensitivity. */
  tpr: number;
}

export interface RocCurve {
  /** Binary: 1 (label 1 against label 0). Multi-class: the class index, ranked against every other class (one-vs-rest). */
  positiveClass: number;
  positives: number;
  negatives: number;
  /** Mann–Whitney AUROC of the binned scores (the curve's exact trapezoid area); null without positives or negatives. */
  auroc: number | null;
  /** The most the AUROC of the raw scores can differ from `auroc` (half the share of positive–negative pairs in one bin). */
  aurocMaxError: number | null;
  /**
   * From (0, 0) at threshold 1 to (1, 1) at the lowest occupied bin's lower edge, thresholds falling and
   * both rates non-decreasing; thinned for drawing to at most about `ROC_MAX_POINTS`. Empty when
   * `auroc` is null.
   */
  points: RocPoint[];
}

/** One bin of a reliability diagram. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability (or confidence) of the bin's samples; null when it is empty. */
  meanPredicted: number | null;
  /** Observed frequency: the share right (top-label) or the share of label 1 (risk); null when the bin is empty. */
  observed: number | null;
}

export interface EvaluationCurves {
  /** ROC curves from the score histograms: binary one, multi-class one per class in the template's order; empty without histograms. */
  roc: RocCurve[];
  /** From the histograms: binary, the one curve's AUROC; multi-class, the mean over classes with both positives and negatives. Null without. */
  auroc: number | null;
  aurocMaxError: number | null;
  /**
   * Top-label confidence against the share right, over the 10 calibration bins `[k/10, (k+1)/10)`
   * (the ECE's own, exact: every report has them).
   */
  reliability: ReliabilityBin[];
  /**
   * Binary with histograms only: predicted probability of label 1 against the observed share of label 1,
   * in 10 bins `(k/10, (k+1)/10]`; counts exact, each mean prediction within 0.0005 (bin midpoints).
   */
  riskReliability: ReliabilityBin[] | null;
}

/** Enough points to draw a curve smoothly; the area is `auroc`, computed before thinning. */
export const ROC_MAX_POINTS = 250;
const RISK_RELIABILITY_BINS = 10;

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The ROC curve of dense positive and negative histograms over `bins` bins. */
export function rocCurve(positiveClass: number, positive: ArrayLike<number>, negative: ArrayLike<number>, bins: number): RocCurve {
  const a = binnedAuroc(positive, negative);
  const curve: RocCurve = { positiveClass, positives: a.positives, negatives: a.negatives, auroc: a.auroc, aurocMaxError: a.maxError, points: [] };
  if (a.auroc === null) return curve;
  const all: RocPoint[] = [{ threshold: 1, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let j = bins - 1; j >= 0; j--) {
    if (positive[j] + negative[j] === 0) continue;
    tp += positive[j];
    fp += negative[j];
    all.push({ threshold: round6(j / bins), fpr: fp / a.negatives, tpr: tp / a.positives });
  }
  // Keep a point once the curve has moved far enough from the last one kept; always the ends.
  const step = 2 / ROC_MAX_POINTS;
  let last = all[0];
  curve.points.push(last);
  for (let i = 1; i < all.length; i++) {
    const p = all[i];
    if (i === all.length - 1 || Math.abs(p.fpr - last.fpr) + Math.abs(p.tpr - last.tpr) >= step) {
      curve.points.push({ threshold: p.threshold, fpr: round6(p.fpr), tpr: round6(p.tpr) });
      last = p;
    }
  }
  return curve;
}

/** Reliability from calibration bins (top-label confidence). */
export function topLabelReliability(bins: CalibrationBins): ReliabilityBin[] {
  const B = bins.count.length;
  return bins.count.map((count, k) => ({
    lower: k / B,
    upper: (k + 1) / B,
    count,
    meanPredicted: count ? bins.confidence[k] / count : null,
    observed: count ? bins.correct[k] / count : null,
  }));
}

/** Reliability of the predicted probability of label 1, from a binary report's dense histograms. */
export function riskReliability(positive: ArrayLike<number>, negative: ArrayLike<number>, bins: number): ReliabilityBin[] {
  const per = bins / RISK_RELIABILITY_BINS;
  return Array.from({ length: RISK_RELIABILITY_BINS }, (_, r) => {
    let count = 0;
    let ones = 0;
    let predicted = 0;
    for (let k = r * per; k < (r + 1) * per; k++) {
      const c = positive[k] + negative[k];
      count += c;
      ones += positive[k];
      predicted += (c * (k + 0.5)) / bins;
    }
    return {
      lower: r / RISK_RELIABILITY_BINS,
      upper: (r + 1) / RISK_RELIABILITY_BINS,
      count,
      meanPredicted: count ? predicted / count : null,
      observed: count ? ones / count : null,
    };
  });
}

function curvesOf(kind: ClinicalMetrics['kind'], calibration: CalibrationBins, scores: DenseScores | null): EvaluationCurves {
  const a = scores ? scoresAuroc(scores) : null;
  const binary = scores && kind === 'binary' ? scores.classes[0] : null;
  return {
    roc: scores ? scores.classes.map((c) => rocCurve(c.positiveClass, c.positive, c.negative, scores.bins)) : [],
    auroc: a?.auroc ?? null,
    aurocMaxError: a?.maxError ?? null,
    reliability: topLabelReliability(calibration),
    riskReliability: binary ? riskReliability(binary.positive, binary.negative, scores!.bins) : null,
  };
}

/** One site's curves from its own report. */
export function siteCurves(report: ClinicalMetrics): EvaluationCurves {
  return curvesOf(report.kind, report.calibration, report.histogram ? denseScores(report.histogram) : null);
}

export interface PooledEvaluation {
  /** `poolClinicalMetrics` of the reports: the pooled summary, without histograms. */
  metrics: ClinicalMetrics | null;
  /** Binary: equals `metrics.auroc` (unless undefined); multi-class: the macro one-vs-rest AUROC, from histograms only. */
  auroc: number | null;
  aurocMethod: AurocMethod | null;
  aurocMaxError: number | null;
  withoutHistogram: number;
  /** From the summed histograms when every report with samples has one; reliability from the summed calibration bins always. */
  curves: EvaluationCurves | null;
}

/** Pool the reports that count (flagged ones already left out by the caller). */
export function poolEvaluation(reports: readonly ClinicalMetrics[]): PooledEvaluation {
  const metrics = poolClinicalMetrics(reports);
  const a = poolAuroc(reports);
  const base = { metrics, auroc: a.auroc, aurocMethod: a.method, aurocMaxError: a.maxError, withoutHistogram: a.withoutHistogram };
  if (!metrics) return { ...base, curves: null };
  const withSamples = reports.filter((r) => r.numSamples > 0);
  const scores = a.withoutHistogram === 0 ? sumScores(withSamples.map((r) => denseScores(r.histogram!))) : null;
  return { ...base, curves: curvesOf(metrics.kind, metrics.calibration, scores) };
}

/** A report as the console lists it: the histogram stays on the server (the curves say what it shows). */
export function withoutHistogram<C extends ClinicalMetrics>(report: C): C {
  if (!report.histogram) return report;
  const { histogram: _, ...rest } = report;
  return rest as C;
}
