import type { ClinicalMetrics } from '../../shared/metrics/clinical';
import type { MetricSeries } from '../../shared/protocol/metricSeries';

/*
 * What the convergence chart and the model warnings show, as pure functions of the versions' pooled
 * figures and the sites' reports (GET /api/studies/:id/metrics).
 *
 * Rules, fixed here so the chart, the warnings and their tests agree:
 * - x is the round that made the version; the initial model (version 0) is round 0.
 * - The majority-class baseline comes from the pooled confusion matrix's class totals (the latest
 *   version that has one): accuracy max(tp + fn, tn + fp) / n (multi-class: the largest row sum / n);
 *   sensitivity and specificity what always answering the majority class gives (0 or 100 %); balanced
 *   accuracy 1 / classes (0.5 binary) and AUROC 0.5, chance; loss the cross-entropy of forecasting the
 *   class frequencies (no skill). ECE has none: a constant forecast of the frequencies is calibrated.
 * - The best version maximises the chosen metric (minimises loss and ECE); a tie goes to the earlier
 *   version, the one reached first; when every version scores the same, none is marked.
 * - One-class warning: the latest evaluated version's pooled confusion has every prediction in one
 *   class (binary: tp + fp = 0 or tn + fn = 0; multi-class: one non-empty column).
 * - Rising-loss warning: the pooled validation loss rose at each of the last RISING_LOSS_ROUNDS
 *   evaluated versions in a row (three: one rise is noise between rounds, two can be the sampling of
 *   other sites; three in a row is the overfitting or divergence an admin should stop for).
 */

export type MetricKey = 'accuracy' | 'balancedAccuracy' | 'auroc' | 'sensitivity' | 'specificity' | 'loss' | 'ece';

export interface MetricInfo {
  key: MetricKey;
  /** Short name: the picker's and the axis's label. */
  label: string;
  /** A rate in [0, 1], shown as a percentage; otherwise a number of its own scale. */
  unit: 'percent' | 'score' | 'nats';
  lowerIsBetter: boolean;
  /** Defined for binary templates only (multi-class reports carry per-class recall instead). */
  binaryOnly: boolean;
  /** What it says, for the picker's tooltip. */
  help: string;
}

export const METRICS: readonly MetricInfo[] = [
  { key: 'accuracy', label: 'Accuracy', unit: 'percent', lowerIsBetter: false, binaryOnly: false, help: 'Share of validation records classified right' },
  { key: 'balancedAccuracy', label: 'Balanced accuracy', unit: 'percent', lowerIsBetter: false, binaryOnly: false, help: 'Mean of the per-class recalls: a model that ignores a rare class scores no better than chance' },
  { key: 'auroc', label: 'AUROC', unit: 'score', lowerIsBetter: false, binaryOnly: true, help: 'Area under the ROC curve: how well the scores rank positives above negatives (0.5 is chance)' },
  { key: 'sensitivity', label: 'Sensitivity', unit: 'percent', lowerIsBetter: false, binaryOnly: true, help: 'Share of positive cases called positive (threshold 0.5)' },
  { key: 'specificity', label: 'Specificity', unit: 'percent', lowerIsBetter: false, binaryOnly: true, help: 'Share of negative cases called negative (threshold 0.5)' },
  { key: 'loss', label: 'Validation loss', unit: 'nats', lowerIsBetter: true, binaryOnly: false, help: 'Mean cross-entropy on the validation records (lower is better)' },
  { key: 'ece', label: 'ECE', unit: 'percent', lowerIsBetter: true, binaryOnly: false, help: 'Expected calibration error: how far confidence is from accuracy (lower is better)' },
];

export function metricInfo(key: MetricKey): MetricInfo {
  return METRICS.find((m) => m.key === key)!;
}

export function availableMetrics(kind: MetricSeries['kind']): MetricInfo[] {
  return METRICS.filter((m) => kind === 'binary' || !m.binaryOnly);
}

/** Decimals that tell ticks `step` apart, in the metric's unit (percent: of the percentage). */
export function tickDigits(key: MetricKey, step: number): number {
  const shown = metricInfo(key).unit === 'percent' ? step * 100 : step;
  return Math.max(0, Math.min(4, Math.ceil(-Math.log10(shown) - 1e-9)));
}

/** A value in the metric's own unit, for ticks, tooltips and the summary. */
export function formatMetric(key: MetricKey, value: number | null, digits?: number): string {
  if (value === null || !Number.isFinite(value)) return '—';
  const { unit } = metricInfo(key);
  if (unit === 'percent') return `${(value * 100).toFixed(digits ?? 1)}%`;
  return value.toFixed(digits ?? 3);
}

