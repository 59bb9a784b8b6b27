import { z } from 'zod';
import type { TaskTemplate } from '../../tasks/spec';
import { labelClasses } from '../stats';
import { labelRuleSchema, type LabelRule } from './labelRule';
import { featureAliases, labelNames, normaliseName } from './names';
import { isMissingToken, parseNumber } from './values';

const columnIndex = z.number().int().min(0);

/** Which column of the file feeds each feature (null: the file has none), the label rule and per-column sentinels. */
export const columnMappingSchema = z.object({
  features: z.record(z.string(), columnIndex.nullable()),
  label: labelRuleSchema.nullable(),
  /** Numbers that mean "missing" in one column: -9 in many registries, 0 for a cholesterol nobody measured. */
  sentinels: z
    .array(z.object({ column: columnIndex, values: z.array(z.number().finite()).min(1).max(20) }))
    .default([]),
  /** Texts that mean "missing" in one column beyond the usual blank, `?`, `NA`, `null`...: `-`, `n.d.`, `unknown`. */
  missingText: z
    .array(z.object({ column: columnIndex, values: z.array(z.string().trim().min(1).max(40)).min(1).max(20) }))
    .default([]),
});
export type ColumnMapping = z.infer<typeof columnMappingSchema>;

export const csvImportOptionsSchema = z.object({
  delimiter: z.enum([',', ';', '\t', '|']).optional(),
  hasHeader: z.boolean().optional(),
  decimal: z.enum(['.', ',']).optional(),
  encoding: z.enum(['utf-8', 'windows-1252']).optional(),
  mapping: columnMappingSchema.optional(),
});
export type CsvImportOptions = z.input<typeof csvImportOptionsSchema>;

/**
 * The mapping checked against the study's template and the file's columns: every feature named
 * once, every column inside the file, no column feeding two things, a label rule.
 */
export function mappingSchemaFor(template: TaskTemplate, columns: readonly string[]) {
  const name = (i: number) => columns[i] ?? `column ${i + 1}`;
  return columnMappingSchema.superRefine((m, ctx) => {
    const inFile = (i: number, path: (string | number)[]) => {
      if (i >= columns.length) ctx.addIssue({ code: 'custom', path, message: `The file has no column ${i + 1}` });
    };
    for (const key of Object.keys(m.features)) {
      if (!template.features.some((f) => f.name === key)) ctx.addIssue({ code: 'custom', path: ['features', key], message: `"${key}" is not a feature of ${template.name}` });
    }
    const users = new Map<number, string[]>();
    for (const f of template.features) {
      const c = m.features[f.name];
      if (c === undefined || c === null) continue;
      inFile(c, ['features', f.name]);
      users.set(c, [...(users.get(c) ?? []), f.label]);
    }
    const classCount = labelClasses(template).length;
    if (m.label && classCount > 2 && (m.label.kind === 'compare' || m.label.kind === 'match')) {
      ctx.addIssue({ code: 'custom', path: ['label', 'kind'], message: `${template.name} has ${classCount} classes: read the label directly or list each class's values` });
    }
    if (m.label?.kind === 'classes' && m.label.values.length !== classCount) {
      ctx.addIssue({ code: 'custom', path: ['label', 'values'], message: `List the values of each of the ${classCount} classes` });
    }
    if (m.label) {
      inFile(m.label.column, ['label', 'column']);
      users.set(m.label.column, [...(users.get(m.label.column) ?? []), 'the label']);
    } else {
      ctx.addIssue({ code: 'custom', path: ['label'], message: 'Choose the column that holds the label' });
    }
    for (const [c, used] of users) {
      if (used.length > 1) ctx.addIssue({ code: 'custom', path: ['features'], message: `Column "${name(c)}" is mapped to ${used.join(' and ')}` });
    }
    m.sentinels.forEach((s, k) => inFile(s.column, ['sentinels', k, 'column']));
    m.missingText.forEach((s, k) => inFile(s.column, ['missingText', k, 'column']));
  });
}

