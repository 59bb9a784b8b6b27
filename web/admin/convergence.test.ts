import { describe, expect, it } from 'vitest';
import { CALIBRATION_BINS, type BinaryClinicalMetrics, type MulticlassClinicalMetrics } from '../../shared/metrics/clinical';
import type { MetricSeries, PooledVersionFigures } from '../../shared/protocol/metricSeries';
import {
  availableMetrics,
  axisScale,
  balancedAccuracy,
  bestVersion,
  buildConvergence,
  latestAndBest,
  majorityBaseline,
  metricValue,
  oneClassWarning,
  predictsOneClass,
  RISING_LOSS_ROUNDS,
  risingLossWarning,
  tickDigits,
} from './convergence';

const bins = () => ({ count: new Array(CALIBRATION_BINS).fill(0), confidence: new Array(CALIBRATION_BINS).fill(0), correct: new Array(CALIBRATION_BINS).fill(0) });

function binary(confusion: { tp: number; fp: number; tn: number; fn: number }, auroc = 0.5, loss = 0.5, ece = 0.05): BinaryClinicalMetrics {
  const { tp, fp, tn, fn } = confusion;
  const n = tp + fp + tn + fn;
  return {
    kind: 'binary',
    numSamples: n,
    loss,
    accuracy: (tp + tn) / n,
    auroc,
    sensitivity: tp + fn > 0 ? tp / (tp + fn) : null,
    specificity: tn + fp > 0 ? tn / (tn + fp) : null,
    confusion,
    ece,
    calibration: bins(),
  };
}

function multiclass(confusion: number[][]): MulticlassClinicalMetrics {
  const n = confusion.flat().reduce((a, b) => a + b, 0);
  const right = confusion.reduce((s, row, k) => s + row[k], 0);
  return {
    kind: 'multiclass',
    numSamples: n,
    loss: 0.9,
    accuracy: right / n,
    confusion,
    recall: confusion.map((row, k) => {
      const total = row.reduce((a, b) => a + b, 0);
      return total > 0 ? row[k] / total : null;
    }),
    macroF1: 0.3,
    ece: 0.1,
    calibration: bins(),
  };
}

const version = (v: number, clinical: BinaryClinicalMetrics | MulticlassClinicalMetrics | null, loss: number | null = clinical?.loss ?? null): PooledVersionFigures => ({
  version: v,
  round: v === 0 ? null : v,
  numSamples: clinical?.numSamples ?? 0,
  reports: clinical ? 2 : 0,
  flagged: 0,
  loss,
  accuracy: clinical?.accuracy ?? null,
  clinical,
});

/** The lesion demo: 764 of 1,000 scans negative, every scan called negative, AUROC climbing from 0.48 to 0.997. */
const aurocs = [0.48, 0.62, 0.81, 0.93, 0.997];
const lesion: MetricSeries = {
  studyId: 'lesion',
  kind: 'binary',
  classes: ['no lesion', 'lesion'],
  privacy: null,
  versions: aurocs.map((a, v) => version(v, binary({ tp: 0, fp: 0, tn: 764, fn: 236 }, a, 0.6 - v * 0.05))),
  sites: [
    {
      participantId: 'p1',
      siteName: 'Alpha',
      points: aurocs.map((a, v) => ({ version: v, numSamples: 400, loss: 0.5, accuracy: 0.7, clinical: binary({ tp: 0, fp: 0, tn: 280, fn: 120 }, a - 0.01), pooled: true })),
    },
    {
      participantId: 'p2',
      siteName: 'Beta',
      // Beta did not report version 2.
      points: aurocs.flatMap((a, v) => (v === 2 ? [] : [{ version: v, numSamples: 600, loss: 0.5, accuracy: 0.8, clinical: binary({ tp: 0, fp: 0, tn: 484, fn: 116 }, a), pooled: true }])),
    },
  ],
};