/** The figures one evaluation carries: a version's pooled ones, or one site's report. */
export interface Figures {
  loss: number | null;
  accuracy: number | null;
  clinical: ClinicalMetrics | null;
}

/** Mean recall over the classes present (binary: the mean of sensitivity and specificity). */
export function balancedAccuracy(c: ClinicalMetrics): number | null {
  const recalls = c.kind === 'binary' ? [c.sensitivity, c.specificity] : c.recall;
  const present = recalls.filter((r): r is number => r !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
}

export function metricValue(f: Figures, key: MetricKey): number | null {
  const c = f.clinical;
  switch (key) {
    case 'accuracy':
      return f.accuracy ?? c?.accuracy ?? null;
    case 'loss':
      return f.loss ?? c?.loss ?? null;
    case 'ece':
      return c ? c.ece : null;
    case 'balancedAccuracy':
      return c ? balancedAccuracy(c) : null;
    case 'auroc':
      return c?.kind === 'binary' ? c.auroc : null;
    case 'sensitivity':
      return c?.kind === 'binary' ? c.sensitivity : null;
    case 'specificity':
      return c?.kind === 'binary' ? c.specificity : null;
  }
}

/** Actual class totals (rows) and predicted class totals (columns), by class index; binary is [negative, positive]. */
export function classTotals(c: ClinicalMetrics): { actual: number[]; predicted: number[] } {
  if (c.kind === 'binary') {
    const { tp, fp, tn, fn } = c.confusion;
    return { actual: [tn + fp, tp + fn], predicted: [tn + fn, tp + fp] };
  }
  return {
    actual: c.confusion.map((row) => row.reduce((a, b) => a + b, 0)),
    predicted: c.confusion.map((_, p) => c.confusion.reduce((s, row) => s + row[p], 0)),
  };
}

export interface Baseline {
  value: number;
  /** What the line is, in words, for its label. */
  label: string;
}

/** The pooled confusion the baseline's class totals come from: the latest version that has one. */
function latestPooledClinical(series: Pick<MetricSeries, 'versions'>): ClinicalMetrics | null {
  const withClinical = [...series.versions].filter((v) => v.clinical && v.clinical.numSamples > 0).sort((a, b) => b.version - a.version);
  return withClinical[0]?.clinical ?? null;
}

/** What always answering the majority class (or chance, where that is the reference) scores on the chosen metric. */
export function majorityBaseline(series: Pick<MetricSeries, 'versions' | 'classes'>, key: MetricKey): Baseline | null {
  const c = latestPooledClinical(series);
  if (!c) return null;
  const { actual } = classTotals(c);
  const n = actual.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const majority = actual.indexOf(Math.max(...actual));
  const name = series.classes[majority] ?? `class ${majority}`;
  switch (key) {
    case 'accuracy':
      return { value: actual[majority] / n, label: `Majority class (always “${name}”)` };
    case 'balancedAccuracy':
      return { value: 1 / actual.length, label: 'Majority class / chance' };
    case 'auroc':
      return c.kind === 'binary' ? { value: 0.5, label: 'Chance' } : null;
    case 'sensitivity':
    case 'specificity': {
      if (c.kind !== 'binary') return null;
      const positiveMajority = majority === 1;
      const value = key === 'sensitivity' ? (positiveMajority ? 1 : 0) : positiveMajority ? 0 : 1;
      return { value, label: `Majority class (always “${name}”)` };
    }
    case 'loss': {
      const entropy = actual.reduce((s, k) => (k > 0 ? s - (k / n) * Math.log(k / n) : s), 0);
      return { value: entropy, label: 'Class frequencies (no skill)' };
    }
    case 'ece':
      return null;
  }
}

/** The round a version is drawn at: the one that made it, or 0 for the initial model. */
export function roundOf(v: { version: number; round: number | null }): number | null {
  return v.version === 0 ? 0 : v.round;
}

export interface Best {
  version: number;
  round: number;
  value: number;
}

/** The version with the best value of the metric; the earliest of equals; none when every version scores the same. */
export function bestVersion(points: readonly { version: number; round: number; value: number | null }[], key: MetricKey): Best | null {
  const lower = metricInfo(key).lowerIsBetter;
  let best: Best | null = null;
  let differ = false;
  for (const p of [...points].sort((a, b) => a.version - b.version)) {
    if (p.value === null || !Number.isFinite(p.value)) continue;
    if (best && p.value !== best.value) differ = true;
    if (!best || (lower ? p.value < best.value : p.value > best.value)) best = { version: p.version, round: p.round, value: p.value };
  }
  // Sensitivity 0 % at every version has no best version to point at.
  const evaluated = points.filter((p) => p.value !== null && Number.isFinite(p.value)).length;
  return evaluated > 1 && !differ ? null : best;
}

export interface ChartRow {
  round: number;
  version: number;
  pooled: number | null;
  /** The one class the pooled predictions all fell in (null: several, or not evaluated). */
  oneClass: string | null;
  /** Site values by series key (`site0`, `site1`, ...). */
  [site: `site${number}`]: number | null;
}

export interface ConvergenceData {
  metric: MetricKey;
  rows: ChartRow[];
  sites: { key: `site${number}`; name: string }[];
  baseline: Baseline | null;
  best: Best | null;
  /** The y axis, scaled to what is drawn: [low, high] and its ticks. */
  domain: [number, number];
  ticks: number[];
  /** Rounds drawn (aggregated versions; the initial model not counted). */
  rounds: number;
}

/** The chart's data for one metric: one row per version in round order, the pooled value beside each site's. */
export function buildConvergence(series: MetricSeries, metric: MetricKey, opts: { sites?: boolean } = {}): ConvergenceData {
  const withSites = opts.sites ?? true;
  const siteKeys = series.sites.map((s, i) => ({ key: `site${i}` as const, name: s.siteName }));
  const rows: ChartRow[] = [];
  for (const v of [...series.versions].sort((a, b) => a.version - b.version)) {
    const round = roundOf(v);
    if (round === null) continue;
    const only = v.clinical && v.clinical.numSamples > 0 ? predictsOneClass(v.clinical) : null;
    const row: ChartRow = { round, version: v.version, pooled: metricValue(v, metric), oneClass: only === null ? null : (series.classes[only] ?? `class ${only}`) };
    if (withSites)
      series.sites.forEach((s, i) => {
        const point = s.points.find((p) => p.version === v.version);
        row[`site${i}`] = point ? metricValue(point, metric) : null;
      });
    rows.push(row);
  }
  rows.sort((a, b) => a.round - b.round || a.version - b.version);
  const baseline = majorityBaseline(series, metric);
  const best = bestVersion(
    rows.map((r) => ({ version: r.version, round: r.round, value: r.pooled })),
    metric,
  );
  const drawn: number[] = [];
  for (const r of rows) {
    if (r.pooled !== null) drawn.push(r.pooled);
    if (withSites) for (const s of siteKeys) if (r[s.key] != null) drawn.push(r[s.key]!);
  }
  if (baseline) drawn.push(baseline.value);
  const { domain, ticks } = axisScale(drawn, metric);
  return {
    metric,
    rows,
    sites: withSites ? siteKeys : [],
    baseline,
    best,
    domain,
    ticks,
    rounds: rows.filter((r) => r.version !== 0).length,
  };
}

/** A tick step of 1, 2, 2.5 or 5 times a power of ten, near span / 5. */
function niceStep(span: number): number {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * power;
}

/**
 * The y axis scaled to the values drawn (not to the metric's whole range, which flattens 81 to 84 %
 * into a line), with a little room either side, on round ticks; rates stay within [0, 1], a loss above 0.
 */
export function axisScale(values: readonly number[], key: MetricKey): { domain: [number, number]; ticks: number[] } {
  const rate = metricInfo(key).unit !== 'nats';
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { domain: [0, 1], ticks: [0, 0.25, 0.5, 0.75, 1] };
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  // A flat series still gets an axis a few points wide, centred on it.
  const minSpan = rate ? 0.05 : Math.max(0.02, Math.abs(hi) * 0.1);
  if (hi - lo < minSpan) {
    const mid = (hi + lo) / 2;
    lo = mid - minSpan / 2;
    hi = mid + minSpan / 2;
  }
  const pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  lo = Math.max(0, lo);
  if (rate) hi = Math.min(1, hi);
  // Pinned at 0 % (or 100 %), a flat rate would otherwise sit on an axis a few points wide.
  if (rate && lo === 0) hi = Math.max(hi, 0.1);
  if (rate && hi === 1) lo = Math.min(lo, 0.9);
  const step = niceStep(hi - lo);
  const low = Math.max(0, Math.floor(lo / step + 1e-9) * step);
  const high = rate ? Math.min(1, Math.ceil(hi / step - 1e-9) * step) : Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = Math.round(low / step); i * step <= high + step / 1e6; i++) ticks.push(Number((i * step).toPrecision(12)));
  return { domain: [ticks[0], ticks.at(-1)!], ticks };
}

