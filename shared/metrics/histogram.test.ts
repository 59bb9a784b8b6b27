import { describe, expect, it } from 'vitest';
import { mulberry32, normal } from '../synthetic/rng';
import { auroc } from './binary';
import { binaryClinicalMetrics, clinicalMetricsSchema, multiclassClinicalMetrics, poolAuroc, type BinaryClinicalMetrics } from './clinical';
import { poolEvaluation, rocCurve, siteCurves } from './curves';
import {
  BINARY_HISTOGRAM_BINS,
  binaryHistogram,
  binnedAuroc,
  binOf,
  MAX_HISTOGRAM_CLASSES,
  MULTICLASS_HISTOGRAM_BINS,
  multiclassHistogram,
  sparseTotal,
  toDense,
} from './histogram';

const W = 1 / BINARY_HISTOGRAM_BINS;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

interface Site {
  probs: number[];
  labels: number[];
}

/** A site's validation scores: its own prevalence, and its own shift of the score scale (case mix, calibration). */
function site(seed: number, n: number, prevalence: number, shift: number, separation = 1.6): Site {
  const rand = mulberry32(seed);
  const gauss = normal(rand);
  const labels = Array.from({ length: n }, () => (rand() < prevalence ? 1 : 0));
  // Float32, as the model's outputs are.
  const probs = labels.map((y) => Math.fround(sigmoid(shift + (y ? separation : 0) + gauss())));
  return { probs, labels };
}

describe('score histograms', () => {
  it('bins right-closed, so a bin at or above the middle is exactly a prediction above 0.5', () => {
    expect(binOf(0, 1000)).toBe(0);
    expect(binOf(0.001, 1000)).toBe(0);
    expect(binOf(0.0011, 1000)).toBe(1);
    expect(binOf(0.5, 1000)).toBe(499);
    expect(binOf(Math.fround(0.5 + 2 ** -24), 1000)).toBe(500);
    expect(binOf(0.5 + 1e-15, 1000)).toBe(500);
    expect(binOf(1, 1000)).toBe(999);
    expect(binOf(Number.NaN, 1000)).toBe(0);
    const rand = mulberry32(3);
    let disagree = 0;
    for (let i = 0; i < 100_000; i++) {
      const p = i % 2 ? rand() : 0.5 + (rand() - 0.5) * 1e-6;
      if (binOf(p, 1000) >= 500 !== p > 0.5 || binOf(p, 100) >= 50 !== p > 0.5) disagree++;
    }
    expect(disagree).toBe(0);
  });

  it('counts every sample once, by label, as sparse [bin, count] pairs the schema accepts', () => {
    const { probs, labels } = site(1, 300, 0.3, -0.5);
    const m = binaryClinicalMetrics(probs, labels);
    const h = m.histogram!;
    expect(sparseTotal(h.positive)).toBe(m.confusion.tp + m.confusion.fn);
    expect(sparseTotal(h.negative)).toBe(m.confusion.tn + m.confusion.fp);
    expect(h.positive.every(([k, c], i) => c > 0 && (i === 0 || k > h.positive[i - 1][0]))).toBe(true);
    expect(clinicalMetricsSchema.parse(m)).toEqual(m);
    expect(binaryHistogram([0.2, 0.7, 0.7005], [0, 1, 1])).toEqual({ bins: 1000, negative: [[199, 1]], positive: [[699, 1], [700, 1]] });
  });

  it('stays well inside Socket.IO\'s 64 KiB message, however many samples and bins are filled', () => {
    // Every bin filled, with six-digit counts: the largest a binary report can get.
    const full = Array.from({ length: BINARY_HISTOGRAM_BINS }, (_, k) => [k, 123_456] as [number, number]);
    const m = binaryClinicalMetrics([0.9], [1]);
    const report = { studyId: 'a-study', version: 1, loss: 0.1, accuracy: 1, numSamples: 1, backend: 'cpu', clinical: { ...m, histogram: { bins: 1000, positive: full, negative: full } } };
    expect(JSON.stringify(report).length).toBeLessThan(32 * 1024);
    // Multi-class at the class cap: 2 × 12 histograms of 100 bins.
    const K = MAX_HISTOGRAM_CLASSES;
    const mc = multiclassClinicalMetrics(Array.from({ length: K }, (_, k) => (k ? 0 : 1)), [0], K);
    const bins = Array.from({ length: MULTICLASS_HISTOGRAM_BINS }, (_, k) => [k, 123_456] as [number, number]);
    const big = { ...mc, histogram: { bins: 100, perClass: Array.from({ length: K }, () => ({ positive: bins, negative: bins })) } };
    expect(clinicalMetricsSchema.safeParse(big).success).toBe(true);
    expect(JSON.stringify({ ...report, clinical: big }).length).toBeLessThan(40 * 1024);
    // Beyond the cap, no histogram rather than an oversized message.
    expect(multiclassHistogram(new Array(13).fill(1 / 13), [0], 13)).toBeNull();
  });
});

