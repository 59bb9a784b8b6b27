import { CsvRowReader, isBlankRow } from '../data/csv/rows';
import { detectDelimiter, detectNewline } from '../data/csv/sniff';
import type { DesignFeature, StudyDesignInput } from './design';
import type { TemplateLabelRule } from './spec';

/*
 * A data dictionary, as consortia write them in a spreadsheet: one row per column of the export, with
 * its name, type, unit, plausible range and codes. The study designer starts from it. Columns are found
 * by their header (any case; common other names accepted); a row that cannot be read is skipped and
 * named by its line, the rest still come through.
 *
 *   name,type,unit,range,limits,codes,description
 *   age,integer,years,18-100,0-120,,Age at admission
 *   sex,binary,,,,0=female;1=male,Sex
 *   stage,categorical,,,,1=I;2=II;3=III,Tumour stage
 *   outcome,label,,,,0=survived;1=died,Death within 30 days
 */

export interface DictionaryProblem {
  /** 1-based line of the file (the header is line 1). */
  line: number;
  message: string;
}

export interface DictionaryResult {
  features: DesignFeature[];
  /** The row whose type (or role) says `label`, if any. */
  label: StudyDesignInput['label'] | null;
  problems: DictionaryProblem[];
  /** How many rows were read (blank ones aside). */
  rows: number;
}

const HEADERS: Record<string, string[]> = {
  name: ['name', 'variable', 'column', 'field', 'columnname', 'variablename', 'fieldname'],
  type: ['type', 'kind', 'datatype', 'vartype', 'variabletype'],
  unit: ['unit', 'units'],
  range: ['range', 'plausible', 'plausiblerange', 'normalrange', 'expectedrange', 'validrange'],
  limits: ['limits', 'possible', 'possiblerange', 'hardlimits', 'impossibleoutside', 'allowedrange'],
  codes: ['codes', 'values', 'categories', 'levels', 'coding', 'valuelabels'],
  label: ['label', 'description', 'descr', 'meaning', 'title'],
  role: ['role', 'use', 'usage'],
};

const NUMERIC_TYPES = new Set(['numeric', 'number', 'continuous', 'float', 'double', 'decimal', 'real', 'measurement', 'num']);
const INTEGER_TYPES = new Set(['integer', 'int', 'count', 'whole', 'wholenumber']);
const BINARY_TYPES = new Set(['binary', 'boolean', 'bool', 'yesno', 'dichotomous', 'flag']);
const CATEGORICAL_TYPES = new Set(['categorical', 'category', 'nominal', 'ordinal', 'factor', 'enum', 'code', 'coded']);
const LABEL_TYPES = new Set(['label', 'outcome', 'target', 'class', 'response', 'dependent']);
const IGNORED_ROLES = new Set(['ignore', 'ignored', 'id', 'identifier', 'skip', 'none', 'exclude', 'excluded']);

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

/** A feature name the template accepts, from an export's column name (`Serum creatinine (mg/dl)` → `serum_creatinine_mg_dl`). */
export function featureNameOf(column: string): string {
  const words = column
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const name = words.join('_').slice(0, 60);
  return /^[a-z]/.test(name) ? name : `x_${name || 'column'}`;
}

const NUMBER = String.raw`[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:e[+-]?\d+)?`;
const RANGE = new RegExp(String.raw`^[\[(]?\s*(${NUMBER})\s*(?:-|–|—|\.\.\.?|to|,|;|/)\s*(${NUMBER})\s*[\])]?$`, 'i');

/** `18-100`, `18–100`, `-3 to 7`, `[0.5, 15]`, `0..3`: the two ends, or null. */
export function parseRange(cell: string): { min: number; max: number } | null {
  const m = RANGE.exec(cell.trim());
  if (!m) return null;
  const [min, max] = [m[1], m[2]].map((x) => Number(x.replace(',', '.')));
  return Number.isFinite(min) && Number.isFinite(max) ? { min, max } : null;
}

