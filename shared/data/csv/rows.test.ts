import { describe, expect, it } from 'vitest';
import { CsvRowReader, isBlankRow } from './rows';
import { detectDelimiter, detectHeader, detectNewline, detectDecimal, sampleRows } from './sniff';

function readAll(text: string, pieces: number[] = [text.length], delimiter: ',' | ';' = ',', newline: '\n' | '\r\n' = '\n') {
  const reader = new CsvRowReader({ delimiter, newline });
  const rows = [];
  let at = 0;
  for (const n of pieces) {
    rows.push(...reader.push(text.slice(at, at + n)));
    at += n;
  }
  rows.push(...reader.push(text.slice(at)), ...reader.end());
  return rows;
}

describe('CsvRowReader', () => {
  const text = 'a,b,c\n1,"x, y",3\n\n4,"two\nlines\nhere",6\n7,"say ""hi""",9\n';

  it('splits quoted delimiters, escaped quotes and quoted line breaks, numbering the line each row starts on', () => {
    const rows = readAll(text);
    const data = rows.filter((r) => !isBlankRow(r.fields));
    expect(data.map((r) => [r.line, r.fields])).toEqual([
      [1, ['a', 'b', 'c']],
      [2, ['1', 'x, y', '3']],
      [4, ['4', 'two\nlines\nhere', '6']],
      [7, ['7', 'say "hi"', '9']],
    ]);
  });

  it('gives the same rows and lines however the text is cut into pieces', () => {
    const whole = readAll(text);
    for (let size = 1; size < 12; size++) {
      const pieces = Array.from({ length: Math.ceil(text.length / size) }, () => size);
      expect(readAll(text, pieces)).toEqual(whole);
    }
  });

  it('counts CRLF line breaks, inside quotes too, as one line each', () => {
    const crlf = 'a,b\r\n"1\r\n2",x\r\n\r\n3,y\r\n';
    const rows = readAll(crlf, undefined, ',', '\r\n').filter((r) => !isBlankRow(r.fields));
    expect(rows.map((r) => [r.line, r.fields])).toEqual([
      [1, ['a', 'b']],
      [2, ['1\r\n2', 'x']],
      [5, ['3', 'y']],
    ]);
  });

  it('flags an unterminated quote on the row that opens it, and a malformed one on its row', () => {
    const rows = readAll('a,b\n1,2\n3,"oops\n4,5\n6,7\n', [9, 3]);
    expect(rows.map((r) => [r.line, r.quoteProblem ?? null])).toEqual([
      [1, null],
      [2, null],
      [3, 'unterminated'],
    ]);
    // A stray quote inside a quoted field that is closed later: the row is malformed, the next one fine.
    const bad = readAll('a,b\n"1"x",2\n3,4\n');
    expect(bad.map((r) => [r.line, r.quoteProblem ?? null])).toEqual([
      [1, null],
      [2, 'malformed'],
      [3, null],
    ]);
  });

  it('treats lines of only delimiters or spaces as blank', () => {
    expect(isBlankRow(['', ' ', ''])).toBe(true);
    expect(isBlankRow([''])).toBe(true);
    expect(isBlankRow(['', '0'])).toBe(false);
  });
});

describe('sniffing', () => {
  it('detects each common delimiter, and line breaks', () => {
    for (const d of [',', ';', '\t', '|'] as const) {
      const sample = ['age', 'sex', 'cp', 'target'].join(d) + '\n' + ['63', '1', '4', '0'].join(d) + '\n' + ['41', '0', '2', '1'].join(d) + '\n';
      expect(detectDelimiter(sample, '\n')).toBe(d);
    }
    expect(detectNewline('a,b\r\n1,2\r\n')).toBe('\r\n');
    expect(detectNewline('a,b\n1,2\n')).toBe('\n');
    expect(detectNewline('a,b\r1,2\r')).toBe('\r');
    expect(detectNewline('a,"x\r\ny"\n1,2\n')).toBe('\n');
  });

  it('prefers the semicolon when decimals are written with commas', () => {
    const sample = 'age;oldpeak;target\n63;2,3;1\n41;0,5;0\n50;1,0;0\n';
    expect(detectDelimiter(sample, '\n')).toBe(';');
    const rows = sampleRows(sample, ';', '\n');
    expect(detectDecimal(rows.slice(1), ';')).toBe(',');
    expect(detectDecimal([['1.5', '2']], ';')).toBe('.');
    expect(detectDecimal([['1,5']], ',')).toBe('.');
  });

  it('tells a header row from a data row', () => {
    const known = (c: string) => ['age', 'sex', 'target', 'chol'].includes(c.toLowerCase());
    expect(detectHeader([['Age', 'Sex', 'x'], ['63', '1', '2']], known)).toBe(true);
    expect(detectHeader([['patient', 'weight'], ['a1', '70']], known)).toBe(true);
    expect(detectHeader([['63', '1', '2'], ['41', '0', '1']], known)).toBe(false);
    expect(detectHeader([['63', 'male', '2'], ['41', 'female', '1']], known)).toBe(false);
  });
});
