import type { Feature, TaskTemplate } from '../../tasks/spec';
import { labelClasses } from '../stats';
import { compileLabelRule, type LabelRule } from './labelRule';
import { guessLabelRule, type ColumnMapping } from './mapping';
import { isFlagged, isMissingToken, parseNumber, possibleRange, type CellResult } from './values';

/**
 * What the import review proposes on its own, for the person to accept in one click (the page) or by
 * default (`npm run import:check`): reading a file in the template's order when its names say nothing
 * but its values fit, and per-column codes for "missing". Nothing here changes what is kept: a
 * proposal only takes effect once accepted, and the rows are then checked as strictly as ever.
 */

/** Numbers exports conventionally write for "not recorded". Only ever proposed where they cannot be a plausible value. */
export const CONVENTIONAL_MISSING_CODES: readonly number[] = [-9, -99, -999, -9999, 99, 999, 9999];

/** A column's share of values that must fit its feature for the file to be read in the template's order. */
export const POSITIONAL_FIT = 0.95;

/** A cell of dashes, slashes, dots, stars or the like: a placeholder, not a value. */
const BLANK_LIKE = /^[\p{P}\p{S}\s]+$/u;
/** A number written in words is a value someone typed, not a code: it is refused, never proposed. */
const NUMBER_WORD = /\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(thir|four|fif|six|seven|eigh|nine)teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand)\b/i;

/** The most distinct odd cells remembered per column (a code repeats; a long tail of odd values is not a code). */
const MAX_ODD_VALUES = 200;
/** A label column has a handful of values; more than this and the last column is not a label. */
const MAX_LABEL_VALUES = 10;

export interface MissingCodeProposal {
  column: number;
  columnName: string;
  feature: string;
  featureLabel: string;
  /** The cell as the file writes it. */
  code: string;
  /** The code as a number (it goes to the mapping's `sentinels`), or null for a text code (`missingText`). */
  number: number | null;
  /** Rows whose cell in this column is the code. */
  count: number;
  reason: string;
}

export interface PositionalProposal {
  mapping: ColumnMapping;
  reason: string;
}

/** Cells read as missing without asking (blank, `?`, `NA`, `N/A`, `NaN`, `null`, `none`, `.`), per column. */
export interface MissingReadout {
  column: number;
  columnName: string;
  token: string;
  count: number;
}

type CellClass = 'ok' | 'missing' | 'flagged' | 'bad';

/** Counts one column's cells by how they read for a feature, and remembers the odd ones (not a plain plausible value). */
export class ColumnProfile {
  readonly counts: Record<CellClass, number> = { ok: 0, missing: 0, flagged: 0, bad: 0 };
  /** Odd cell → how often, and how it read. */
  readonly odd = new Map<string, { count: number; kind: Exclude<CellClass, 'ok'> }>();

  add(cell: string, result: CellResult): void {
    let kind: CellClass;
    if (typeof result === 'number') kind = Number.isNaN(result) ? 'missing' : 'ok';
    else kind = isFlagged(result) ? 'flagged' : 'bad';
    this.counts[kind]++;
    if (kind === 'ok') return;
    const seen = this.odd.get(cell);
    if (seen) seen.count++;
    else if (this.odd.size < MAX_ODD_VALUES) this.odd.set(cell, { count: 1, kind });
  }
}

/** Every value of a column, while there are few distinct ones (a label column). */
export class ValueCounts {
  readonly counts = new Map<string, number>();
  overflow = false;
  add(cell: string): void {
    if (this.overflow) return;
    this.counts.set(cell, (this.counts.get(cell) ?? 0) + 1);
    if (this.counts.size > MAX_LABEL_VALUES + 8) this.overflow = true;
  }
}

const fmt = (x: number) => String(x);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function expected(f: Feature): string {
  if (f.kind === 'numeric') return `the plausible ${fmt(f.min)}–${fmt(f.max)}${f.unit ? ` ${f.unit}` : ''}`;
  if (f.kind === 'binary') return `0/1 (${f.values[0]}/${f.values[1]})`;
  return `codes ${f.categories.map((c) => c.code).join(', ')}`;
}

/**
 * The missing-value codes of one feature column, from what its cells turned out to be:
 *  - a placeholder made of punctuation alone (`-`, `--`, `/`, `*`), however often;
 *  - a word with no digit, not a number written out, that is no value of the feature and repeats
 *    (`n.d.`, `unknown`, `#N/A`): a repeated word is a convention, not a garbled measurement
 *    (`sixty-two`, once, is refused as not a number);
 *  - a conventional code (−9, −99, −999, −9999, 99, 999, 9999) that cannot be read as a plausible
 *    value of the feature (outside its plausible range, or not one of its codes) and repeats;
 *  - 0 in a feature the template marks `cannotBeZero` (no serum cholesterol is 0), however often.
 * A value inside the plausible range is never proposed: 99 is a real age, 0 a real ST depression.
 */
