import { z } from 'zod';
import { labelRuleVariants } from '../../tasks/spec';

/**
 * How a file's column becomes the label. A deliberately small language:
 *  - `direct`: the column already holds the label: 0 and 1, or the class index of a multi-class study;
 *  - `compare`: 1 when the column's number compares true (`num > 0` turns the UCI 0–4 scale into 0/1);
 *  - `match`: 1 when the text is one of `positive`; 0 when it is one of `negative` (or anything else
 *    when `negative` is left out);
 *  - `classes`: multi-class studies; `values[k]` lists the texts (or numbers) that mean class k.
 */
const column = z.number().int().min(0);

export const labelRuleSchema = z.discriminatedUnion('kind', [
  labelRuleVariants.direct.extend({ column }),
  labelRuleVariants.compare.extend({ column }),
  labelRuleVariants.match.extend({ column }),
  labelRuleVariants.classes.extend({ column }),
]);
export type LabelRule = z.infer<typeof labelRuleSchema>;
export type CompareOp = Extract<LabelRule, { kind: 'compare' }>['op'];

export type LabelOutcome = { label: number } | { invalid: string };

function compare(x: number, op: CompareOp, v: number): boolean {
  switch (op) {
    case '>':
      return x > v;
    case '>=':
      return x >= v;
    case '<':
      return x < v;
    case '<=':
      return x <= v;
    case '==':
      return x === v;
    case '!=':
      return x !== v;
  }
}

/**
 * Compiles a rule to a function of the (trimmed, present) cell; `parseNumber` gives NaN for
 * non-numbers; `classCount` is 2 for a binary study.
 */
export function compileLabelRule(rule: LabelRule, parseNumber: (cell: string) => number, classCount = 2): (cell: string) => LabelOutcome {
  switch (rule.kind) {
    case 'direct': {
      const expected = classCount === 2 ? 'is neither 0 nor 1' : `is not a class number (0–${classCount - 1})`;
      return (cell) => {
        const x = parseNumber(cell);
        if (Number.isInteger(x) && x >= 0 && x < classCount) return { label: x };
        return { invalid: Number.isNaN(x) ? 'is not a number' : expected };
      };
    }
    case 'compare':
      return (cell) => {
        const x = parseNumber(cell);
        if (Number.isNaN(x)) return { invalid: 'is not a number' };
        return { label: compare(x, rule.op, rule.value) ? 1 : 0 };
      };
    case 'match': {
      const positive = new Set(rule.positive.map((s) => s.toLowerCase()));
      const negative = rule.negative ? new Set(rule.negative.map((s) => s.toLowerCase())) : null;
      return (cell) => {
        const v = cell.toLowerCase();
        if (positive.has(v)) return { label: 1 };
        if (!negative || negative.has(v)) return { label: 0 };
        return { invalid: `is none of ${[...positive, ...negative].map((s) => `"${s}"`).join(', ')}` };
      };
    }
    case 'classes': {
      const byText = new Map<string, number>();
      rule.values.forEach((texts, k) => texts.forEach((t) => byText.set(t.toLowerCase(), k)));
      return (cell) => {
        const k = byText.get(cell.toLowerCase());
        return k === undefined ? { invalid: 'is not one of the listed class values' } : { label: k };
      };
    }
  }
}

const quote = (s: string) => `'${s.replace(/'/g, "\\'")}'`;

/** The rule as a person reads it: `num > 0`, `diagnosis in ('yes', 'y')`, `target (0/1)`. */
export function describeLabelRule(rule: LabelRule, columnName: (index: number) => string): string {
  const col = columnName(rule.column);
  switch (rule.kind) {
    case 'direct':
      return `${col} (0/1)`;
    case 'compare':
      return `${col} ${rule.op} ${rule.value}`;
    case 'match': {
      const pos = rule.positive.length === 1 ? `== ${quote(rule.positive[0])}` : `in (${rule.positive.map(quote).join(', ')})`;
      const neg = rule.negative?.length ? `; 0 when ${rule.negative.map(quote).join(', ')}` : '';
      return `${col} ${pos}${neg}`;
    }
    case 'classes':
      return `${col} → ${rule.values.map((texts, k) => `${k}: ${texts.map(quote).join(' | ')}`).join('; ')}`;
  }
}
