import { z } from 'zod';
import { featureNameOf } from '../tasks/dictionary';
import type { DesignFeature, StudyDesignInput } from '../tasks/design';
import { CsvRowReader, isBlankRow } from './csv/rows';
import { detectDecimal, detectDelimiter, detectNewline, sampleRows } from './csv/sniff';
import type { TextSource } from './csv/text';
import { isMissingToken, parseNumber } from './csv/values';

/*
 * One site's column statistics (issue 20): what the study designer can start from when the consortium
 * has no data dictionary. Computed in the hospital's tab from its export; what leaves the tab is per
 * column only: name, type, how many values are present, a plausible range (the 1st to 99th percentile,
 * never an exact extreme, which is one patient's value), mean and SD, and the codes of a coded column
 * that at least MIN_CODE_COUNT records share. No row, no single patient's value.
 */

/** A code seen fewer times than this is left out of the summary (it could point to a patient). */
export const MIN_CODE_COUNT = 5;
/** A column with more distinct values than this is numeric or free text, not coded. */
const MAX_CODES = 20;
/** Values kept per column to estimate percentiles (reservoir sample, seeded: the same file gives the same summary). */
const RESERVOIR = 10_000;

export const columnTypeSchema = z.enum(['numeric', 'integer', 'binary', 'categorical', 'text', 'empty']);
export type ColumnType = z.infer<typeof columnTypeSchema>;

export const columnStatsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  type: columnTypeSchema,
  present: z.number().int().min(0),
  missing: z.number().int().min(0),
  /** Numeric columns: the 1st and 99th percentiles, mean and SD of the present values. */
  p01: z.number().finite().optional(),
  p99: z.number().finite().optional(),
  mean: z.number().finite().optional(),
  std: z.number().finite().min(0).optional(),
  /** Coded columns: the values at least MIN_CODE_COUNT records share, most frequent first. */
  codes: z.array(z.string().max(100)).max(MAX_CODES).optional(),
});
export type ColumnStats = z.infer<typeof columnStatsSchema>;

export const columnSummarySchema = z.object({
  /** The file's name as the site chose it (no path). */
  source: z.string().trim().max(200),
  rows: z.number().int().min(0),
  columns: z.array(columnStatsSchema).min(1).max(1000),
});
export type ColumnSummary = z.infer<typeof columnSummarySchema>;

interface Accumulator {
  present: number;
  missing: number;
  numbers: number;
  integers: number;
  sum: number;
  sumSquares: number;
  reservoir: number[];
  seen: number;
  /** Distinct texts and their counts, until there are too many to be codes. */
  counts: Map<string, number> | null;
}

const LABEL_NAMES = ['target', 'label', 'outcome', 'diagnosis', 'class', 'y', 'death', 'mortality', 'event'];

/** Streams the file once. Throws NotTextError for a binary file; an empty file gives no columns (refused by the schema). */
export async function summariseColumns(source: TextSource, fileName: string): Promise<ColumnSummary> {
  let reader: CsvRowReader | null = null;
  let decimal: '.' | ',' = '.';
  let header: string[] | null = null;
  let acc: Accumulator[] = [];
  let rows = 0;
  let rng = 0x2545f491;
  const random = () => {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    return (rng >>> 0) / 4294967296;
  };
  const take = (fields: string[]) => {
    if (isBlankRow(fields)) return;
    if (!header) {
      header = fields.map((f, i) => f.trim() || `column ${i + 1}`);
      acc = header.map(() => ({ present: 0, missing: 0, numbers: 0, integers: 0, sum: 0, sumSquares: 0, reservoir: [], seen: 0, counts: new Map() }));
      return;
    }
    rows++;
    acc.forEach((a, i) => {
      const cell = (fields[i] ?? '').trim();
      if (isMissingToken(cell)) {
        a.missing++;
        return;
      }
      a.present++;
      if (a.counts) {
        a.counts.set(cell, (a.counts.get(cell) ?? 0) + 1);
        if (a.counts.size > MAX_CODES) a.counts = null;
      }
      const x = parseNumber(cell, decimal);
      if (Number.isNaN(x)) return;
      a.numbers++;
      if (Number.isInteger(x)) a.integers++;
      a.sum += x;
      a.sumSquares += x * x;
      a.seen++;
      if (a.reservoir.length < RESERVOIR) a.reservoir.push(x);
      else {
        const j = Math.floor(random() * a.seen);
        if (j < RESERVOIR) a.reservoir[j] = x;
      }
    });
  };
  for await (const chunk of source.chunks()) {
    if (!reader) {
      const newline = detectNewline(chunk.text);
      const delimiter = detectDelimiter(chunk.text, newline);
      decimal = detectDecimal(sampleRows(chunk.text, delimiter, newline), delimiter);
      reader = new CsvRowReader({ delimiter, newline });
    }
    for (const row of reader.push(chunk.text)) take(row.fields);
  }
  if (reader) for (const row of reader.end()) take(row.fields);
  const names: string[] = header ?? [];
  return { source: fileName.split(/[\\/]/).pop()!.slice(0, 200), rows, columns: names.map((name, i) => columnStats(name.slice(0, 200), acc[i])) };
}

function percentile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