export function detectMissingCodes(feature: Feature, column: number, columnName: string, profile: ColumnProfile, decimal: '.' | ','): MissingCodeProposal[] {
  const out: MissingCodeProposal[] = [];
  const label = feature.label;
  for (const [code, { count, kind }] of profile.odd) {
    if (kind === 'missing') continue; // blank, ?, NA... or a code already accepted
    const x = parseNumber(code, decimal);
    let reason: string | null = null;
    if (Number.isNaN(x)) {
      if (BLANK_LIKE.test(code)) reason = `"${code}" (${plural(count, 'row')}) holds no value: it stands for a missing value`;
      else if (!/\d/.test(code) && !NUMBER_WORD.test(code) && count >= 2)
        reason = `"${code}" (${plural(count, 'row')}) is a word, not a number or a value of ${label}: it stands for a missing value`;
    } else if (x === 0 && feature.kind === 'numeric' && feature.cannotBeZero) {
      reason = `0 (${plural(count, 'row')}): ${label} cannot be 0, so 0 stands for "not measured"`;
    } else if (CONVENTIONAL_MISSING_CODES.includes(x) && count >= 2) {
      // flagged or bad: outside the plausible range, or not one of the feature's codes
      reason = `${code} (${plural(count, 'row')}) is a conventional missing-value code, and not a plausible ${label} (${expected(feature)})`;
    }
    if (reason)
      out.push({ column, columnName, feature: feature.name, featureLabel: label, code, number: Number.isNaN(x) ? null : x, count, reason });
  }
  return out.sort((a, b) => b.count - a.count);
}

/** The blank, `?`, `NA`... cells of a column that were read as missing, with their counts. */
export function missingReadouts(column: number, columnName: string, profile: ColumnProfile): MissingReadout[] {
  const out: MissingReadout[] = [];
  for (const [token, { count, kind }] of profile.odd) if (kind === 'missing' && isMissingToken(token)) out.push({ column, columnName, token, count });
  return out.sort((a, b) => b.count - a.count);
}

/** The mapping with one more accepted missing-value code. */
export function acceptMissingCode(mapping: ColumnMapping, p: Pick<MissingCodeProposal, 'column' | 'code' | 'number'>): ColumnMapping {
  if (p.number !== null) {
    const existing = mapping.sentinels.find((s) => s.column === p.column);
    const sentinels = existing
      ? mapping.sentinels.map((s) => (s === existing ? { ...s, values: [...new Set([...s.values, p.number!])] } : s))
      : [...mapping.sentinels, { column: p.column, values: [p.number] }];
    return { ...mapping, sentinels };
  }
  const existing = mapping.missingText.find((s) => s.column === p.column);
  const missingText = existing
    ? mapping.missingText.map((s) => (s === existing ? { ...s, values: [...new Set([...s.values, p.code])] } : s))
    : [...mapping.missingText, { column: p.column, values: [p.code] }];
  return { ...mapping, missingText };
}

export interface PositionalResult {
  proposal: PositionalProposal | null;
  /** Why the file's columns cannot be read in the template's order, when they cannot. */
  misfit: string | null;
}

/**
 * Whether a file with one column per feature then the label, whose names matched nothing, can be
 * read in the template's order: in every feature column at least 95% of the values (missing cells
 * and detected missing-value codes aside) are plausible for the feature at that position, and the
 * last column holds a handful of values a label rule reads.
 */
export function positionalProposal(
  template: TaskTemplate,
  columnNames: readonly string[],
  profiles: readonly ColumnProfile[],
  labelValues: ValueCounts,
  decimal: '.' | ',',
): PositionalResult {
  const T = template.features.length;
  const misfits: string[] = [];
  let outside = 0;
  template.features.forEach((f, j) => {
    const p = profiles[j];
    const codes = detectMissingCodes(f, j, columnNames[j], p, decimal);
    const coded = codes.reduce((n, c) => n + c.count, 0);
    const present = p.counts.ok + p.counts.flagged + p.counts.bad - coded;
    const off = present - p.counts.ok;
    outside += off;
    if (present > 0 && p.counts.ok < POSITIONAL_FIT * present) {
      const kind = f.kind === 'numeric' ? `outside ${expected(f)}` : `not ${expected(f)}`;
      misfits.push(`column ${j + 1} ("${columnNames[j]}") as ${f.label}: ${off} of ${present} values ${kind}`);
    }
  });
  const labelName = columnNames[T];
  const present = [...labelValues.counts].filter(([v]) => !isMissingToken(v));
  let rule: LabelRule | null = null;
  if (labelValues.overflow) misfits.push(`column ${T + 1} ("${labelName}") as the label: it holds more than ${MAX_LABEL_VALUES} different values`);
  else if (present.length > 0) {
    const classes = labelClasses(template);
    rule = guessLabelRule(T, present.map(([v]) => v), decimal, classes);
    const read = compileLabelRule(rule, (c) => parseNumber(c, decimal), classes.length);
    const total = present.reduce((n, [, k]) => n + k, 0);
    const readable = present.reduce((n, [v, k]) => n + ('label' in read(v) ? k : 0), 0);
    if (readable < POSITIONAL_FIT * total) misfits.push(`column ${T + 1} ("${labelName}") as the label: ${total - readable} of ${total} values are not a label`);
  } else misfits.push(`column ${T + 1} ("${labelName}") as the label: it is empty`);
  if (misfits.length > 0 || !rule) {
    const shown = misfits.slice(0, 4).join('; ') + (misfits.length > 4 ? `; and ${misfits.length - 4} more` : '');
    return { proposal: null, misfit: `The file has ${T + 1} columns, as many as ${template.name}'s ${T} features and label, but its values do not fit the template's order: ${shown}.` };
  }
  const features = Object.fromEntries(template.features.map((f, j) => [f.name, j]));
  const but = outside > 0 ? ` but for ${plural(outside, 'value')}, flagged or refused on their rows` : '';
  return {
    proposal: {
      mapping: { features, label: rule, sentinels: [], missingText: [] },
      reason: `${T + 1} columns in the template's order (${T} features, then the label): every column's values fit its feature's range${but} (missing values aside).`,
    },
    misfit: null,
  };
}
