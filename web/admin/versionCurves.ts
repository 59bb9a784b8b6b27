import type { EvaluationCurves, ReliabilityBin, RocPoint, VersionEvaluation } from '../../shared/protocol';
import { fixed } from '../format';

/**
 * What the version detail draws from a version's evaluation: the ROC curve (pooled, bold, and each
 * site's), the reliability diagram and the legends, selectors and captions that go with them. A site
 * whose report sits far from the others' and that no admin included is marked "flagged, left out".
 */

export type EvaluationSite = VersionEvaluation['sites'][number];

/** Said of a site whose report is far from the others' and not counted in the pooled figures. */
export const LEFT_OUT = 'flagged, left out';
/** The selectors' value for the pooled figures. */
export const POOLED = 'pooled';

export const isLeftOut = (site: Pick<EvaluationSite, 'flag' | 'pooled'>) => site.flag !== null && !site.pooled;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A site's name with its standing, for legends and selectors. */
export function siteLabel(site: Pick<EvaluationSite, 'siteName' | 'flag' | 'pooled' | 'includedBy'>): string {
  if (site.flag === null) return site.siteName;
  if (!site.pooled) return `${site.siteName} (${LEFT_OUT})`;
  return `${site.siteName} (flagged, included${site.includedBy ? ` by ${site.includedBy}` : ''})`;
}

/** The pooled figures' name: how many sites they count, and how many were left out. */
export function pooledLabel(ev: Pick<VersionEvaluation, 'sites'>): string {
  const counted = ev.sites.filter((s) => s.pooled).length;
  const out = ev.sites.filter(isLeftOut).length;
  return `Pooled (${plural(counted, 'site')}${out ? `, ${out} left out` : ''})`;
}

/** One entry of a figure's site selector. */
export interface SiteOption {
  value: string;
  label: string;
  /** A site without clinical metrics has nothing to show. */
  disabled: boolean;
}

export function siteOptions(ev: Pick<VersionEvaluation, 'sites'>): SiteOption[] {
  return [
    { value: POOLED, label: pooledLabel(ev), disabled: false },
    ...ev.sites.map((s) => ({ value: s.participantId, label: s.clinical ? siteLabel(s) : `${siteLabel(s)}: no clinical metrics`, disabled: !s.clinical })),
  ];
}

/** The pooled figures or one site's, by a selector's value (the pooled ones for an unknown value). */
export function figuresOf(
  ev: Pick<VersionEvaluation, 'global' | 'curves' | 'sites'>,
  value: string,
): { whose: string; site: EvaluationSite | null; clinical: VersionEvaluation['global']; curves: EvaluationCurves | null } {
  const site = value === POOLED ? undefined : ev.sites.find((s) => s.participantId === value);
  if (!site) return { whose: 'pooled', site: null, clinical: ev.global, curves: ev.curves };
  return { whose: siteLabel(site), site, clinical: site.clinical, curves: site.curves };
}

export const aurocText = (x: number | null | undefined) => fixed(x, 3);

/** One curve of the ROC chart. */
export interface RocSeries {
  /** `pooled`, or the site's participant id. */
  key: string;
  name: string;
  /** The area under the drawn curve (binary pooled without a curve: the pooled AUROC as the server gives it). */
  auroc: number | null;
  points: RocPoint[];
  pooled: boolean;
  leftOut: boolean;
  /** Why nothing is drawn, or why the AUROC is approximate. */
  note: string | null;
}

/** The classes a multi-class ROC can rank against the rest; binary: just label 1. */
export function rocClasses(ev: Pick<VersionEvaluation, 'global' | 'sites'>): number[] {
  const m = ev.global ?? ev.sites.find((s) => s.clinical)?.clinical ?? null;
  if (!m || m.kind === 'binary') return [1];
  return m.confusion.map((_, k) => k);
}

/** The pooled curve and each site's, for label 1 (binary) or one class against the rest (multi-class). */
export function rocSeries(ev: VersionEvaluation, positiveClass: number): { pooled: RocSeries; sites: RocSeries[] } {
  const binary = ev.global?.kind === 'binary' || ev.sites.some((s) => s.clinical?.kind === 'binary');
  const curve = ev.curves?.roc.find((c) => c.positiveClass === positiveClass);
  const pooledAuroc = curve ? curve.auroc : binary ? ev.auroc : null;
  const pooledNote = curve
    ? curve.auroc === null
      ? 'one class only'
      : null
    : ev.withoutHistogram > 0
      ? `${pooledAuroc !== null ? 'approximate, ' : ''}no curve: ${plural(ev.withoutHistogram, 'site')} without score histograms`
      : ev.global
        ? 'no curve'
        : 'no reports';
  const pooled: RocSeries = { key: POOLED, name: pooledLabel(ev), auroc: pooledAuroc, points: curve?.points ?? [], pooled: true, leftOut: false, note: pooledNote };
  const sites = ev.sites.map((s): RocSeries => {
    const c = s.curves?.roc.find((r) => r.positiveClass === positiveClass);
    // Without a histogram a binary site still reports its own AUROC; no curve can be drawn.
    const auroc = c ? c.auroc : s.clinical?.kind === 'binary' ? s.clinical.auroc : null;
    const note = !s.clinical ? 'no clinical metrics' : c ? (c.auroc === null ? 'one class only' : null) : 'no curve: no score histogram';
    return { key: s.participantId, name: siteLabel(s), auroc, points: c?.points ?? [], pooled: false, leftOut: isLeftOut(s), note };
  });
  return { pooled, sites };
}