// Warnings.

export interface OneClassWarning {
  version: number;
  round: number | null;
  /** The one class every prediction fell in. */
  classIndex: number;
  className: string;
  numSamples: number;
  /** The first version of the run of versions, up to the latest, that all predict that one class. */
  since: number;
  accuracy: number | null;
  /** What always answering the majority class would score. */
  majorityAccuracy: number | null;
}

/** The one class every prediction of this confusion matrix fell in, or null when there are several (or none). */
export function predictsOneClass(c: ClinicalMetrics): number | null {
  const { predicted } = classTotals(c);
  const used = predicted.flatMap((n, k) => (n > 0 ? [k] : []));
  return used.length === 1 ? used[0] : null;
}

/** Warns when the latest evaluated version puts every pooled validation record in one class. */
export function oneClassWarning(series: Pick<MetricSeries, 'versions' | 'classes'>): OneClassWarning | null {
  const evaluated = series.versions.filter((v) => v.clinical && v.clinical.numSamples > 0).sort((a, b) => b.version - a.version);
  const latest = evaluated[0];
  if (!latest?.clinical) return null;
  const only = predictsOneClass(latest.clinical);
  if (only === null) return null;
  let since = latest.version;
  for (const v of evaluated.slice(1)) {
    if (predictsOneClass(v.clinical!) !== only) break;
    since = v.version;
  }
  const accuracyBaseline = majorityBaseline(series, 'accuracy');
  return {
    version: latest.version,
    round: latest.round,
    classIndex: only,
    className: series.classes[only] ?? `class ${only}`,
    numSamples: latest.clinical.numSamples,
    since,
    accuracy: latest.accuracy ?? latest.clinical.accuracy,
    majorityAccuracy: accuracyBaseline?.value ?? null,
  };
}

