import Papa from 'papaparse';

export type Newline = '\n' | '\r\n' | '\r';
export type Delimiter = ',' | ';' | '\t' | '|';

/** One row of the file, as Papa Parse split it, with the 1-based line of the file it starts on. */
export interface CsvRow {
  line: number;
  fields: string[];
  /** Set when the row's quoting is broken; its fields are then unreliable. */
  quoteProblem?: 'unterminated' | 'malformed';
}

interface PapaError {
  code: string;
  row?: number;
}

/** Line breaks inside the row's fields: quoted fields may span lines, and every one of them counts. */
export function lineBreaksIn(fields: readonly string[]): number {
  let n = 0;
  for (const f of fields) {
    if (f.indexOf('\n') === -1 && f.indexOf('\r') === -1) continue;
    for (let i = 0; i < f.length; i++) {
      const c = f.charCodeAt(i);
      if (c === 10) n++;
      else if (c === 13 && f.charCodeAt(i + 1) !== 10) n++;
    }
  }
  return n;
}

/**
 * Streams rows out of text pushed in arbitrary pieces. Papa Parse's `Parser` does the splitting
 * (quotes, escaped quotes, delimiters and line breaks inside quoted fields); this keeps the unfinished
 * last row between pieces, as Papa's own streamers do, and numbers lines: every row, blank ones
 * included, moves the line count on by one plus the line breaks inside its quoted fields.
 */
export class CsvRowReader {
  private readonly parser: Papa.Parser;
  private partial = '';
  private nextLine = 1;
  private ended = false;

  constructor(readonly options: { delimiter: Delimiter; newline: Newline }) {
    this.parser = new Papa.Parser({ delimiter: options.delimiter, newline: options.newline, quoteChar: '"' });
  }

  push(text: string): CsvRow[] {
    if (this.ended) throw new Error('reader already ended');
    const input = this.partial + text;
    const result = this.parser.parse(input, 0, true);
    this.partial = input.slice(result.meta.cursor as number);
    return this.rows(result.data as string[][], result.errors as PapaError[]);
  }

  end(): CsvRow[] {
    this.ended = true;
    if (this.partial === '') return [];
    const result = this.parser.parse(this.partial, 0, false);
    this.partial = '';
    return this.rows(result.data as string[][], result.errors as PapaError[]);
  }

  private rows(data: string[][], errors: PapaError[]): CsvRow[] {
    const out: CsvRow[] = new Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const fields = data[i];
      out[i] = { line: this.nextLine, fields };
      this.nextLine += 1 + lineBreaksIn(fields);
    }
    for (const e of errors) {
      const row = e.row !== undefined ? out[e.row] : undefined;
      if (!row) continue;
      if (e.code === 'MissingQuotes') row.quoteProblem = 'unterminated';
      else if (e.code === 'InvalidQuotes' && !row.quoteProblem) row.quoteProblem = 'malformed';
    }
    return out;
  }
}

/** A row with nothing in it: an empty line, or only delimiters and spaces (spreadsheets write those). */
export function isBlankRow(fields: readonly string[]): boolean {
  for (const f of fields) if (f.trim() !== '') return false;
  return true;
}
