import { describe, expect, it } from 'vitest';
import { CALIBRATION_BINS, type BinaryClinicalMetrics, type MulticlassClinicalMetrics } from '../../shared/metrics/clinical';
import type { EvaluationCurves, ReliabilityBin, RocCurve, VersionEvaluation } from '../../shared/protocol';
import {
  aurocNote,
  figuresOf,
  isLeftOut,
  LEFT_OUT,
  pooledLabel,
  POOLED,
  reliabilityAxes,
  reliabilityBins,
  reliabilityCaption,
  reliabilityGap,
  reliabilityKinds,
  reliabilityPoints,
  rocCaption,
  rocClasses,
  rocLegendLabel,
  rocSeries,
  siteLabel,
  siteOptions,
} from './versionCurves';

const bins = () => ({ count: new Array(CALIBRATION_BINS).fill(0), confidence: new Array(CALIBRATION_BINS).fill(0), correct: new Array(CALIBRATION_BINS).fill(0) });

function binary(auroc: number): BinaryClinicalMetrics {
  return { kind: 'binary', numSamples: 100, loss: 0.4, accuracy: 0.8, auroc, sensitivity: 0.8, specificity: 0.8, confusion: { tp: 40, fp: 10, tn: 40, fn: 10 }, ece: 0.05, calibration: bins() };
}

function multiclass(): MulticlassClinicalMetrics {
  return {
    kind: 'multiclass',
    numSamples: 30,
    loss: 0.8,
    accuracy: 0.7,
    confusion: [
      [8, 1, 1],
      [2, 7, 1],
      [1, 3, 6],
    ],
    recall: [0.8, 0.7, 0.6],
    macroF1: 0.7,
    ece: 0.1,
    calibration: bins(),
  };
}

const roc = (positiveClass: number, auroc: number | null): RocCurve => ({
  positiveClass,
  positives: 10,
  negatives: 10,
  auroc,
  aurocMaxError: auroc === null ? null : 0.001,
  points:
    auroc === null
      ? []
      : [
          { threshold: 1, fpr: 0, tpr: 0 },
          { threshold: 0.5, fpr: 0.2, tpr: 0.8 },
          { threshold: 0, fpr: 1, tpr: 1 },
        ],
});

const bin = (k: number, count: number, meanPredicted: number | null, observed: number | null): ReliabilityBin => ({ lower: k / 10, upper: (k + 1) / 10, count, meanPredicted, observed });

function curves(rocs: RocCurve[], risk = true): EvaluationCurves {
  return {
    roc: rocs,
    auroc: rocs[0]?.auroc ?? null,
    aurocMaxError: null,
    reliability: [bin(5, 0, null, null), bin(6, 10, 0.65, 0.6), bin(9, 30, 0.95, 0.9)],
    riskReliability: risk ? [bin(0, 20, 0.05, 0.1), bin(9, 20, 0.92, 0.8)] : null,
  };
}

type Site = VersionEvaluation['sites'][number];
function site(id: string, over: Partial<Site> = {}): Site {
  return {
    participantId: id,
    siteName: `Hospital ${id}`,
    numSamples: 100,
    backend: 'cpu',
    reportedAt: '2026-01-01T00:00:00Z',
    loss: 0.4,
    accuracy: 0.8,
    clinical: binary(0.9),
    histogram: true,
    curves: curves([roc(1, 0.9)]),
    flag: null,
    includedBy: null,
    pooled: true,
    ...over,
  };
}

function evaluation(over: Partial<VersionEvaluation> = {}): VersionEvaluation {
  return {
    version: 3,
    global: binary(0.91),
    auroc: 0.911,
    aurocMethod: 'histogram',
    aurocMaxError: 0.001,
    withoutHistogram: 0,
    curves: curves([roc(1, 0.911)]),
    sites: [
      site('a', { clinical: binary(0.88), curves: curves([roc(1, 0.874)]) }),
      site('b', { curves: curves([roc(1, 0.934)]) }),
      site('c', { flag: 'accuracy 0.42, far below the other sites’', pooled: false, curves: curves([roc(1, 0.61)]) }),
    ],
    ...over,
  };
}