function columnStats(name: string, a: Accumulator): ColumnStats {
  const base = { name, present: a.present, missing: a.missing };
  if (a.present === 0) return { ...base, type: 'empty' };
  const shared = a.counts ? [...a.counts].filter(([, n]) => n >= MIN_CODE_COUNT).sort((x, y) => y[1] - x[1]).map(([v]) => v.slice(0, 100)) : null;
  // Mostly numbers: numeric, unless it is a handful of integer codes (0/1, 1–4).
  if (a.numbers * 10 >= a.present * 9) {
    const mean = a.sum / a.numbers;
    const std = Math.sqrt(Math.max(0, a.sumSquares / a.numbers - mean * mean));
    const sorted = [...a.reservoir].sort((x, y) => x - y);
    // Below MIN_CODE_COUNT values the mean and "percentiles" are one or two patients' values: no range then.
    // In a small file the 1st and 99th percentiles fall between the lowest (highest) few values: never
    // report beyond the MIN_CODE_COUNT-th lowest and highest, which at least that many patients reach.
    const k = MIN_CODE_COUNT - 1;
    const range = a.numbers >= MIN_CODE_COUNT * 2 ? { p01: Math.max(percentile(sorted, 0.01), sorted[k]), p99: Math.min(percentile(sorted, 0.99), sorted[sorted.length - 1 - k]) } : {};
    const numeric = a.numbers >= MIN_CODE_COUNT ? { mean, std, ...range } : {};
    const integer = a.integers === a.numbers;
    if (a.counts && integer) {
      const distinct = [...a.counts.keys()].map(Number);
      if (distinct.every((x) => x === 0 || x === 1)) return { ...base, type: 'binary', codes: shared! };
      if (a.counts.size <= 10) return { ...base, type: 'categorical', codes: shared! };
    }
    return { ...base, type: integer ? 'integer' : 'numeric', ...numeric };
  }
  if (a.counts && a.counts.size === 2) return { ...base, type: 'binary', codes: shared! };
  if (a.counts) return { ...base, type: 'categorical', codes: shared! };
  return { ...base, type: 'text' };
}

const round = (x: number) => Number(x.toPrecision(3));

/**
 * A first design from a site's columns: numeric columns with their observed 1st–99th percentile range
 * (widened a little) as the plausible range, coded columns as categories; text and empty columns are
 * left out. The label is the column named like an outcome, else none: the admin picks it.
 */
export function designFromColumns(summary: ColumnSummary): { features: DesignFeature[]; label: StudyDesignInput['label'] | null; skipped: string[] } {
  const features: DesignFeature[] = [];
  const skipped: string[] = [];
  let label: StudyDesignInput['label'] | null = null;
  const labelAt = summary.columns.findIndex((c) => LABEL_NAMES.includes(c.name.toLowerCase().replace(/[^a-z0-9]+/g, '')));
  // `BP` and `bp` both make `bp`: a design refuses two features (or a feature and the label) of one name.
  const used = new Set<string>();
  const names = summary.columns.map((c) => {
    const base = featureNameOf(c.name);
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  });
  summary.columns.forEach((c, i) => {
    const name = names[i];
    if (i === labelAt && (c.type === 'binary' || c.type === 'categorical') && c.codes && c.codes.length >= 2) {
      const codes = [...c.codes].sort();
      label = codes.length > 2
        ? { name, description: c.name, positive: codes[codes.length - 1], negative: codes[0], classes: codes, rule: { kind: 'classes', values: codes.map((v) => [v]) } }
        : { name, description: c.name, positive: codes[1], negative: codes[0], rule: { kind: 'match', positive: [codes[1]], negative: [codes[0]] } };
      return;
    }
    switch (c.type) {
      case 'numeric':
      case 'integer': {
        if (c.p01 === undefined || c.p99 === undefined) return skipped.push(c.name);
        const pad = Math.max((c.p99 - c.p01) * 0.1, Math.abs(c.p99) * 0.01, 1e-6);
        const min = round(c.p01 - pad);
        const max = round(c.p99 + pad);
        features.push({ kind: 'numeric', name, label: c.name, min: c.p01 >= 0 && min < 0 ? 0 : min, max, integer: c.type === 'integer', ...(c.mean !== undefined ? { mean: c.mean } : {}), ...(c.std ? { std: c.std } : {}) });
        return;
      }
      case 'binary': {
        const codes = [...(c.codes ?? [])].sort();
        if (codes.length === 2 && codes.join() !== '0,1') features.push({ kind: 'binary', name, label: c.name, values: [codes[0], codes[1]] });
        else features.push({ kind: 'binary', name, label: c.name });
        return;
      }
      case 'categorical': {
        const codes = c.codes ?? [];
        if (codes.length < 2) return skipped.push(c.name);
        // The import reads a number cell as the code itself: a numeric code keeps its number, words take the free ones.
        const isCode = (v: string) => /^[+-]?\d+$/.test(v);
        const taken = new Set(codes.filter(isCode).map(Number));
        if (taken.size !== codes.filter(isCode).length) return skipped.push(c.name);
        const sorted = [...codes.filter(isCode)].sort((a, b) => Number(a) - Number(b)).concat(codes.filter((v) => !isCode(v)).sort());
        let free = 1;
        const categories = sorted.map((v) => {
          if (isCode(v)) return { code: Number(v), label: v };
          while (taken.has(free)) free++;
          taken.add(free);
          return { code: free, label: v };
        });
        features.push({ kind: 'categorical', name, label: c.name, categories });
        return;
      }
      default:
        skipped.push(c.name);
    }
  });
  return { features, label, skipped };
}