/** A legend entry: the curve's name and AUROC, and why it is missing or approximate. */
export function rocLegendLabel(s: Pick<RocSeries, 'name' | 'auroc' | 'note'>): string {
  const auroc = s.auroc !== null ? `AUROC ${aurocText(s.auroc)}` : null;
  return `${s.name}: ${[auroc, s.note].filter(Boolean).join(', ') || 'no AUROC'}`;
}

/** Said under the ROC chart when the pooled AUROC is not the AUROC of the pooled scores. */
export function aurocNote(ev: Pick<VersionEvaluation, 'aurocMethod' | 'withoutHistogram' | 'auroc'>): string | null {
  const sent = `${plural(ev.withoutHistogram, 'site')} sent no score histogram`;
  if (ev.aurocMethod === 'weighted-mean')
    return `The pooled AUROC is approximate: ${sent}, so it is the sample-weighted mean of the sites’ own AUROCs (biased low on real data), and no pooled curve can be drawn.`;
  if (ev.withoutHistogram > 0) return `No pooled ROC curve: ${sent}.`;
  return null;
}

/** The ROC chart in one sentence, e.g. "ROC curve, pooled AUROC 0.911; sites 0.874 to 0.934". */
export function rocCaption(ev: VersionEvaluation, positiveClass: number, classNames: readonly string[]): string {
  const { pooled, sites } = rocSeries(ev, positiveClass);
  const multi = ev.global?.kind === 'multiclass' || ev.sites.some((s) => s.clinical?.kind === 'multiclass');
  const head = multi ? `ROC curve, ${classNames[positiveClass] ?? `class ${positiveClass}`} against the rest` : 'ROC curve';
  const approximate = ev.aurocMethod === 'weighted-mean' && !multi ? ' (approximate)' : '';
  const parts = [pooled.auroc !== null ? `${head}, pooled AUROC ${aurocText(pooled.auroc)}${approximate}` : `${head}, no pooled AUROC`];
  if (multi && ev.auroc !== null) parts[0] += ` (macro AUROC over the classes ${aurocText(ev.auroc)})`;
  const values = sites.map((s) => s.auroc).filter((a): a is number => a !== null);
  if (values.length > 1) parts.push(`sites ${aurocText(Math.min(...values))} to ${aurocText(Math.max(...values))}`);
  else if (values.length === 1) parts.push(`one site ${aurocText(values[0])}`);
  const out = sites.filter((s) => s.leftOut).length;
  if (out) parts.push(`${plural(out, 'site')} ${LEFT_OUT}`);
  return parts.join('; ');
}

/** Binary with histograms: the predicted risk of label 1; always: the top-label confidence. */
export type ReliabilityKind = 'risk' | 'top-label';

export function reliabilityKinds(curves: EvaluationCurves | null): ReliabilityKind[] {
  if (!curves) return [];
  return curves.riskReliability ? ['risk', 'top-label'] : ['top-label'];
}

export function reliabilityBins(curves: EvaluationCurves | null, kind: ReliabilityKind): ReliabilityBin[] {
  if (!curves) return [];
  return kind === 'risk' ? (curves.riskReliability ?? []) : curves.reliability;
}

/** One drawn point: a non-empty bin's mean prediction against what was observed, sized by its count. */
export interface ReliabilityPoint {
  predicted: number;
  observed: number;
  count: number;
  lower: number;
  upper: number;
}

export function reliabilityPoints(bins: readonly ReliabilityBin[]): ReliabilityPoint[] {
  return bins
    .filter((b) => b.count > 0 && b.meanPredicted !== null && b.observed !== null)
    .map((b) => ({ predicted: b.meanPredicted!, observed: b.observed!, count: b.count, lower: b.lower, upper: b.upper }));
}

/** The count-weighted mean gap between predicted and observed (top-label: the ECE), and the widest bin's. */
export function reliabilityGap(points: readonly ReliabilityPoint[]): { mean: number; worst: ReliabilityPoint; worstGap: number } | null {
  const n = points.reduce((a, p) => a + p.count, 0);
  if (n === 0) return null;
  let sum = 0;
  let worst = points[0];
  for (const p of points) {
    const gap = Math.abs(p.observed - p.predicted);
    sum += p.count * gap;
    if (gap > Math.abs(worst.observed - worst.predicted)) worst = p;
  }
  return { mean: sum / n, worst, worstGap: Math.abs(worst.observed - worst.predicted) };
}

/** Longest class name an axis label names in full (a third of the console's width holds about this much). */
const AXIS_NAME_MAX = 22;

/** The axes' labels: risk of the positive class, or the predicted class's probability against the share right. */
export function reliabilityAxes(kind: ReliabilityKind, positiveName: string): { x: string; y: string } {
  if (kind === 'top-label') return { x: 'Mean confidence (predicted class)', y: 'Observed accuracy' };
  const short = positiveName.length <= AXIS_NAME_MAX;
  return { x: short ? `Predicted risk of “${positiveName}”` : 'Predicted risk (bin mean)', y: short ? `Observed share “${positiveName}”` : 'Observed share of label 1' };
}

/** The reliability diagram in one sentence. */
export function reliabilityCaption(points: readonly ReliabilityPoint[], whose: string, kind: ReliabilityKind): string {
  const head = `Reliability diagram${kind === 'risk' ? '' : ' (top-label)'}, ${whose}`;
  const gap = reliabilityGap(points);
  if (!gap) return `${head}: no samples`;
  const n = points.reduce((a, p) => a + p.count, 0);
  const range = `${fixed(gap.worst.lower, 1)}–${fixed(gap.worst.upper, 1)}`;
  return `${head}: ${plural(n, 'sample')} in ${plural(points.length, 'bin')}, mean gap ${fixed(gap.mean, 3)} between predicted and observed, widest ${fixed(gap.worstGap, 3)} (bin ${range})`;
}
