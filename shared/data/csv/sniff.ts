import Papa from 'papaparse';
import { CsvRowReader, isBlankRow, type Delimiter, type Newline } from './rows';

export const DELIMITERS: readonly Delimiter[] = [',', ';', '\t', '|'];

/** The file's line break, from a sample: the most common one outside quoted fields (Papa Parse's rule). */
export function detectNewline(sample: string): Newline {
  const text = sample.slice(0, 1 << 20).replace(/"[^]*?"/g, '');
  const byCr = text.split('\r');
  const byLf = text.split('\n');
  if (byCr.length === 1 || (byLf.length > 1 && byLf[0].length < byCr[0].length)) return '\n';
  let crlf = 0;
  for (let i = 1; i < byCr.length; i++) if (byCr[i][0] === '\n') crlf++;
  return crlf >= (byCr.length - 1) / 2 ? '\r\n' : '\r';
}

/** The delimiter that splits the sample's rows into the most consistent number of fields (Papa Parse's guess). */
export function detectDelimiter(sample: string, newline: Newline): Delimiter {
  const result = Papa.parse<string[]>(sample, { newline, preview: 30, skipEmptyLines: 'greedy', delimitersToGuess: [...DELIMITERS] });
  const d = result.meta.delimiter as Delimiter;
  return DELIMITERS.includes(d) ? d : ',';
}

/** The complete, non-blank rows of a sample, at most `limit`. */
export function sampleRows(sample: string, delimiter: Delimiter, newline: Newline, limit = 50): string[][] {
  const reader = new CsvRowReader({ delimiter, newline });
  const rows = reader.push(sample);
  const out: string[][] = [];
  for (const r of rows) {
    if (isBlankRow(r.fields) || r.quoteProblem) continue;
    out.push(r.fields.map((f) => f.trim()));
    if (out.length >= limit) break;
  }
  return out;
}

const DOT_NUMBER = /^[+-]?(\d+\.\d*|\.\d+)$/;
const COMMA_NUMBER = /^[+-]?\d*,\d+$/;
const PLAIN_NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$/;

/** `,` when a file separated by something else writes its decimals with commas (`1,5`), as much of Europe does. */
export function detectDecimal(rows: readonly string[][], delimiter: Delimiter): '.' | ',' {
  if (delimiter === ',') return '.';
  let comma = 0;
  let dot = 0;
  for (const row of rows) {
    for (const cell of row) {
      if (COMMA_NUMBER.test(cell)) comma++;
      else if (DOT_NUMBER.test(cell)) dot++;
    }
  }
  return comma > dot ? ',' : '.';
}

export const looksNumeric = (cell: string): boolean => PLAIN_NUMBER.test(cell.trim());

/**
 * Whether the first row names the columns: some of its cells match a feature or label name, or none
 * of them is a number while the rows below hold numbers.
 */
export function detectHeader(rows: readonly string[][], isKnownName: (cell: string) => boolean): boolean {
  const first = rows[0];
  if (!first) return false;
  if (first.filter((c) => c !== '' && isKnownName(c)).length >= Math.min(2, first.length)) return true;
  const firstNumeric = first.filter((c) => looksNumeric(c)).length;
  if (firstNumeric > 0) return false;
  const rest = rows.slice(1);
  if (rest.length === 0) return first.every((c) => c !== '');
  return rest.some((r) => r.some((c) => looksNumeric(c)));
}