describe('site labels', () => {
  it('marks a flagged site left out of the pooled figures, and one an admin included', () => {
    expect(siteLabel(site('a'))).toBe('Hospital a');
    expect(siteLabel(site('c', { flag: 'far', pooled: false }))).toBe(`Hospital c (${LEFT_OUT})`);
    expect(siteLabel(site('c', { flag: 'far', pooled: true, includedBy: 'ana@example.org' }))).toBe('Hospital c (flagged, included by ana@example.org)');
    expect(isLeftOut(site('c', { flag: 'far', pooled: false }))).toBe(true);
    expect(isLeftOut(site('c', { flag: 'far', pooled: true }))).toBe(false);
    expect(isLeftOut(site('a'))).toBe(false);
  });

  it('names the pooled figures by the sites they count', () => {
    expect(pooledLabel(evaluation())).toBe('Pooled (2 sites, 1 left out)');
    expect(pooledLabel({ sites: [site('a')] })).toBe('Pooled (1 site)');
  });

  it('offers the pooled figures first, then each site, a site without metrics disabled', () => {
    const ev = evaluation();
    ev.sites.push(site('d', { clinical: null, curves: null }));
    expect(siteOptions(ev)).toEqual([
      { value: POOLED, label: 'Pooled (3 sites, 1 left out)', disabled: false },
      { value: 'a', label: 'Hospital a', disabled: false },
      { value: 'b', label: 'Hospital b', disabled: false },
      { value: 'c', label: 'Hospital c (flagged, left out)', disabled: false },
      { value: 'd', label: 'Hospital d: no clinical metrics', disabled: true },
    ]);
  });

  it('picks the pooled figures or one site’s', () => {
    const ev = evaluation();
    expect(figuresOf(ev, POOLED)).toMatchObject({ whose: 'pooled', site: null, clinical: ev.global, curves: ev.curves });
    expect(figuresOf(ev, 'c')).toMatchObject({ whose: 'Hospital c (flagged, left out)', site: ev.sites[2], curves: ev.sites[2].curves });
    expect(figuresOf(ev, 'gone').whose).toBe('pooled');
  });
});

describe('ROC', () => {
  it('draws the pooled curve and each site’s, with the AUROC under each', () => {
    const { pooled, sites } = rocSeries(evaluation(), 1);
    expect(pooled).toMatchObject({ key: POOLED, auroc: 0.911, pooled: true, note: null });
    expect(pooled.points).toHaveLength(3);
    expect(sites.map((s) => [s.name, s.auroc, s.leftOut])).toEqual([
      ['Hospital a', 0.874, false],
      ['Hospital b', 0.934, false],
      ['Hospital c (flagged, left out)', 0.61, true],
    ]);
    expect(rocLegendLabel(pooled)).toBe('Pooled (2 sites, 1 left out): AUROC 0.911');
    expect(rocLegendLabel(sites[2])).toBe('Hospital c (flagged, left out): AUROC 0.610');
  });

  it('says why a curve is missing: no histogram, one class only', () => {
    const ev = evaluation({
      aurocMethod: 'weighted-mean',
      auroc: 0.87,
      withoutHistogram: 1,
      curves: curves([], false),
      sites: [site('a', { histogram: false, clinical: binary(0.85), curves: curves([], false) }), site('b', { curves: curves([roc(1, null)]) })],
    });
    const { pooled, sites } = rocSeries(ev, 1);
    expect(pooled.points).toEqual([]);
    expect(rocLegendLabel(pooled)).toBe('Pooled (2 sites): AUROC 0.870, approximate, no curve: 1 site without score histograms');
    // A binary site without a histogram still has its own AUROC.
    expect(rocLegendLabel(sites[0])).toBe('Hospital a: AUROC 0.850, no curve: no score histogram');
    expect(rocLegendLabel(sites[1])).toBe('Hospital b: one class only');
    expect(aurocNote(ev)).toMatch(/^The pooled AUROC is approximate: 1 site sent no score histogram, so it is the sample-weighted mean/);
    expect(rocCaption(ev, 1, ['no', 'yes'])).toBe('ROC curve, pooled AUROC 0.870 (approximate); one site 0.850');
  });

  it('has no note when the pooled AUROC is the pooled scores’', () => {
    expect(aurocNote(evaluation())).toBeNull();
  });

  it('sums the chart up: pooled AUROC, the sites’ range, the sites left out', () => {
    expect(rocCaption(evaluation(), 1, ['no disease', 'disease present'])).toBe('ROC curve, pooled AUROC 0.911; sites 0.610 to 0.934; 1 site flagged, left out');
  });

  it('ranks each class against the rest in a multi-class study', () => {
    const rocs = [roc(0, 0.95), roc(1, 0.8), roc(2, 0.85)];
    const ev = evaluation({
      global: multiclass(),
      auroc: 0.867,
      curves: curves(rocs, false),
      sites: [site('a', { clinical: multiclass(), curves: curves([roc(0, 0.9), roc(1, 0.7), roc(2, null)], false) })],
    });
    expect(rocClasses(ev)).toEqual([0, 1, 2]);
    expect(rocSeries(ev, 1).pooled.auroc).toBe(0.8);
    expect(rocSeries(ev, 2).sites[0]).toMatchObject({ auroc: null, note: 'one class only' });
    expect(rocCaption(ev, 0, ['donor', 'hepatitis', 'cirrhosis'])).toBe('ROC curve, donor against the rest, pooled AUROC 0.950 (macro AUROC over the classes 0.867); one site 0.900');
  });

  it('has one class to rank in a binary study: label 1', () => {
    expect(rocClasses(evaluation())).toEqual([1]);
    expect(rocClasses({ global: null, sites: [] })).toEqual([1]);
  });

  it('without histograms, a multi-class study has no pooled AUROC and says why', () => {
    const ev = evaluation({ global: multiclass(), auroc: null, aurocMethod: null, withoutHistogram: 2, curves: curves([], false), sites: [] });
    expect(rocSeries(ev, 0).pooled).toMatchObject({ auroc: null, note: 'no curve: 2 sites without score histograms' });
    expect(aurocNote(ev)).toBe('No pooled ROC curve: 2 sites sent no score histogram.');
    expect(rocCaption(ev, 0, ['donor'])).toBe('ROC curve, donor against the rest, no pooled AUROC');
  });
});

