/**
 * Seeded variants of a template's data written the ways real hospital exports write them, for tests
 * and for trying `npm run import:check`: header forms (names, generic X1..Xn and V1..Vn, none),
 * missing-value codes (`?`, blank, `NA`, -9, 0 where a feature cannot be 0, a word `n.d.`), plausible
 * outliers (kept, flagged), impossible values (refused), delimiters (`,` `;` tab) and encodings
 * (UTF-8 with a byte-order mark, UTF-8, Windows-1252/Latin-1). Each variant knows what the import
 * must make of it. Not exported from the CSV index: the page never needs it.
 */
import { demoHospitals, generateHcvRecords, generateHeartRecords, hcvHospitals, mulberry32 } from '../../synthetic';
import { templateFamily, type Feature, type NumericFeature, type TabularRecord, type TaskTemplate } from '../../tasks/spec';
import { csvField } from './format';
import type { CsvEncoding } from './text';
import { CONVENTIONAL_MISSING_CODES } from './proposals';
import { possibleRange } from './values';

export type HeaderForm = 'names' | 'generic-x' | 'generic-v' | 'none';
export type MissingCode = '?' | '' | 'NA' | '-9' | '0' | 'n.d.';
export type VariantEncoding = 'utf-8-bom' | 'utf-8' | 'latin-1';

export interface VariantSpec {
  header: HeaderForm;
  missing: MissingCode;
  delimiter: ',' | ';' | '\t';
  encoding: VariantEncoding;
  seed: number;
  /** Data rows; default 300. */
  rows?: number;
}

export interface CsvVariant {
  /** A file name that says what the variant is. */
  name: string;
  spec: VariantSpec;
  bytes: Uint8Array<ArrayBuffer>;
  /** How to decode `bytes`. */
  encoding: CsvEncoding;
  expected: {
    rows: number;
    kept: number;
    refused: number;
    /** File lines (1-based) of the rows with a plausible outlier: kept and flagged. */
    flaggedLines: number[];
    /** File lines of the rows with an impossible value: refused. */
    refusedLines: number[];
    /** Cells written as the missing code. */
    missingCells: number;
  };
}

const COLUMNS_WITH_CODE = 3;
const ROWS_PER_CODE = 4;
const OUTLIERS = 5;
const IMPOSSIBLE = 4;

function records(template: TaskTemplate, size: number, seed: number): TabularRecord[] {
  if (templateFamily(template.id) === 'heart-risk') return generateHeartRecords({ ...demoHospitals[0], id: `variant-${seed}`, size, seed, missingRate: 0 });
  if (templateFamily(template.id) === 'hcv-stage') return generateHcvRecords({ ...hcvHospitals[0], id: `variant-${seed}`, size, seed, missingRate: 0 });
  throw new Error(`no synthetic data for template '${template.id}'`);
}

const isCode = (x: number) => CONVENTIONAL_MISSING_CODES.includes(x) || x === 0;

function round(f: NumericFeature, x: number): number {
  return f.integer ? Math.round(x) : Math.round(x * 10) / 10;
}

/** A value outside the feature's plausible range but inside its possible one; null when the two ranges are one. */
function plausibleOutlier(f: NumericFeature, rand: () => number): number | null {
  const p = possibleRange(f);
  const sides: [number, number][] = [];
  if (p.max > f.max) sides.push([f.max, Math.min(p.max, f.max + (f.max - f.min) * 0.5)]);
  if (p.min < f.min) sides.push([Math.max(p.min, f.min - (f.max - f.min) * 0.2), f.min]);
  if (sides.length === 0) return null;
  for (let tries = 0; tries < 50; tries++) {
    const [lo, hi] = sides[Math.floor(rand() * sides.length)];
    const x = round(f, lo + (hi - lo) * (0.1 + 0.8 * rand()));
    if (x > p.min && x < p.max && (x < f.min || x > f.max) && !isCode(x)) return x;
  }
  return null;
}

/** A value no export could mean as a measurement or a code for the feature. */
function impossibleValue(f: Feature, rand: () => number): string {
  switch (f.kind) {
    case 'numeric': {
      const p = possibleRange(f);
      let x = round(f, p.max * (1.5 + rand()) + 1);
      if (isCode(x)) x += 1;
      return String(x);
    }
    case 'binary':
      return '2';
    case 'categorical':
      return String(Math.max(...f.categories.map((c) => c.code)) + 5);
  }
}

function shuffled(n: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function encode(text: string, encoding: VariantEncoding): Uint8Array<ArrayBuffer> {
  if (encoding === 'latin-1') {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) throw new Error(`'${text[i]}' has no Latin-1 byte`);
      bytes[i] = c;
    }
    return bytes;
  }
  const body = new TextEncoder().encode(text);
  if (encoding === 'utf-8') return body;
  const out = new Uint8Array(body.length + 3);
  out.set([0xef, 0xbb, 0xbf]);
  out.set(body, 3);
  return out;
}

