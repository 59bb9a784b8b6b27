import { z } from 'zod';

/**
 * Score histograms: what a site sends so that the server can pool AUROC and ROC curves exactly up to
 * the bin width, which no mean of per-site AUROCs can do (a weighted mean ran 0.03–0.05 below the
 * pooled AUROC on real multi-hospital data, and a site whose split holds one class has no AUROC).
 *
 * Bins are right-closed and fixed: bin k of B holds the scores in (k/B, (k+1)/B], bin 0 also holds 0
 * (and anything non-finite, which no accepted report carries). So "bin ≥ j" is exactly "score > j/B",
 * the rule the confusion matrix uses at 0.5 (`p > 0.5`), and the server can check one against the
 * other. Binned scores are ordered like the raw ones, so the Mann–Whitney AUROC of the summed
 * histograms differs from the AUROC of the pooled raw scores only through positive–negative pairs
 * that share a bin, by half their share at most: `binnedAuroc` returns that bound with the value.
 *
 * Privacy: a histogram is a release of its own, finer than the metrics it travels with. A study under
 * differential privacy must either noise and account for it, or not send it; there is no DP in this
 * code base yet, so the histogram is optional and a DP study must leave it out until it is noised.
 */

/** Binary: 1000 bins of width 0.001 over the predicted probability of label 1. */
export const BINARY_HISTOGRAM_BINS = 1000;
/**
 * Multi-class: 100 bins of width 0.01 over each class's softmax output (one-vs-rest). 2·K histograms
 * at 0.001 would reach 8,000 pairs (about 80 KB) for the 4-stage template, past Socket.IO's 64 KiB
 * message limit; at 0.01 they stay under 800 pairs (about 8 KB), and under 2,400 (24 KB) at the cap.
 */
export const MULTICLASS_HISTOGRAM_BINS = 100;
/** Templates with more classes send no histogram (their one-vs-rest histograms would not fit a message). */
export const MAX_HISTOGRAM_CLASSES = 12;

/**
 * A sparse histogram: `[binIndex, count]` pairs, bin indices strictly increasing, counts non-negative
 * integers; empty bins are left out. The schema bounds its size (at most one pair per bin); what the
 * pairs say is checked against the rest of the report by `histogramProblem`, so that a report whose
 * histogram disagrees is refused as implausible, with the disagreement named.
 */
export const sparseCountsSchema = (bins: number) => z.array(z.tuple([z.number(), z.number()])).max(bins, `at most ${bins} [bin, count] pairs`);
export type SparseCounts = [number, number][];

/** Binary reports: per label, the histogram of the predicted probability of label 1. */
export const binaryHistogramSchema = z.object({
  bins: z.literal(BINARY_HISTOGRAM_BINS),
  /** Samples of label 0. */
  negative: sparseCountsSchema(BINARY_HISTOGRAM_BINS),
  /** Samples of label 1. */
  positive: sparseCountsSchema(BINARY_HISTOGRAM_BINS),
});
export type BinaryHistogram = z.infer<typeof binaryHistogramSchema>;

/** Multi-class reports: per class k, in the template's order, output k over the samples of class k and over the rest. */
export const multiclassHistogramSchema = z.object({
  bins: z.literal(MULTICLASS_HISTOGRAM_BINS),
  perClass: z
    .array(z.object({ positive: sparseCountsSchema(MULTICLASS_HISTOGRAM_BINS), negative: sparseCountsSchema(MULTICLASS_HISTOGRAM_BINS) }))
    .min(2)
    .max(MAX_HISTOGRAM_CLASSES),
});
export type MulticlassHistogram = z.infer<typeof multiclassHistogramSchema>;

/** The bin of a score: right-closed, and on the same side of B/2 as the decision `score > 0.5`, whatever the rounding of score·B. */
export function binOf(score: number, bins: number): number {
  if (!(score > 0)) return 0;
  if (score >= 1) return bins - 1;
  const k = Math.ceil(score * bins) - 1;
  const half = bins / 2;
  return score > 0.5 ? Math.max(half, Math.min(bins - 1, k)) : Math.max(0, Math.min(half - 1, k));
}

/** Dense counts to sparse pairs. */
export function toSparse(dense: ArrayLike<number>): SparseCounts {
  const out: SparseCounts = [];
  for (let k = 0; k < dense.length; k++) if (dense[k] > 0) out.push([k, dense[k]]);
  return out;
}

/** Sparse pairs to dense counts (pairs assumed valid: see `sparseProblem`). */
export function toDense(sparse: SparseCounts, bins: number): Float64Array {
  const out = new Float64Array(bins);
  for (const [k, c] of sparse) out[k] += c;
  return out;
}

/** Adds `sparse` into `dense`. */
export function addSparse(dense: Float64Array, sparse: SparseCounts): void {
  for (const [k, c] of sparse) dense[k] += c;
}

export const sparseTotal = (sparse: SparseCounts) => sparse.reduce((a, [, c]) => a + c, 0);

/** Samples of `sparse` in bins ≥ `from`: those scored above from/B. */
export const sparseAbove = (sparse: SparseCounts, from: number) => sparse.reduce((a, [k, c]) => a + (k >= from ? c : 0), 0);