describe('reliability', () => {
  it('offers the risk of label 1 where the report has it, the top-label confidence always', () => {
    expect(reliabilityKinds(curves([]))).toEqual(['risk', 'top-label']);
    expect(reliabilityKinds(curves([], false))).toEqual(['top-label']);
    expect(reliabilityKinds(null)).toEqual([]);
    expect(reliabilityBins(curves([]), 'risk')).toHaveLength(2);
    expect(reliabilityBins(curves([], false), 'risk')).toEqual([]);
    expect(reliabilityBins(curves([]), 'top-label')).toHaveLength(3);
  });

  it('draws one point per non-empty bin', () => {
    expect(reliabilityPoints(curves([]).reliability)).toEqual([
      { predicted: 0.65, observed: 0.6, count: 10, lower: 0.6, upper: 0.7 },
      { predicted: 0.95, observed: 0.9, count: 30, lower: 0.9, upper: 1 },
    ]);
  });

  it('weights the gap between predicted and observed by the bins’ counts, and finds the widest', () => {
    const points = reliabilityPoints([bin(0, 30, 0.1, 0.1), bin(5, 10, 0.55, 0.75)]);
    const gap = reliabilityGap(points)!;
    expect(gap.mean).toBeCloseTo(0.05);
    expect(gap.worstGap).toBeCloseTo(0.2);
    expect(gap.worst.lower).toBe(0.5);
    expect(reliabilityGap([])).toBeNull();
    expect(reliabilityCaption(points, 'pooled', 'risk')).toBe('Reliability diagram, pooled: 40 samples in 2 bins, mean gap 0.050 between predicted and observed, widest 0.200 (bin 0.5–0.6)');
    expect(reliabilityCaption([], 'Hospital c (flagged, left out)', 'top-label')).toBe('Reliability diagram (top-label), Hospital c (flagged, left out): no samples');
  });

  it('labels the axes by what is plotted', () => {
    expect(reliabilityAxes('risk', 'disease present')).toEqual({ x: 'Predicted risk of “disease present”', y: 'Observed share “disease present”' });
    // A long class name would not fit under the chart.
    expect(reliabilityAxes('risk', 'major adverse cardiac event')).toEqual({ x: 'Predicted risk (bin mean)', y: 'Observed share of label 1' });
    expect(reliabilityAxes('top-label', 'x')).toEqual({ x: 'Mean confidence (predicted class)', y: 'Observed accuracy' });
  });
});