describe('metric values', () => {
  it('reads every metric from the pooled figures, balanced accuracy as the mean recall of the classes present', () => {
    const c = binary({ tp: 30, fp: 10, tn: 50, fn: 10 }, 0.9, 0.4, 0.07);
    const f = { loss: 0.4, accuracy: 0.8, clinical: c };
    expect(metricValue(f, 'accuracy')).toBe(0.8);
    expect(metricValue(f, 'loss')).toBe(0.4);
    expect(metricValue(f, 'auroc')).toBe(0.9);
    expect(metricValue(f, 'sensitivity')).toBe(0.75);
    expect(metricValue(f, 'specificity')).toBeCloseTo(50 / 60);
    expect(metricValue(f, 'balancedAccuracy')).toBeCloseTo((0.75 + 50 / 60) / 2);
    expect(metricValue(f, 'ece')).toBe(0.07);
    // Every scan called negative: balanced accuracy is chance however high the accuracy.
    expect(balancedAccuracy(binary({ tp: 0, fp: 0, tn: 764, fn: 236 }))).toBe(0.5);
    expect(balancedAccuracy(multiclass([[5, 5, 0], [0, 10, 0], [0, 0, 0]]))).toBeCloseTo(0.75);
    expect(metricValue({ loss: null, accuracy: null, clinical: multiclass([[1]]) }, 'auroc')).toBeNull();
    expect(metricValue({ loss: 0.3, accuracy: 0.9, clinical: null }, 'sensitivity')).toBeNull();
  });

  it('offers AUROC, sensitivity and specificity for binary studies only', () => {
    expect(availableMetrics('binary').map((m) => m.key)).toEqual(['accuracy', 'balancedAccuracy', 'auroc', 'sensitivity', 'specificity', 'loss', 'ece']);
    expect(availableMetrics('multiclass').map((m) => m.key)).toEqual(['accuracy', 'balancedAccuracy', 'loss', 'ece']);
  });
});

describe('buildConvergence', () => {
  it('draws the initial model as round 0, every version in round order, with each site beside the pooled value', () => {
    const shuffled = { ...lesion, versions: [...lesion.versions].reverse() };
    const data = buildConvergence(shuffled, 'auroc');
    expect(data.rows.map((r) => [r.round, r.version, r.pooled])).toEqual(aurocs.map((a, v) => [v, v, a]));
    expect(data.sites).toEqual([
      { key: 'site0', name: 'Alpha' },
      { key: 'site1', name: 'Beta' },
    ]);
    expect(data.rows[2].site0).toBeCloseTo(0.8);
    // A version a site did not report is a gap in its curve.
    expect(data.rows[2].site1).toBeNull();
    expect(data.rounds).toBe(4);
    expect(data.best).toEqual({ version: 4, round: 4, value: 0.997 });
    expect(data.baseline).toEqual({ value: 0.5, label: 'Chance' });
  });

  it('leaves the sites out when asked, and a version without figures as a gap', () => {
    const data = buildConvergence({ ...lesion, versions: [...lesion.versions, version(5, null)] }, 'accuracy', { sites: false });
    expect(data.sites).toEqual([]);
    expect(data.rows.at(-1)).toEqual({ round: 5, version: 5, pooled: null, oneClass: null });
    // Versions whose pooled predictions all fell in one class are marked.
    expect(data.rows[0].oneClass).toBe('no lesion');
    expect(data.rows[0]).not.toHaveProperty('site0');
  });

  it('scales the axis to the values drawn, so 81 to 84 % is not a flat line', () => {
    const { domain, ticks } = axisScale([0.81, 0.83, 0.84], 'accuracy');
    expect(domain[0]).toBeLessThanOrEqual(0.81);
    expect(domain[1]).toBeGreaterThanOrEqual(0.84);
    // The three points span a good part of the axis, not 3 % of it.
    expect((0.84 - 0.81) / (domain[1] - domain[0])).toBeGreaterThan(0.3);
    expect(ticks[0]).toBe(domain[0]);
    expect(ticks.at(-1)).toBe(domain[1]);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    // Rates stay within [0, 1]; a loss stays above 0; a flat series still gets a readable axis.
    expect(axisScale([0, 0.997], 'auroc').domain).toEqual([0, 1]);
    expect(axisScale([0.05, 0.6], 'loss').domain[0]).toBe(0);
    const flat = axisScale([0.764, 0.764], 'accuracy').domain;
    expect(flat[0]).toBeLessThan(0.764);
    expect(flat[1]).toBeGreaterThan(0.764);
    expect(flat[1] - flat[0]).toBeLessThan(0.1);
    // Sensitivity 0 % throughout: 0 to 10 %, not 0 to 3 %.
    expect(axisScale([0, 0, 0], 'sensitivity').domain).toEqual([0, 0.1]);
    expect(axisScale([1, 1], 'specificity').domain).toEqual([0.9, 1]);
  });

  it('gives ticks enough decimals to tell them apart', () => {
    expect(tickDigits('accuracy', 0.02)).toBe(0);
    expect(tickDigits('accuracy', 0.005)).toBe(1);
    expect(tickDigits('auroc', 0.2)).toBe(1);
    expect(tickDigits('loss', 0.05)).toBe(2);
    expect(tickDigits('loss', 1)).toBe(0);
  });

  it('keeps the baseline inside the axis', () => {
    const data = buildConvergence(lesion, 'auroc', { sites: false });
    expect(data.domain[0]).toBeLessThanOrEqual(0.48);
    expect(data.domain[1]).toBeGreaterThanOrEqual(0.997);
  });
});