const POSITIVE_WORDS = ['yes', 'y', 'true', 'positive', 'present', 'disease', 'sick', 'abnormal', 'case'];
const NEGATIVE_WORDS = ['no', 'n', 'false', 'negative', 'absent', 'healthy', 'normal', 'control', 'none'];

/**
 * A label rule that fits the values seen in the column: 0/1 as they are, a 0–4 scale as `> 0`, yes/no
 * words by name; for a multi-class study, class numbers as they are, or texts matched to class names
 * (`Cirrhosis`, `3=Cirrhosis`).
 */
export function guessLabelRule(column: number, samples: readonly string[], decimal: '.' | ',', classes: readonly string[] = ['0', '1']): LabelRule {
  const present = samples.filter((s) => !isMissingToken(s));
  const numbers = present.map((s) => parseNumber(s, decimal));
  if (classes.length > 2) {
    if (numbers.filter((x) => !Number.isNaN(x)).length * 2 >= present.length) return { kind: 'direct', column };
    const values: string[][] = classes.map(() => []);
    for (const text of new Set(present)) {
      const prefix = /^(\d+)\s*[a-z]?\s*=/i.exec(text);
      const k = prefix ? Number(prefix[1]) : classes.findIndex((c) => normaliseName(c) === normaliseName(text));
      if (k >= 0 && k < classes.length) values[k].push(text);
    }
    classes.forEach((c, k) => values[k].length === 0 && values[k].push(c));
    return { kind: 'classes', column, values };
  }
  const numeric = numbers.filter((x) => !Number.isNaN(x));
  // Mostly numbers: a number rule (the odd word in the column will be reported as unreadable).
  if (present.length === 0 || numeric.length * 2 >= present.length) {
    const distinct = new Set(numeric);
    if ([...distinct].every((x) => x === 0 || x === 1)) return { kind: 'direct', column };
    return { kind: 'compare', column, op: '>', value: 0 };
  }
  const words = [...new Set(present.map((s) => s.toLowerCase()))];
  const positive = words.filter((w) => POSITIVE_WORDS.includes(w));
  const negative = words.filter((w) => NEGATIVE_WORDS.includes(w));
  if (positive.length > 0) return { kind: 'match', column, positive, ...(negative.length ? { negative } : {}) };
  // No word we know: name the rarer value positive, for the person to check.
  return { kind: 'match', column, positive: [words[words.length - 1]] };
}

/**
 * Matches columns to features and to the label by name. A file without a header row, or whose header
 * names nothing the template knows (`X1..X14`), maps nothing here: the analysis proposes reading it
 * in the template's order when its values fit (see `positionalProposal`), and the person accepts that.
 */
export function autoMapping(
  template: TaskTemplate,
  columns: readonly string[],
  hasHeader: boolean,
  sampleRows: readonly string[][],
  decimal: '.' | ',',
): ColumnMapping {
  const features: Record<string, number | null> = {};
  const used = new Set<number>();
  let labelColumn: number | null = null;
  if (hasHeader) {
    const normalised = columns.map(normaliseName);
    for (const f of template.features) {
      const names = featureAliases(template, f.name);
      const c = normalised.findIndex((n, i) => !used.has(i) && names.has(n));
      features[f.name] = c >= 0 ? c : null;
      if (c >= 0) used.add(c);
    }
    for (const n of labelNames(template)) {
      const c = normalised.findIndex((x, i) => !used.has(i) && x === n);
      if (c >= 0) {
        labelColumn = c;
        break;
      }
    }
  } else {
    for (const f of template.features) features[f.name] = null;
  }
  const rule = template.label.rule;
  const label =
    labelColumn === null ? null : rule ? { ...rule, column: labelColumn } : guessLabelRule(labelColumn, sampleRows.map((r) => r[labelColumn!] ?? ''), decimal, labelClasses(template));
  return { features, label, sentinels: [], missingText: [] };
}