/** One variant of `template`'s data, deterministic for its spec. */
export function makeVariant(template: TaskTemplate, spec: VariantSpec): CsvVariant {
  const size = spec.rows ?? 300;
  const rand = mulberry32(spec.seed);
  const recs = records(template, size, spec.seed);
  const features = template.features;
  const cells: string[][] = recs.map((r) => [...features.map((f) => String(r.values[f.name] ?? '')), String(r.label)]);
  const order = shuffled(size, rand);
  let next = 0;
  const take = () => order[next++];

  // Missing-value codes: a few columns, a few rows each (a repeated code, as exports write them).
  const codable = features
    .map((f, j) => ({ f, j }))
    .filter(({ f }) => (spec.missing === '0' ? f.kind === 'numeric' && f.cannotBeZero === true : true));
  const codeColumns = shuffled(codable.length, rand).slice(0, COLUMNS_WITH_CODE).map((k) => codable[k].j);
  let missingCells = 0;
  for (const j of codeColumns) {
    for (let k = 0; k < ROWS_PER_CODE; k++) {
      cells[take()][j] = spec.missing;
      missingCells++;
    }
  }

  // Plausible outliers, each in its own row: kept and flagged. The heart data gets the cholesterol 603 and 85.
  const withZone = features.map((f, j) => ({ f, j })).filter((x): x is { f: NumericFeature; j: number } => x.f.kind === 'numeric' && plausibleOutlier(x.f, rand) !== null);
  const flagged: number[] = [];
  for (let k = 0; k < OUTLIERS && withZone.length > 0; k++) {
    const i = take();
    const cholesterol = templateFamily(template.id) === 'heart-risk' && k < 2 ? features.findIndex((f) => f.name === 'chol') : -1;
    if (cholesterol >= 0) cells[i][cholesterol] = k === 0 ? '603' : '85';
    else {
      const { f, j } = withZone[Math.floor(rand() * withZone.length)];
      cells[i][j] = String(plausibleOutlier(f, rand));
    }
    flagged.push(i);
  }

  // Impossible values, each in its own row: refused.
  const refused: number[] = [];
  for (let k = 0; k < IMPOSSIBLE; k++) {
    const i = take();
    const j = Math.floor(rand() * features.length);
    cells[i][j] = impossibleValue(features[j], rand);
    refused.push(i);
  }

  const T = features.length + 1;
  const latin = spec.encoding === 'latin-1';
  let header: string[] | null;
  switch (spec.header) {
    case 'names':
      header = [...features.map((f) => f.name), template.label.name];
      break;
    case 'generic-x':
      header = Array.from({ length: T }, (_, k) => `X${k + 1}`);
      break;
    case 'generic-v':
      header = Array.from({ length: T }, (_, k) => `V${k + 1}`);
      break;
    case 'none':
      header = null;
  }
  // A Latin-1 export with names carries a free-text note with accents (not imported). Generic names and
  // header-less files keep exactly the template's columns, as a positional reading needs.
  const note = latin && header !== null && spec.header === 'names';
  if (note) header!.push('Bemerkung (frei)');
  const d = spec.delimiter;
  const lines: string[] = [];
  if (header) lines.push(header.map((h) => csvField(h, d)).join(d));
  cells.forEach((row, i) => {
    const out = note ? [...row, i % 7 === 0 ? 'Rückruf erwünscht, Befund à revoir' : ''] : row;
    lines.push(out.map((c) => csvField(c, d)).join(d));
  });
  const text = lines.join('\r\n') + '\r\n';
  const lineOf = (i: number) => i + (header ? 2 : 1);
  const delimiterName = { ',': 'comma', ';': 'semicolon', '\t': 'tab' }[d];
  const codeName = { '?': 'question', '': 'blank', NA: 'na', '-9': 'minus9', '0': 'zero', 'n.d.': 'nd' }[spec.missing];
  return {
    name: `${template.id}-${spec.header}-${codeName}-${delimiterName}-${spec.encoding}-${spec.seed}.csv`,
    spec,
    bytes: encode(text, spec.encoding),
    encoding: latin ? 'windows-1252' : 'utf-8',
    expected: {
      rows: size,
      kept: size - refused.length,
      refused: refused.length,
      flaggedLines: flagged.map(lineOf).sort((a, b) => a - b),
      refusedLines: refused.map(lineOf).sort((a, b) => a - b),
      missingCells,
    },
  };
}

/**
 * Specs that cover every header form, missing code, delimiter and encoding at least once (a Latin-1
 * file carries names, where its accented note column does not change the column count).
 */
export function variantSpecs(seed = 20261207): VariantSpec[] {
  const headers: HeaderForm[] = ['names', 'generic-x', 'generic-v', 'none'];
  const codes: MissingCode[] = ['?', '', 'NA', '-9', '0', 'n.d.'];
  const delimiters: VariantSpec['delimiter'][] = [',', ';', '\t'];
  const specs: VariantSpec[] = [];
  let k = 0;
  for (const header of headers)
    for (const missing of codes) {
      const encoding: VariantEncoding = header === 'names' && k % 3 === 0 ? 'latin-1' : k % 2 === 0 ? 'utf-8-bom' : 'utf-8';
      specs.push({ header, missing, delimiter: delimiters[k % delimiters.length], encoding, seed: seed + k });
      k++;
    }
  return specs;
}