describe('majority-class baseline', () => {
  it('comes from the pooled confusion matrix’s class totals', () => {
    expect(majorityBaseline(lesion, 'accuracy')).toEqual({ value: 0.764, label: 'Majority class (always “no lesion”)' });
    expect(majorityBaseline(lesion, 'balancedAccuracy')?.value).toBe(0.5);
    expect(majorityBaseline(lesion, 'auroc')?.value).toBe(0.5);
    expect(majorityBaseline(lesion, 'sensitivity')?.value).toBe(0);
    expect(majorityBaseline(lesion, 'specificity')?.value).toBe(1);
    expect(majorityBaseline(lesion, 'loss')?.value).toBeCloseTo(-(0.764 * Math.log(0.764) + 0.236 * Math.log(0.236)));
    expect(majorityBaseline(lesion, 'ece')).toBeNull();
  });

  it('takes the largest row of a multi-class confusion matrix, and 1 / classes for balanced accuracy', () => {
    const hcv: MetricSeries = {
      studyId: 'hcv',
      kind: 'multiclass',
      classes: ['donor', 'hepatitis', 'fibrosis', 'cirrhosis'],
      versions: [version(0, multiclass([[60, 0, 0, 0], [10, 0, 0, 0], [20, 0, 0, 0], [10, 0, 0, 0]]))],
      sites: [],
      privacy: null,
    };
    expect(majorityBaseline(hcv, 'accuracy')).toEqual({ value: 0.6, label: 'Majority class (always “donor”)' });
    expect(majorityBaseline(hcv, 'balancedAccuracy')?.value).toBe(0.25);
    expect(majorityBaseline(hcv, 'auroc')).toBeNull();
  });

  it('is absent before any version has pooled clinical metrics', () => {
    expect(majorityBaseline({ classes: ['no', 'yes'], versions: [version(0, null, 0.7)] }, 'accuracy')).toBeNull();
  });
});

describe('bestVersion', () => {
  const points = [
    { version: 0, round: 0, value: 0.7 },
    { version: 1, round: 1, value: 0.4 },
    { version: 2, round: 2, value: 0.35 },
    { version: 3, round: 3, value: 0.35 },
    { version: 4, round: 4, value: null },
    { version: 5, round: 5, value: 0.5 },
  ];

  it('is the lowest loss or ECE, and the earliest of equals', () => {
    expect(bestVersion(points, 'loss')).toEqual({ version: 2, round: 2, value: 0.35 });
    expect(bestVersion(points, 'ece')?.version).toBe(2);
  });

  it('is the highest of every other metric, the initial model included', () => {
    expect(bestVersion(points, 'accuracy')).toEqual({ version: 0, round: 0, value: 0.7 });
    expect(bestVersion([], 'auroc')).toBeNull();
    expect(bestVersion([{ version: 0, round: 0, value: 0.5 }], 'auroc')?.version).toBe(0);
  });

  it('marks none when every version scores the same (sensitivity 0 % throughout)', () => {
    expect(bestVersion([0, 0, 0].map((value, v) => ({ version: v, round: v, value })), 'sensitivity')).toBeNull();
    expect(buildConvergence(lesion, 'sensitivity').best).toBeNull();
  });
});

