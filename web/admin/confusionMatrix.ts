import type { ClinicalMetrics } from '../../shared/metrics/clinical';
import type { TaskTemplate } from '../../shared/tasks/spec';
import { percent } from '../format';

/**
 * The confusion matrix as the console draws it: one row per actual class, one column per predicted
 * class, each cell's count with its share of the row (the row's recall on the diagonal), shaded by
 * that share: teal on the diagonal (right), orange off it (wrong).
 */

export interface ConfusionCell {
  predicted: number;
  count: number;
  /** The cell's share of its row (of the samples of that actual class); null when the row is empty. */
  share: number | null;
  /** On the diagonal: predicted the actual class. */
  correct: boolean;
}

export interface ConfusionRow {
  actual: number;
  total: number;
  cells: ConfusionCell[];
}

export interface ConfusionTable {
  /** Class names by class index, for both the rows (actual) and the columns (predicted). */
  classes: string[];
  rows: ConfusionRow[];
  /** Every sample counted. */
  total: number;
  /** Share of the samples on the diagonal; null without samples. */
  accuracy: number | null;
}

/** Class names by class index: a binary template's negative (label 0) and positive (label 1), or a multi-class template's classes. */
export function templateClassNames(template: Pick<TaskTemplate, 'label'> | undefined, classes: number): string[] {
  const named = template ? (template.label.classes ?? [template.label.negative, template.label.positive]) : [];
  return Array.from({ length: classes }, (_, k) => named[k] ?? `class ${k}`);
}

/** How many classes the metrics count. */
export function classCount(m: ClinicalMetrics): number {
  return m.kind === 'binary' ? 2 : m.confusion.length;
}

/** The counts by `[actual][predicted]` class index; a binary report's label 0 is the negative class. */
export function confusionCounts(m: ClinicalMetrics): number[][] {
  if (m.kind === 'binary') {
    const { tp, fp, tn, fn } = m.confusion;
    return [
      [tn, fp],
      [fn, tp],
    ];
  }
  return m.confusion.map((row) => [...row]);
}

export function confusionTable(m: ClinicalMetrics, classNames: readonly string[]): ConfusionTable {
  const counts = confusionCounts(m);
  const size = counts.length;
  const classes = Array.from({ length: size }, (_, k) => classNames[k] ?? `class ${k}`);
  let total = 0;
  let right = 0;
  const rows = counts.map((row, actual) => {
    const rowTotal = row.reduce((a, b) => a + b, 0);
    total += rowTotal;
    right += row[actual] ?? 0;
    return {
      actual,
      total: rowTotal,
      cells: Array.from({ length: size }, (_, predicted) => {
        const count = row[predicted] ?? 0;
        return { predicted, count, share: rowTotal > 0 ? count / rowTotal : null, correct: predicted === actual };
      }),
    };
  });
  return { classes, rows, total, accuracy: total > 0 ? right / total : null };
}

/** Right (diagonal) and wrong cells' colours, as RGB; the page's accent and its loss orange. */
const RIGHT_RGB = '31 138 120';
const WRONG_RGB = '194 65 12';
/** The strongest shade: dark text stays readable (contrast ≥ 4.5 : 1) on a full row. */
const MAX_ALPHA = 0.62;

/** A cell's background: its colour at an opacity growing with its share of the row; none for an empty cell. */
export function cellShade(cell: Pick<ConfusionCell, 'share' | 'correct'>): string {
  if (cell.share === null || cell.share <= 0) return 'transparent';
  const alpha = Math.round((0.06 + (MAX_ALPHA - 0.06) * Math.min(1, cell.share)) * 100) / 100;
  return `rgb(${cell.correct ? RIGHT_RGB : WRONG_RGB} / ${alpha})`;
}

/** What a screen reader hears for one cell, e.g. "actual disease present, predicted no disease: 12, 9.5% of the row". */
export function cellLabel(table: ConfusionTable, row: ConfusionRow, cell: ConfusionCell): string {
  return `actual ${table.classes[row.actual]}, predicted ${table.classes[cell.predicted]}: ${cell.count}, ${percent(cell.share)} of the row`;
}

/** The matrix in one sentence, for its caption. */
export function confusionCaption(table: ConfusionTable, whose: string): string {
  if (table.total === 0) return `Confusion matrix, ${whose}: no samples`;
  const worst = worstConfusion(table);
  const base = `Confusion matrix, ${whose}: ${table.total} samples, ${percent(table.accuracy)} on the diagonal`;
  return worst ? `${base}; most often mistaken: ${table.classes[worst.actual]} called ${table.classes[worst.predicted]} (${percent(worst.share)} of its row)` : base;
}

/** The off-diagonal cell with the largest share of its row (ties: the larger count), or null when nothing is mistaken. */
export function worstConfusion(table: ConfusionTable): { actual: number; predicted: number; share: number } | null {
  let worst: { actual: number; predicted: number; share: number; count: number } | null = null;
  for (const row of table.rows)
    for (const cell of row.cells) {
      if (cell.correct || cell.share === null || cell.count === 0) continue;
      if (!worst || cell.share > worst.share || (cell.share === worst.share && cell.count > worst.count))
        worst = { actual: row.actual, predicted: cell.predicted, share: cell.share, count: cell.count };
    }
  return worst && { actual: worst.actual, predicted: worst.predicted, share: worst.share };
}
