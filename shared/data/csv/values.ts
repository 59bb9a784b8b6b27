import type { Feature, NumericFeature } from '../../tasks/spec';
import type { RowProblem } from './issues';

/** Cells that mean "no value" in hospital exports and public datasets (compared case-insensitively). */
export const MISSING_TOKENS: readonly string[] = ['', '?', 'na', 'n/a', 'nan', 'null', 'none', '.'];
const missingTokens = new Set(MISSING_TOKENS);

/** `cell` already trimmed. */
export const isMissingToken = (cell: string): boolean => missingTokens.has(cell.length <= 4 ? cell.toLowerCase() : cell);

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A plain decimal number (no hex, no `Infinity`, no thousands separators), or NaN. */
export function parseNumber(cell: string, decimal: '.' | ',' = '.'): number {
  let s = cell;
  if (decimal === ',') {
    if (s.indexOf('.') !== -1) return NaN;
    s = s.replace(',', '.');
  }
  if (!NUMBER.test(s)) return NaN;
  const x = Number(s);
  return Number.isFinite(x) ? x : NaN;
}

/** A value outside the feature's plausible range but inside its possible one: kept, and flagged in the review. */
export interface FlaggedValue {
  flagged: number;
  message: string;
}

/** A value (NaN when missing), a value kept but flagged, or why the cell does not fit the feature. */
export type CellResult = number | FlaggedValue | Omit<RowProblem, 'column'>;

export const isFlagged = (r: CellResult): r is FlaggedValue => typeof r === 'object' && 'flagged' in r;

/** The possible range of a numeric feature: its `limits`, or its plausible range when it has none. */
export const possibleRange = (f: NumericFeature): { min: number; max: number } => f.limits ?? { min: f.min, max: f.max };

const TRUE_WORDS = new Set(['true', 'yes', 'y']);
const FALSE_WORDS = new Set(['false', 'no', 'n']);

const fmt = (x: number) => String(x);

/**
 * Compiles the conversion of one feature's cells: missing tokens and the column's sentinels become
 * NaN (missing, imputed later); anything else must fit the feature's kind, codes and range.
 */
export function compileCell(feature: Feature, sentinels: readonly number[], decimal: '.' | ','): (cell: string) => CellResult {
  const isSentinel = (x: number) => sentinels.length > 0 && sentinels.includes(x);
  switch (feature.kind) {
    case 'numeric': {
      const { min, max, integer } = feature;
      const possible = possibleRange(feature);
      const unit = feature.unit ? ` ${feature.unit}` : '';
      // "serum cholesterol", but "ST depression": an abbreviation keeps its capitals.
      const name = /^[A-Z][a-z]/.test(feature.label) ? feature.label[0].toLowerCase() + feature.label.slice(1) : feature.label;
      return (cell) => {
        if (isMissingToken(cell)) return NaN;
        const x = parseNumber(cell, decimal);
        if (Number.isNaN(x)) return { kind: 'unparseable-number', value: cell, message: `"${cell}" is not a number` };
        if (isSentinel(x)) return NaN;
        if (integer && !Number.isInteger(x)) return { kind: 'not-integer', value: cell, message: `${cell} is not a whole number` };
        if (x === 0 && feature.cannotBeZero)
          return { kind: 'out-of-range', value: cell, message: `0 is not a possible ${name} (exports write 0 for "not measured": accept it as missing)` };
        if (x < possible.min || x > possible.max)
          return { kind: 'out-of-range', value: cell, message: `${cell} is impossible for ${name}: outside ${fmt(possible.min)}–${fmt(possible.max)}${unit}` };
        if (x < min || x > max) return { flagged: x, message: `${cell} is outside the plausible ${fmt(min)}–${fmt(max)}${unit}: kept, check it` };
        return x;
      };
    }
    case 'binary': {
      const [zero, one] = feature.values.map((v) => v.toLowerCase());
      // A word, or its first letter when the two words start differently ("f"/"m", "n"/"y").
      const words = new Map<string, number>([
        [zero, 0],
        [one, 1],
      ]);
      if (zero[0] !== one[0]) {
        words.set(zero[0], 0);
        words.set(one[0], 1);
      }
      for (const w of TRUE_WORDS) if (!words.has(w)) words.set(w, 1);
      for (const w of FALSE_WORDS) if (!words.has(w)) words.set(w, 0);
      const expected = `0/1 (${feature.values[0]}/${feature.values[1]})`;
      return (cell) => {
        if (isMissingToken(cell)) return NaN;
        const x = parseNumber(cell, decimal);
        if (!Number.isNaN(x)) {
          if (isSentinel(x)) return NaN;
          if (x === 0 || x === 1) return x;
          return { kind: 'invalid-binary', value: cell, message: `${cell} is not ${expected}` };
        }
        const w = words.get(cell.toLowerCase());
        if (w !== undefined) return w;
        return { kind: 'invalid-binary', value: cell, message: `"${cell}" is not ${expected}` };
      };
    }
    case 'categorical': {
      const codes = new Set(feature.categories.map((c) => c.code));
      const byLabel = new Map(feature.categories.map((c) => [c.label.toLowerCase(), c.code]));
      const known = feature.categories.map((c) => c.code).join(', ');
      return (cell) => {
        if (isMissingToken(cell)) return NaN;
        const x = parseNumber(cell, decimal);
        if (!Number.isNaN(x)) {
          if (isSentinel(x)) return NaN;
          if (codes.has(x)) return x;
          return { kind: 'unknown-category', value: cell, message: `${cell} is not a ${feature.label.toLowerCase()} code (${known})` };
        }
        const code = byLabel.get(cell.toLowerCase());
        if (code !== undefined) return code;
        return { kind: 'unknown-category', value: cell, message: `"${cell}" is not a ${feature.label.toLowerCase()} code (${known})` };
      };
    }
  }
}