describe('one-class warning', () => {
  it('fires when the latest version calls every record negative, and says since which version', () => {
    const w = oneClassWarning(lesion);
    expect(w).toMatchObject({ version: 4, round: 4, classIndex: 0, className: 'no lesion', numSamples: 1000, since: 0, accuracy: 0.764, majorityAccuracy: 0.764 });
  });

  it('fires when every record is called positive (tn + fn = 0)', () => {
    const series = { classes: ['no', 'yes'], versions: [version(0, binary({ tp: 0, fp: 0, tn: 90, fn: 10 })), version(1, binary({ tp: 10, fp: 90, tn: 0, fn: 0 }))] };
    expect(oneClassWarning(series)).toMatchObject({ version: 1, classIndex: 1, className: 'yes', since: 1 });
  });

  it('is quiet once the latest version predicts both classes, whatever earlier ones did', () => {
    const series = { classes: ['no', 'yes'], versions: [version(0, binary({ tp: 0, fp: 0, tn: 90, fn: 10 })), version(1, binary({ tp: 1, fp: 0, tn: 90, fn: 9 }))] };
    expect(oneClassWarning(series)).toBeNull();
    expect(oneClassWarning({ classes: ['no', 'yes'], versions: [version(0, null, 0.7)] })).toBeNull();
  });

  it('reads a multi-class matrix by its columns', () => {
    expect(predictsOneClass(multiclass([[5, 0, 0], [3, 0, 0], [2, 0, 0]]))).toBe(0);
    expect(predictsOneClass(multiclass([[0, 0, 5], [0, 0, 3], [0, 0, 2]]))).toBe(2);
    expect(predictsOneClass(multiclass([[5, 0, 0], [0, 3, 0], [2, 0, 0]]))).toBeNull();
    const series = { classes: ['donor', 'hepatitis', 'fibrosis'], versions: [version(3, multiclass([[0, 0, 5], [0, 0, 3], [0, 0, 2]]))] };
    expect(oneClassWarning(series)).toMatchObject({ version: 3, className: 'fibrosis' });
  });

  it('looks at the latest version that has been evaluated, not one whose reports are still coming', () => {
    const series = { classes: ['no', 'yes'], versions: [version(1, binary({ tp: 0, fp: 0, tn: 90, fn: 10 })), version(2, null)] };
    expect(oneClassWarning(series)?.version).toBe(1);
  });
});

describe('rising-loss warning', () => {
  const losses = (values: (number | null)[]) => values.map((loss, v) => ({ version: v, round: v === 0 ? null : v, loss }));

  it(`fires once the loss has risen ${RISING_LOSS_ROUNDS} versions in a row, naming where it turned and the lowest`, () => {
    // The heart demo: the validation loss rises after round 2.
    const w = risingLossWarning(losses([0.69, 0.5, 0.42, 0.45, 0.47, 0.52]));
    expect(w).toEqual({
      rises: 3,
      from: { version: 2, round: 2, loss: 0.42 },
      to: { version: 5, round: 5, loss: 0.52 },
      lowest: { version: 2, round: 2, loss: 0.42 },
    });
    expect(risingLossWarning(losses([0.69, 0.5, 0.42, 0.45, 0.47, 0.52, 0.6]))?.rises).toBe(4);
  });

  it('stays quiet for fewer rises, a rise broken by a fall, or a flat loss', () => {
    expect(risingLossWarning(losses([0.69, 0.5, 0.42, 0.45, 0.47]))).toBeNull();
    expect(risingLossWarning(losses([0.4, 0.45, 0.5, 0.49, 0.55]))).toBeNull();
    expect(risingLossWarning(losses([0.4, 0.4, 0.4, 0.4, 0.4]))).toBeNull();
    expect(risingLossWarning(losses([]))).toBeNull();
  });

  it('skips versions not yet evaluated, and takes k', () => {
    expect(risingLossWarning(losses([0.4, 0.45, null, 0.5, 0.55]))?.rises).toBe(3);
    expect(risingLossWarning(losses([0.4, 0.45]), 1)?.rises).toBe(1);
  });
});

describe('latestAndBest', () => {
  it('names the latest evaluated version and the best one, which may differ', () => {
    const versions = [
      { version: 0, reports: 3, accuracy: 0.5 },
      { version: 1, reports: 3, accuracy: 0.84 },
      { version: 2, reports: 3, accuracy: 0.81 },
      { version: 3, reports: 0, accuracy: null },
    ];
    expect(latestAndBest(versions)).toEqual({ latest: { version: 2, value: 0.81 }, best: { version: 1, value: 0.84 } });
    expect(latestAndBest([{ version: 0, reports: 0, accuracy: null }])).toBeNull();
  });
});