/** `1=typical angina; 2=atypical`, `0: no | 1: yes`, one per line: the code of each label, in order. */
export function parseCodes(cell: string): { code: number; label: string }[] | { error: string } {
  const items = cell
    .split(/[;|\n]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const out: { code: number; label: string }[] = [];
  for (const item of items) {
    const m = /^([+-]?\d+)\s*[=:]\s*(.+)$/.exec(item);
    if (!m) return { error: `"${item}" is not code=meaning (1=typical angina; 2=atypical angina)` };
    out.push({ code: Number(m[1]), label: m[2].trim() });
  }
  if (new Set(out.map((c) => c.code)).size !== out.length) return { error: 'two meanings share a code' };
  return out;
}

/** Parses a data dictionary CSV (see above). Never throws on content: problems name their lines. */
export function parseDataDictionary(text: string): DictionaryResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const newline = detectNewline(body.slice(0, 64 * 1024));
  const reader = new CsvRowReader({ delimiter: detectDelimiter(body.slice(0, 64 * 1024), newline), newline });
  const rows = [...reader.push(body), ...reader.end()];
  const problems: DictionaryProblem[] = [];
  const features: DesignFeature[] = [];
  let label: DictionaryResult['label'] = null;
  let header: Record<string, number> | null = null;
  let read = 0;
  for (const row of rows) {
    const at = row.line;
    if (isBlankRow(row.fields)) continue;
    if (row.quoteProblem) {
      problems.push({ line: at, message: 'a quote is not closed: the row cannot be read' });
      continue;
    }
    const cells = row.fields.map((f) => f.trim());
    if (!header) {
      header = {};
      cells.forEach((c, i) => {
        for (const [key, names] of Object.entries(HEADERS)) if (header![key] === undefined && names.includes(norm(c))) header![key] = i;
      });
      const missing = ['name', 'type'].filter((k) => header![k] === undefined);
      if (missing.length) {
        problems.push({ line: at, message: `the first row names the columns: it needs ${missing.map((m) => `"${m}"`).join(' and ')} (found ${cells.map((c) => `"${c}"`).join(', ')})` });
        return { features, label, problems, rows: 0 };
      }
      continue;
    }
    read++;
    const cell = (key: string) => (header![key] === undefined ? '' : (cells[header![key]] ?? ''));
    const column = cell('name');
    const say = (message: string) => problems.push({ line: at, message: `${column ? `${column}: ` : ''}${message}` });
    if (!column) {
      say('no name');
      continue;
    }
    const type = norm(cell('type'));
    if (IGNORED_ROLES.has(norm(cell('role'))) || IGNORED_ROLES.has(type)) continue;
    const name = featureNameOf(column);
    const description = cell('label') || column;
    const codesCell = cell('codes');
    const codes = codesCell ? parseCodes(codesCell) : [];
    if ('error' in codes) {
      say(codes.error);
      continue;
    }
    if (LABEL_TYPES.has(type) || LABEL_TYPES.has(norm(cell('role')))) {
      if (label) {
        say('a second label row: a study has one label');
        continue;
      }
      label = dictionaryLabel(column, description, codes);
      continue;
    }
    if (NUMERIC_TYPES.has(type) || INTEGER_TYPES.has(type)) {
      const rangeCell = cell('range');
      const range = parseRange(rangeCell);
      if (!range) {
        say(rangeCell ? `"${rangeCell}" is not a range (write lowest-highest, as 18-100)` : 'a numeric column needs its plausible range (lowest-highest, as 18-100)');
        continue;
      }
      if (range.min >= range.max) {
        say(`the range ${rangeCell} has its lowest value last`);
        continue;
      }
      const limitsCell = cell('limits');
      const limits = limitsCell ? parseRange(limitsCell) : null;
      if (limitsCell && !limits) {
        say(`"${limitsCell}" is not a range (write lowest-highest, as 0-120)`);
        continue;
      }
      if (limits && (limits.min > range.min || limits.max < range.max)) {
        say(`the possible range ${limitsCell} must contain the plausible range ${rangeCell}`);
        continue;
      }
      const unit = cell('unit');
      features.push({ kind: 'numeric', name, label: description, ...(unit ? { unit } : {}), ...range, ...(limits ? { limits } : {}), integer: INTEGER_TYPES.has(type) });
      continue;
    }
    if (BINARY_TYPES.has(type)) {
      if (codes.length && (codes.length !== 2 || !codes.every((c) => c.code === 0 || c.code === 1))) {
        say('a binary column is coded 0 and 1 (0=no;1=yes)');
        continue;
      }
      const sorted = [...codes].sort((a, b) => a.code - b.code);
      features.push({ kind: 'binary', name, label: description, values: sorted.length ? [sorted[0].label, sorted[1].label] : ['no', 'yes'] });
      continue;
    }
    if (CATEGORICAL_TYPES.has(type)) {
      if (codes.length < 2) {
        say('a categorical column lists at least two codes (1=first;2=second)');
        continue;
      }
      features.push({ kind: 'categorical', name, label: description, categories: codes });
      continue;
    }
    say(`unknown type "${cell('type')}" (numeric, integer, binary, categorical, or label for the outcome)`);
  }
  if (!header) problems.push({ line: 1, message: 'the file is empty' });
  return { features, label, problems, rows: read };
}

/** The label row: two codes make a yes/no label (the higher code positive), three or more a multi-class one. */
function dictionaryLabel(column: string, description: string, codes: { code: number; label: string }[]): StudyDesignInput['label'] {
  const name = featureNameOf(column);
  const sorted = [...codes].sort((a, b) => a.code - b.code);
  if (sorted.length >= 3) {
    const rule: TemplateLabelRule = { kind: 'classes', values: sorted.map((c) => [String(c.code), c.label]) };
    return { name, description, positive: sorted[sorted.length - 1].label, negative: sorted[0].label, classes: sorted.map((c) => c.label), rule };
  }
  if (sorted.length === 2) {
    const [neg, pos] = sorted;
    const rule: TemplateLabelRule = { kind: 'match', positive: [String(pos.code), pos.label], negative: [String(neg.code), neg.label] };
    return { name, description, positive: pos.label, negative: neg.label, rule };
  }
  return { name, description, positive: 'yes', negative: 'no' };
}