/** The binary histogram of `probs` (probability of label 1) split by 0/1 `labels` (> 0.5 is label 1). */
export function binaryHistogram(probs: ArrayLike<number>, labels: ArrayLike<number>): BinaryHistogram {
  const B = BINARY_HISTOGRAM_BINS;
  const negative = new Float64Array(B);
  const positive = new Float64Array(B);
  for (let i = 0; i < labels.length; i++) (labels[i] > 0.5 ? positive : negative)[binOf(probs[i], B)]++;
  return { bins: B, negative: toSparse(negative), positive: toSparse(positive) };
}

/** One-vs-rest histograms of softmax `outputs` (`n × classes`) against class-index `labels`; null beyond `MAX_HISTOGRAM_CLASSES`. */
export function multiclassHistogram(outputs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): MulticlassHistogram | null {
  if (classes > MAX_HISTOGRAM_CLASSES || classes < 2) return null;
  const B = MULTICLASS_HISTOGRAM_BINS;
  const positive = Array.from({ length: classes }, () => new Float64Array(B));
  const negative = Array.from({ length: classes }, () => new Float64Array(B));
  for (let i = 0; i < labels.length; i++) {
    for (let k = 0; k < classes; k++) (labels[i] === k ? positive : negative)[k][binOf(outputs[i * classes + k], B)]++;
  }
  return { bins: B, perClass: positive.map((p, k) => ({ positive: toSparse(p), negative: toSparse(negative[k]) })) };
}

/** Why `sparse` is no histogram of `bins` bins (indices integers in range and increasing, counts non-negative integers), or null. */
export function sparseProblem(sparse: SparseCounts, bins: number): string | null {
  let previous = -1;
  for (const [k, c] of sparse) {
    if (!Number.isInteger(k) || k < 0 || k >= bins) return `has bin ${k}, outside its ${bins} bins (0–${bins - 1})`;
    if (k <= previous) return `lists bin ${k} after bin ${previous} (bins must increase)`;
    if (!Number.isInteger(c) || c < 0) return `counts ${c} in bin ${k}, not a non-negative integer`;
    previous = k;
  }
  return null;
}

export interface BinnedAuroc {
  /** Mann–Whitney over the binned scores, pairs in one bin counting half; null without a positive or a negative. */
  auroc: number | null;
  /** The most the AUROC of the raw scores can differ from it: half the share of positive–negative pairs in one bin. */
  maxError: number | null;
  positives: number;
  negatives: number;
}

/** The AUROC of dense positive and negative score histograms over the same bins. */
export function binnedAuroc(positive: ArrayLike<number>, negative: ArrayLike<number>): BinnedAuroc {
  let positives = 0;
  let negatives = 0;
  let wins = 0;
  let ties = 0;
  for (let k = 0; k < positive.length; k++) {
    wins += positive[k] * negatives; // negatives in lower bins, counted so far
    ties += positive[k] * negative[k];
    positives += positive[k];
    negatives += negative[k];
  }
  if (positives === 0 || negatives === 0) return { auroc: null, maxError: null, positives, negatives };
  const pairs = positives * negatives;
  return { auroc: (wins + ties / 2) / pairs, maxError: ties / 2 / pairs, positives, negatives };
}

/** A report's histograms as dense one-vs-rest pairs: binary has one (label 1 against label 0), multi-class one per class. */
export interface DenseScores {
  bins: number;
  classes: { positiveClass: number; positive: Float64Array; negative: Float64Array }[];
}

export function denseScores(h: BinaryHistogram | MulticlassHistogram): DenseScores {
  if ('perClass' in h) {
    return { bins: h.bins, classes: h.perClass.map((c, k) => ({ positiveClass: k, positive: toDense(c.positive, h.bins), negative: toDense(c.negative, h.bins) })) };
  }
  return { bins: h.bins, classes: [{ positiveClass: 1, positive: toDense(h.positive, h.bins), negative: toDense(h.negative, h.bins) }] };
}

/** The histograms of several reports summed: those of their pooled validation data. Null when they do not share bins and classes. */
export function sumScores(all: readonly DenseScores[]): DenseScores | null {
  if (all.length === 0) return null;
  const { bins, classes } = all[0];
  if (all.some((s) => s.bins !== bins || s.classes.length !== classes.length)) return null;
  return {
    bins,
    classes: classes.map((c, i) => {
      const positive = new Float64Array(bins);
      const negative = new Float64Array(bins);
      for (const s of all) {
        for (let k = 0; k < bins; k++) {
          positive[k] += s.classes[i].positive[k];
          negative[k] += s.classes[i].negative[k];
        }
      }
      return { positiveClass: c.positiveClass, positive, negative };
    }),
  };
}

/**
 * The AUROC of summed histograms: binary, label 1 against label 0; multi-class, the unweighted mean
 * of the one-vs-rest AUROCs over the classes that have both positives and negatives (macro), its error
 * bound the mean of theirs. Null when no class has both.
 */
export function scoresAuroc(s: DenseScores): { auroc: number; maxError: number } | null {
  const each = s.classes.map((c) => binnedAuroc(c.positive, c.negative)).filter((a) => a.auroc !== null);
  if (each.length === 0) return null;
  return { auroc: each.reduce((a, e) => a + e.auroc!, 0) / each.length, maxError: each.reduce((a, e) => a + e.maxError!, 0) / each.length };
}
