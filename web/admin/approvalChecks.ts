import type { ClinicalMetrics } from '../../shared/metrics/clinical';
import type { ModelVersionView } from '../../shared/protocol';

/** What the checks read of a version: the versions table's row. */
export type CheckedVersion = Pick<ModelVersionView, 'version' | 'reports' | 'accuracy' | 'clinical'>;

/**
 * The figure "better" and "worse" are judged on, pooled over the sites: AUROC for a binary model (it
 * does not depend on the 0.5 threshold), macro-F1 for a multi-class one (a model that ignores a rare
 * class scores low), accuracy where a version has no clinical metrics. Compared at the precision the
 * table shows (three decimals; accuracy to a tenth of a percent), so a difference the admin cannot
 * see never blocks an approval.
 */
export interface ComparisonMetric {
  key: 'auroc' | 'macroF1' | 'accuracy';
  label: string;
  value: (v: CheckedVersion) => number | null;
  format: (x: number) => string;
}

const AUROC: ComparisonMetric = {
  key: 'auroc',
  label: 'AUROC',
  value: (v) => (v.clinical?.kind === 'binary' ? v.clinical.auroc : null),
  format: (x) => x.toFixed(3),
};
const MACRO_F1: ComparisonMetric = {
  key: 'macroF1',
  label: 'macro-F1',
  value: (v) => (v.clinical?.kind === 'multiclass' ? v.clinical.macroF1 : null),
  format: (x) => x.toFixed(3),
};
const ACCURACY: ComparisonMetric = {
  key: 'accuracy',
  label: 'accuracy',
  value: (v) => (v.reports > 0 ? v.accuracy : null),
  format: (x) => `${(x * 100).toFixed(1)}%`,
};

/** The metric a version is compared on (see `ComparisonMetric`). */
export function comparisonMetric(v: CheckedVersion): ComparisonMetric {
  if (v.clinical?.kind === 'binary') return AUROC;
  if (v.clinical?.kind === 'multiclass') return MACRO_F1;
  return ACCURACY;
}

/** Rounded as the table shows it: three decimals (accuracy's tenth of a percent is the same step). */
const shown = (x: number) => Math.round(x * 1000);

/**
 * The one class every pooled validation prediction fell in, or null when the predictions span two
 * classes or more (or there are none). Binary: 1 is "positive", 0 "negative"; multi-class: the index.
 */
export function predictedOnlyClass(m: ClinicalMetrics | null): { predicted: number; count: number } | null {
  if (!m) return null;
  let perClass: number[];
  if (m.kind === 'binary') {
    const { tp, fp, tn, fn } = m.confusion;
    perClass = [tn + fn, tp + fp];
  } else {
    // confusion[actual][predicted]: a column sums the predictions of one class.
    const classes = Math.max(0, ...m.confusion.map((row) => row.length));
    perClass = Array.from({ length: classes }, (_, k) => m.confusion.reduce((s, row) => s + (row[k] ?? 0), 0));
  }
  const used = perClass.flatMap((n, k) => (n > 0 ? [k] : []));
  return used.length === 1 ? { predicted: used[0], count: perClass[used[0]] } : null;
}

export interface ApprovalWarning {
  kind: 'untrained' | 'unevaluated' | 'one-class' | 'worse';
  /** One sentence an admin reads before approving anyway. */
  reason: string;
}

/**
 * Why approving `candidate` for patients deserves a second look, given every version of the study:
 * it is v0 (never trained), no site has evaluated it, every pooled prediction is one class, or it is
 * worse on the comparison metric than the best earlier (lower-numbered) version. Empty: nothing found.
 */
export function approvalWarnings(candidate: CheckedVersion, versions: readonly CheckedVersion[], classNames?: readonly string[]): ApprovalWarning[] {
  const warnings: ApprovalWarning[] = [];
  const name = `v${candidate.version}`;
  if (candidate.version === 0) {
    warnings.push({ kind: 'untrained', reason: `${name} is the untrained starting model: no round has trained it.` });
  }
  if (candidate.reports === 0) {
    warnings.push({ kind: 'unevaluated', reason: `No site has evaluated ${name} yet, so nothing shows how well it predicts.` });
  }
  const only = predictedOnlyClass(candidate.clinical);
  if (only) {
    const binary = candidate.clinical?.kind === 'binary';
    const cls = classNames?.[only.predicted] ?? (binary ? (only.predicted === 1 ? 'positive' : 'negative') : `class ${only.predicted}`);
    warnings.push({
      kind: 'one-class',
      reason: `${name} predicts one class only: all ${only.count} pooled validation predictions are “${cls}”.`,
    });
  }
  const metric = comparisonMetric(candidate);
  const value = metric.value(candidate);
  if (value !== null) {
    let best: { version: number; value: number } | null = null;
    for (const v of versions) {
      if (v.version >= candidate.version) continue;
      const x = metric.value(v);
      if (x !== null && (best === null || shown(x) > shown(best.value))) best = { version: v.version, value: x };
    }
    if (best && shown(value) < shown(best.value)) {
      warnings.push({
        kind: 'worse',
        reason: `${name} is worse than v${best.version} on pooled ${metric.label}: ${metric.format(value)} against ${metric.format(best.value)}.`,
      });
    }
  }
  return warnings;
}