describe('pooled AUROC from histograms', () => {
  // Five hospitals of different prevalence, score shift and size, one of them with no positive case.
  const sites: Site[] = [
    site(11, 400, 0.1, -1.5),
    site(12, 250, 0.35, 0.4),
    site(13, 120, 0.6, 1.2, 1.2),
    site(14, 800, 0.2, -0.3, 2.2),
    site(15, 60, 0, -0.8),
  ];
  const reports = sites.map((s) => binaryClinicalMetrics(s.probs, s.labels));
  const pooledProbs = sites.flatMap((s) => s.probs);
  const pooledLabels = sites.flatMap((s) => s.labels);
  const exact = auroc(pooledProbs, pooledLabels);

  it('is within the bin width (and within its own stated bound) of the AUROC on the pooled raw scores', () => {
    const pooled = poolAuroc(reports);
    expect(pooled.method).toBe('histogram');
    expect(Math.abs(pooled.auroc! - exact)).toBeLessThanOrEqual(W);
    expect(Math.abs(pooled.auroc! - exact)).toBeLessThanOrEqual(pooled.maxError!);
    expect(pooled.maxError!).toBeLessThan(W);
    // The weighted mean of the sites' own AUROCs misses it by ten bin widths and more (by 0.03-0.05 on the issue's data).
    const mean = poolAuroc(reports.map(({ histogram: _, ...r }) => r));
    expect(mean.method).toBe('weighted-mean');
    expect(Math.abs(mean.auroc! - exact)).toBeGreaterThan(10 * W);
  });

  it('holds over many seeded federations, and the site with one class still counts', () => {
    for (let seed = 0; seed < 40; seed++) {
      const rand = mulberry32(seed);
      const fed = Array.from({ length: 2 + (seed % 5) }, (_, k) =>
        site(seed * 100 + k, 20 + Math.floor(rand() * 500), k === 0 ? (seed % 2 ? 1 : 0) : 0.05 + rand() * 0.6, (rand() - 0.5) * 3, 0.5 + rand() * 2),
      );
      const pooled = poolAuroc(fed.map((s) => binaryClinicalMetrics(s.probs, s.labels)));
      const truth = auroc(
        fed.flatMap((s) => s.probs),
        fed.flatMap((s) => s.labels),
      );
      expect(Math.abs(pooled.auroc! - truth)).toBeLessThanOrEqual(W);
      expect(Math.abs(pooled.auroc! - truth)).toBeLessThanOrEqual(pooled.maxError! + 1e-12);
      // Leave out the one-class site and the pooled AUROC changes: its scores rank against the others'.
      const without = poolAuroc(fed.slice(1).map((s) => binaryClinicalMetrics(s.probs, s.labels)));
      expect(without.auroc).not.toBe(pooled.auroc);
    }
  });

  it('says how far off it can be, and ties that share a bin count half', () => {
    // All scores in one bin: the histograms cannot tell them apart, and say so.
    const one = binnedAuroc(toDense([[700, 3]], 1000), toDense([[700, 2]], 1000));
    expect(one).toEqual({ auroc: 0.5, maxError: 0.5, positives: 3, negatives: 2 });
    expect(binnedAuroc(toDense([[9, 1]], 10), toDense([], 10))).toMatchObject({ auroc: null, maxError: null });
  });

  it('pools the ROC curve: the points run from (0, 0) to (1, 1), their area is the AUROC, and 0.5 is the confusion matrix\'s threshold', () => {
    const pooled = poolEvaluation(reports);
    expect(pooled.aurocMethod).toBe('histogram');
    expect(pooled.metrics).toMatchObject({ kind: 'binary', numSamples: pooledLabels.length });
    expect((pooled.metrics as BinaryClinicalMetrics).auroc).toBe(pooled.auroc);
    const [curve] = pooled.curves!.roc;
    expect(curve.positiveClass).toBe(1);
    expect(curve.points[0]).toEqual({ threshold: 1, fpr: 0, tpr: 0 });
    expect(curve.points.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
    expect(curve.points.length).toBeLessThanOrEqual(260);
    for (let i = 1; i < curve.points.length; i++) {
      expect(curve.points[i].threshold).toBeLessThan(curve.points[i - 1].threshold);
      expect(curve.points[i].fpr).toBeGreaterThanOrEqual(curve.points[i - 1].fpr);
      expect(curve.points[i].tpr).toBeGreaterThanOrEqual(curve.points[i - 1].tpr);
    }
    // Unthinned, the trapezoids add up to the binned AUROC exactly.
    const dense = pooled.curves!.roc[0];
    expect(dense.auroc).toBe(pooled.auroc);
    const summed = reports.map((r) => r.histogram!);
    const pos = new Float64Array(1000);
    const neg = new Float64Array(1000);
    for (const h of summed) {
      toDense(h.positive, 1000).forEach((c, k) => (pos[k] += c));
      toDense(h.negative, 1000).forEach((c, k) => (neg[k] += c));
    }
    const fine = rocCurve(1, pos, neg, 1000);
    let area = 0;
    let tp = 0;
    let fp = 0;
    let prev = { fpr: 0, tpr: 0 };
    const P = pos.reduce((a, b) => a + b, 0);
    const N = neg.reduce((a, b) => a + b, 0);
    for (let j = 999; j >= 0; j--) {
      tp += pos[j];
      fp += neg[j];
      const p = { fpr: fp / N, tpr: tp / P };
      area += ((p.fpr - prev.fpr) * (p.tpr + prev.tpr)) / 2;
      prev = p;
      if (j === 500) {
        const c = pooled.metrics as BinaryClinicalMetrics;
        expect(p.tpr).toBeCloseTo(c.sensitivity!, 12);
        expect(1 - p.fpr).toBeCloseTo(c.specificity!, 12);
      }
    }
    expect(area).toBeCloseTo(fine.auroc!, 12);
    // Reliability: the summed calibration bins, and (binary) the risk curve from the histograms.
    expect(pooled.curves!.reliability.reduce((a, b) => a + b.count, 0)).toBe(pooledLabels.length);
    const risk = pooled.curves!.riskReliability!;
    expect(risk).toHaveLength(10);
    expect(risk.reduce((a, b) => a + b.count, 0)).toBe(pooledLabels.length);
    const inFirst = pooledProbs.filter((p) => p <= 0.1);
    expect(risk[0].count).toBe(inFirst.length);
    expect(risk[0].meanPredicted!).toBeCloseTo(inFirst.reduce((a, b) => a + b, 0) / inFirst.length, 3);
    expect(risk[0].observed).toBe(pooledLabels.filter((_, i) => pooledProbs[i] <= 0.1 && pooledLabels[i] === 1).length / inFirst.length);
  });

  it('falls back clearly when one site sent no histogram: weighted mean, no pooled ROC, and says how many', () => {
    const mixed = [...reports.slice(0, 4), binaryClinicalMetrics(sites[4].probs, sites[4].labels, { histogram: false })];
    const pooled = poolEvaluation(mixed);
    expect(pooled).toMatchObject({ aurocMethod: 'weighted-mean', aurocMaxError: null, withoutHistogram: 1 });
    expect(pooled.curves!.roc).toEqual([]);
    expect(pooled.curves!.riskReliability).toBeNull();
    expect(pooled.curves!.reliability).toHaveLength(10);
    // A site's own curves: ROC from its histogram; none for the one-class site.
    expect(siteCurves(reports[0]).roc[0].auroc).toBeCloseTo(reports[0].auroc, 2);
    expect(siteCurves(reports[4]).roc[0]).toMatchObject({ auroc: null, points: [], positives: 0, negatives: 60 });
    expect(poolEvaluation([])).toMatchObject({ metrics: null, curves: null, aurocMethod: null });
  });
});

describe('multi-class histograms', () => {
  /** Softmax outputs of K classes, the true class's logit raised by `separation`. */
  function mcSite(seed: number, n: number, K: number, separation: number) {
    const rand = mulberry32(seed);
    const gauss = normal(rand);
    const labels = Array.from({ length: n }, () => Math.floor(rand() * K));
    const outputs: number[] = [];
    for (const y of labels) {
      const logits = Array.from({ length: K }, (_, k) => gauss() + (k === y ? separation : 0));
      const max = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - max));
      const s = e.reduce((a, b) => a + b, 0);
      outputs.push(...e.map((v) => Math.fround(v / s)));
    }
    return { outputs, labels };
  }

  it('pools the macro one-vs-rest AUROC within the bin width of the pooled scores\'', () => {
    const K = 4;
    const fed = [mcSite(1, 300, K, 1.5), mcSite(2, 150, K, 2.5), mcSite(3, 500, K, 0.8)];
    const reports = fed.map((s) => multiclassClinicalMetrics(s.outputs, s.labels, K));
    expect(reports.every((r) => clinicalMetricsSchema.safeParse(r).success)).toBe(true);
    const outputs = fed.flatMap((s) => s.outputs);
    const labels = fed.flatMap((s) => s.labels);
    const perClass = Array.from({ length: K }, (_, k) =>
      auroc(
        labels.map((_, i) => outputs[i * K + k]),
        labels.map((y) => (y === k ? 1 : 0)),
      ),
    );
    const exact = perClass.reduce((a, b) => a + b, 0) / K;
    const pooled = poolEvaluation(reports);
    expect(pooled.aurocMethod).toBe('histogram');
    expect(Math.abs(pooled.auroc! - exact)).toBeLessThanOrEqual(1 / MULTICLASS_HISTOGRAM_BINS);
    expect(Math.abs(pooled.auroc! - exact)).toBeLessThanOrEqual(pooled.aurocMaxError! + 1e-12);
    expect(pooled.curves!.roc.map((c) => c.positiveClass)).toEqual([0, 1, 2, 3]);
    for (const [k, c] of pooled.curves!.roc.entries()) expect(Math.abs(c.auroc! - perClass[k])).toBeLessThanOrEqual(c.aurocMaxError! + 1e-12);
    expect(pooled.curves!.riskReliability).toBeNull();
  });
});