/** Rises in a row that make the rising-loss warning. */
export const RISING_LOSS_ROUNDS = 3;

export interface RisingLossWarning {
  /** Consecutive rises, up to the latest evaluated version (at least RISING_LOSS_ROUNDS). */
  rises: number;
  /** The version before the first rise, and the latest. */
  from: { version: number; round: number | null; loss: number };
  to: { version: number; round: number | null; loss: number };
  /** The lowest pooled loss of any version. */
  lowest: { version: number; round: number | null; loss: number };
}

/** Warns when the pooled validation loss rose at each of the last `k` evaluated versions. */
export function risingLossWarning(
  versions: readonly { version: number; round: number | null; loss: number | null }[],
  k = RISING_LOSS_ROUNDS,
): RisingLossWarning | null {
  const evaluated = versions
    .filter((v): v is { version: number; round: number | null; loss: number } => v.loss !== null && Number.isFinite(v.loss))
    .sort((a, b) => a.version - b.version);
  let rises = 0;
  for (let i = evaluated.length - 1; i > 0 && evaluated[i].loss > evaluated[i - 1].loss; i--) rises++;
  if (rises < k) return null;
  const pick = (v: { version: number; round: number | null; loss: number }) => ({ version: v.version, round: v.round, loss: v.loss });
  const lowest = evaluated.reduce((a, b) => (b.loss < a.loss ? b : a));
  return { rises, from: pick(evaluated[evaluated.length - 1 - rises]), to: pick(evaluated[evaluated.length - 1]), lowest: pick(lowest) };
}

// The study header's accuracy: the latest version's, and the best one's.

export interface LatestAndBest {
  latest: { version: number; value: number };
  best: { version: number; value: number };
}

/** The latest version that has the figure, and the best one (highest; the earliest of equals). */
export function latestAndBest(versions: readonly { version: number; reports: number; accuracy: number | null }[]): LatestAndBest | null {
  const evaluated = versions
    .filter((v): v is { version: number; reports: number; accuracy: number } => v.accuracy !== null && v.reports > 0)
    .sort((a, b) => a.version - b.version);
  if (evaluated.length === 0) return null;
  const latest = evaluated.at(-1)!;
  const best = evaluated.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  return { latest: { version: latest.version, value: latest.accuracy }, best: { version: best.version, value: best.accuracy } };
}
