import { describe, expect, it } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../../synthetic';
import { heartRisk } from '../../tasks';
import { batchToRecords, type RecordBatch } from '../columnar';
import { fingerprintRecords } from '../fingerprint';
import { recordsToCsv } from './format';
import { analyseCsv, type ImportHooks } from './importer';
import { ImportCancelledError, ROW_ERROR_KINDS, type RowErrorKind } from './issues';
import type { CsvImportOptions } from './mapping';
import { blobSource, stringSource } from './text';

const HEADER = 'age,sex,cp,trestbps,chol,fbs,restecg,thalach,exang,oldpeak,slope,ca,thal,target';
const GOOD = '63,1,1,145,233,1,2,150,0,2.3,3,0,6,0';
const GOOD2 = '67,1,4,160,286,0,2,108,1,1.5,2,3,3,1';

const analyse = (text: string, options?: CsvImportOptions, hooks?: ImportHooks, chunkChars?: number) =>
  analyseCsv(stringSource(text, { chunkChars }), heartRisk, options, hooks);

/** Replaces one field (by header name) of a good row. */
function row(changes: Record<string, string> = {}, base = GOOD): string {
  const names = HEADER.split(',');
  const cells = base.split(',');
  for (const [k, v] of Object.entries(changes)) cells[names.indexOf(k)] = v;
  return cells.join(',');
}

const lines = (...rows: string[]) => rows.join('\n') + '\n';

describe('analyseCsv: reading files', () => {
  it('imports a plain file with a header', async () => {
    const a = await analyse(lines(HEADER, GOOD, GOOD2));
    expect(a.canImport).toBe(true);
    expect(a.settings).toMatchObject({ delimiter: ',', hasHeader: true, newline: '\n', decimal: '.' });
    expect(a.headerLine).toBe(1);
    expect(a.rows).toEqual({ data: 2, blank: 0, accepted: 2, rejected: 0 });
    expect(a.labelRule).toBe('target (0/1)');
    expect(a.preview[0]).toEqual({ line: 2, values: [63, 1, 1, 145, 233, 1, 2, 150, 0, 2.3, 3, 0, 6], label: 0 });
    expect(a.issues).toEqual([]);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('detects ; tab and | delimiters and reads the same records, with the same fingerprint', async () => {
    const base = await analyse(lines(HEADER, GOOD, GOOD2));
    for (const d of [';', '\t', '|']) {
      const text = lines(HEADER, GOOD, GOOD2).replaceAll(',', d);
      const a = await analyse(text);
      expect(a.settings.delimiter).toBe(d);
      expect(a.rows.accepted).toBe(2);
      expect(a.fingerprint).toBe(base.fingerprint);
    }
  });

  it('reads decimal commas in a semicolon file', async () => {
    const text = lines(HEADER, GOOD, GOOD2).replaceAll(',', ';').replace('2.3', '2,3').replace('1.5', '1,5');
    const a = await analyse(text);
    expect(a.settings).toMatchObject({ delimiter: ';', decimal: ',' });
    expect(a.preview.map((p) => p.values[9])).toEqual([2.3, 1.5]);
  });

  it('strips a byte-order mark and reads CRLF files the same as LF ones', async () => {
    const base = await analyse(lines(HEADER, GOOD, GOOD2));
    const a = await analyse('\ufeff' + [HEADER, GOOD, GOOD2].join('\r\n') + '\r\n');
    expect(a.settings.newline).toBe('\r\n');
    expect(a.columns[0].name).toBe('age');
    expect(a.mapping.features.age).toBe(0);
    expect(a.fingerprint).toBe(base.fingerprint);
    // A Blob with a UTF-8 BOM, read by the streaming decoder.
    const bytes = new TextEncoder().encode('\ufeff' + lines(HEADER, GOOD, GOOD2));
    const viaBlob = await analyseCsv(blobSource(new Blob([bytes]), { chunkBytes: 7 }), heartRisk);
    expect(viaBlob.columns[0].name).toBe('age');
    expect(viaBlob.fingerprint).toBe(base.fingerprint);
  });

  it('reads a file without a header in the UCI layout (13 features then the 0–4 diagnosis) once the proposal is accepted', async () => {
    const text = lines(row({ target: '0' }), row({ target: '2' }, GOOD2), row({ target: '4' }));
    // Proposed, not applied: the person accepts reading the columns in the template's order.
    const first = await analyse(text);
    expect(first.settings.hasHeader).toBe(false);
    expect(first.rows.accepted).toBe(0);
    expect(first.proposals.positional?.reason).toMatch(/^14 columns in the template's order/);
    const a = await analyse(text, { mapping: first.proposals.positional!.mapping });
    expect(a.headerLine).toBeNull();
    expect(a.columns.map((c) => c.name).slice(0, 2)).toEqual(['Column 1', 'Column 2']);
    expect(a.labelRule).toBe('Column 14 > 0');
    expect(a.preview.map((p) => p.label)).toEqual([0, 1, 1]);
    expect(a.rows.accepted).toBe(3);
  });

  it('skips blank lines (and lines of bare delimiters) and keeps counting them', async () => {
    const a = await analyse(lines('', HEADER, '', GOOD, ',,,,,,,,,,,,,', '   ', row({ cp: '9' })));
    expect(a.headerLine).toBe(2);
    expect(a.rows).toMatchObject({ data: 2, blank: 4, accepted: 1, rejected: 1 });
    expect(a.preview[0].line).toBe(4);
    expect(a.errors).toEqual([{ line: 7, problems: [expect.objectContaining({ kind: 'unknown-category', column: 'cp', value: '9' })] }]);
  });

  it('keeps quoted delimiters and line breaks inside fields, and counts the lines they span', async () => {
    const header = HEADER + ',notes';
    const a = await analyse(
      lines(header, GOOD + ',"chest pain, at rest"', GOOD2 + ',"seen twice:\nonce in May\nonce in June"', row({ cp: '5' }) + ',x', `"${row({ age: 'abc' }).replace(/,/g, '","')}",""`),
    );
    expect(a.rows.accepted).toBe(2);
    expect(a.errors.map((e) => [e.line, e.problems[0].kind])).toEqual([
      [6, 'unknown-category'],
      [7, 'unparseable-number'],
    ]);
    expect(a.issues).toContainEqual(expect.objectContaining({ kind: 'unused-columns', severity: 'info', message: 'Not imported: "notes".' }));
  });

  it('matches columns by name whatever their order, case, spacing and synonyms', async () => {
    const base = await analyse(lines(HEADER, GOOD, GOOD2));
    const names = ['Target', 'Age', 'Sex', 'Chest Pain Type', 'resting_bp', 'Cholesterol', 'FastingBS', 'RestingECG', 'MaxHR', 'ExerciseAngina', 'Oldpeak', 'ST_Slope', 'ca', 'thal'];
    const reorder = (r: string) => {
      const c = r.split(',');
      return [c[13], ...c.slice(0, 13)].join(',');
    };
    const a = await analyse(lines(names.join(','), reorder(GOOD), reorder(GOOD2)));
    expect(a.mapping.label).toEqual({ kind: 'direct', column: 0 });
    expect(a.mapping.features).toMatchObject({ age: 1, cp: 3, trestbps: 4, chol: 5, thalach: 8, slope: 11 });
    expect(a.fingerprint).toBe(base.fingerprint);
  });

  it('gives the same result however the file is chunked', async () => {
    const records = generateHeartRecords(demoHospitals[0]);
    let text = recordsToCsv(heartRisk, records, { missing: '?' });
    // Plant problems at known lines, beyond the first chunk.
    const all = text.split('\n');
    all[400] = row({ cp: '7' });
    all[555] = '"' + row({ age: '50' }).replace(',', '",');
    all[590] = row({ trestbps: '"1\n2"' });
    text = all.join('\n');
    const results = [];
    for (const chunkChars of [997, 4096, 1 << 20]) {
      const batches: RecordBatch[] = [];
      results.push({ a: await analyse(text, undefined, { onRecords: (b) => void batches.push(b), batchSize: 128 }, chunkChars), batches });
    }
    const [first, ...rest] = results;
    for (const r of rest) {
      expect(r.a).toEqual(first.a);
      expect(r.batches).toEqual(first.batches);
    }
    expect(first.a.errors.map((e) => [e.line, e.problems[0].kind])).toEqual([
      [401, 'unknown-category'],
      [591, 'unparseable-number'],
    ]);
    expect(first.a.rows.accepted).toBe(records.length - 2);
    expect(first.batches.reduce((s, b) => s + b.n, 0)).toBe(records.length - 2);
    expect(first.batches.slice(0, -1).every((b) => b.n === 128)).toBe(true);
  });

  it('round-trips generated records: the stored values equal the originals, missing kept as null', async () => {
    const records = generateHeartRecords(demoHospitals[2]);
    const batches: RecordBatch[] = [];
    const a = await analyse(recordsToCsv(heartRisk, records, { missing: '?' }), undefined, { onRecords: (b) => void batches.push(b) });
    const stored = batches.flatMap(batchToRecords);
    expect(stored.map((r) => r.values)).toEqual(records.map((r) => r.values));
    expect(stored.map((r) => r.label)).toEqual(records.map((r) => r.label));
    expect(stored[0].id).toBe('line-2');
    expect(a.fingerprint).toBe(await fingerprintRecords(heartRisk, records));
    const missingChol = records.filter((r) => r.values.chol === null).length;
    expect(missingChol).toBeGreaterThan(0);
    expect(a.stats.features.find((f) => f.name === 'chol')!.missing).toBe(missingChol);
  });
});

describe('analyseCsv: missing values', () => {
  it('reads blank, ?, NA, N/A, null and the column sentinels as missing', async () => {
    const text = lines(HEADER, row({ chol: '' }), row({ chol: '?' }), row({ chol: 'NA' }), row({ chol: 'n/a' }), row({ chol: 'NULL' }), row({ chol: '-9' }), row({ chol: '0' }), row({ ca: '-9' }));
    const without = await analyse(text);
    expect(without.errors.map((e) => [e.line, e.problems[0].kind])).toEqual([
      [7, 'out-of-range'],
      [8, 'out-of-range'],
      [9, 'out-of-range'],
    ]);
    const mapping = { ...without.mapping, sentinels: [{ column: 4, values: [-9, 0] }] };
    const a = await analyse(text, { mapping });
    expect(a.rows).toMatchObject({ accepted: 7, rejected: 1 });
    expect(a.errors[0]).toMatchObject({ line: 9, problems: [{ kind: 'out-of-range', column: 'ca' }] });
    expect(a.stats.features.find((f) => f.name === 'chol')).toMatchObject({ count: 0, missing: 7 });
  });

  it('warns about a feature the file lacks and keeps it missing for every row', async () => {
    const drop = (r: string) => r.split(',').filter((_, i) => i !== 11).join(',');
    const a = await analyse(lines(drop(HEADER), drop(GOOD), drop(GOOD2)));
    expect(a.canImport).toBe(true);
    expect(a.mapping.features.ca).toBeNull();
    expect(a.issues).toContainEqual(expect.objectContaining({ kind: 'missing-feature', severity: 'warning' }));
    expect(a.issues.find((i) => i.kind === 'missing-feature')!.message).toMatch(/Major vessels.*\(ca\)/);
    expect(a.preview.map((p) => p.values[11])).toEqual([null, null]);
    expect(a.stats.features.find((f) => f.name === 'ca')).toMatchObject({ count: 0, missing: 2 });
  });

  it('accepts category and binary values written as words', async () => {
    const a = await analyse(lines(HEADER, row({ sex: 'male', cp: 'Asymptomatic', fbs: 'no', exang: 'Yes' }), row({ sex: 'F', thal: 'reversible defect' })));
    expect(a.rows.accepted).toBe(2);
    expect(a.preview[0].values.slice(0, 3)).toEqual([63, 1, 4]);
    expect(a.preview[0].values[5]).toBe(0);
    expect(a.preview[0].values[8]).toBe(1);
    expect(a.preview[1].values[1]).toBe(0);
    expect(a.preview[1].values[12]).toBe(7);
  });
});

describe('analyseCsv: malformed rows, each with its line', () => {
  const cases: { kind: RowErrorKind; row: string; column?: string }[] = [
    { kind: 'unparseable-number', row: row({ age: 'sixty' }), column: 'age' },
    { kind: 'not-integer', row: row({ age: '63.5' }), column: 'age' },
    { kind: 'out-of-range', row: row({ trestbps: '400' }), column: 'trestbps' },
    { kind: 'unknown-category', row: row({ cp: '5' }), column: 'cp' },
    { kind: 'invalid-binary', row: row({ sex: '2' }), column: 'sex' },
    { kind: 'missing-label', row: row({ target: '?' }), column: 'target' },
    { kind: 'invalid-label', row: row({ target: 'maybe' }), column: 'target' },
    { kind: 'field-count', row: GOOD.split(',').slice(0, 10).join(',') },
    { kind: 'malformed-quote', row: `"63"x",${GOOD.slice(3)}` },
    { kind: 'unterminated-quote', row: `"63,${GOOD.slice(3)}` },
  ];

  it('covers every kind of row error', () => {
    expect(new Set(cases.map((c) => c.kind))).toEqual(new Set(ROW_ERROR_KINDS));
  });

  for (const c of cases) {
    it(`${c.kind}: reported on its line, with its reason, and the row dropped`, async () => {
      // The bad row sits after a blank line and a two-line quoted field, on line 7; good rows follow
      // unless the problem is a quote that never closes.
      const text = lines(HEADER + ',note', GOOD + ',', '', GOOD2 + ',"a\nb"', GOOD + ',x', c.row + (c.kind === 'field-count' ? '' : ',n'), ...(c.kind === 'unterminated-quote' ? [] : [GOOD + ',y']));
      const a = await analyse(text);
      expect(a.errors).toHaveLength(1);
      const [e] = a.errors;
      expect(e.line).toBe(7);
      expect(e.problems).toHaveLength(1);
      expect(e.problems[0].kind).toBe(c.kind);
      expect(e.problems[0].message.length).toBeGreaterThan(5);
      if (c.column) expect(e.problems[0].column).toBe(c.column);
      expect(a.errorCounts).toEqual({ [c.kind]: 1 });
      expect(a.rows.rejected).toBe(1);
      expect(a.rows.accepted).toBe(c.kind === 'unterminated-quote' ? 3 : 4);
      expect(a.canImport).toBe(true);
    });
  }

  it('reports a duplicated header name on the header line and uses the first column', async () => {
    const a = await analyse(lines('', HEADER.replace('fbs', 'chol'), GOOD));
    const dup = a.issues.find((i) => i.kind === 'duplicate-header');
    expect(dup).toMatchObject({ severity: 'warning', line: 2 });
    expect(dup!.message).toContain('Columns 5 and 6');
    expect(a.mapping.features.chol).toBe(4);
  });

  it('lists every problem of a row, and counts rows per kind', async () => {
    const a = await analyse(lines(HEADER, row({ age: 'x', cp: '0', target: '' }), row({ cp: '0' }), GOOD));
    expect(a.errors[0].problems.map((p) => p.kind)).toEqual(['unparseable-number', 'unknown-category', 'missing-label']);
    expect(a.errorCounts).toEqual({ 'unparseable-number': 1, 'unknown-category': 2, 'missing-label': 1 });
  });

  it('tolerates a trailing delimiter but not an extra value', async () => {
    const a = await analyse(lines(HEADER, GOOD + ',', GOOD + ',5'));
    expect(a.rows).toMatchObject({ accepted: 1, rejected: 1 });
    expect(a.errors[0]).toMatchObject({ line: 3, problems: [{ kind: 'field-count' }] });
  });

  it('refuses an empty file, a header without rows, a binary file and a file where no row fits', async () => {
    expect((await analyse('')).issues).toEqual([expect.objectContaining({ kind: 'empty-file', severity: 'error' })]);
    expect((await analyse('\n\n  \n')).canImport).toBe(false);
    const headerOnly = await analyse(HEADER + '\n');
    expect(headerOnly.canImport).toBe(false);
    expect(headerOnly.issues).toContainEqual(expect.objectContaining({ kind: 'no-rows' }));
    const binary = await analyseCsv(blobSource(new Blob([new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 8])])), heartRisk);
    expect(binary.issues).toEqual([expect.objectContaining({ kind: 'not-text' })]);
    const none = await analyse(lines(HEADER, row({ cp: '9' })));
    expect(none.canImport).toBe(false);
    expect(none.issues).toContainEqual(expect.objectContaining({ kind: 'no-valid-rows' }));
  });
});

describe('analyseCsv: mapping and label rules', () => {
  it('turns num > 0 into the label, and yes/no words', async () => {
    const num = await analyse(lines(HEADER.replace('target', 'num'), row({ target: '0' }), row({ target: '3' }), row({ target: '1' })));
    expect(num.labelRule).toBe('num > 0');
    expect(num.stats.labelCounts).toEqual([1, 2]);
    const words = await analyse(lines(HEADER.replace('target', 'Diagnosis'), row({ target: 'yes' }), row({ target: 'No' }), row({ target: 'maybe' })));
    expect(words.mapping.label).toEqual({ kind: 'match', column: 13, positive: ['yes'], negative: ['no'] });
    expect(words.labelRule).toBe("Diagnosis == 'yes'; 0 when 'no'");
    expect(words.errors).toEqual([{ line: 4, problems: [expect.objectContaining({ kind: 'invalid-label', value: 'maybe' })] }]);
  });

  it('takes the user’s mapping and checks it against the file', async () => {
    const text = lines(HEADER + ',outcome', GOOD + ',yes', GOOD2 + ',no');
    const auto = await analyse(text);
    const mapping = { ...auto.mapping, label: { kind: 'match' as const, column: 14, positive: ['yes'] } };
    const a = await analyse(text, { mapping });
    expect(a.preview.map((p) => p.label)).toEqual([1, 0]);
    expect(a.issues).toContainEqual(expect.objectContaining({ kind: 'unused-columns', message: 'Not imported: "target".' }));

    const twice = await analyse(text, { mapping: { ...auto.mapping, features: { ...auto.mapping.features, chol: 0 } } });
    expect(twice.canImport).toBe(false);
    expect(twice.issues).toContainEqual(expect.objectContaining({ kind: 'invalid-mapping', message: 'Column "age" is mapped to Age and Serum cholesterol' }));
    const outside = await analyse(text, { mapping: { ...auto.mapping, features: { ...auto.mapping.features, chol: 40 } } });
    expect(outside.issues).toContainEqual(expect.objectContaining({ kind: 'invalid-mapping', message: 'The file has no column 41' }));
    const noLabel = await analyse(lines(HEADER.replace('target', 'whatever'), GOOD));
    expect(noLabel.canImport).toBe(false);
    expect(noLabel.issues).toContainEqual(expect.objectContaining({ kind: 'no-label', severity: 'error' }));
  });

  it('lets the user say whether the first row is a header', async () => {
    const a = await analyse(lines(GOOD, GOOD2), { hasHeader: true });
    expect(a.headerLine).toBe(1);
    expect(a.rows.data).toBe(1);
  });
});

describe('analyseCsv: statistics, preview and progress', () => {
  it('summarises each feature and the label balance of the accepted rows', async () => {
    const a = await analyse(lines(HEADER, GOOD, GOOD2, row({ age: '50', chol: '?', target: '1' }), row({ cp: '9' })));
    const age = a.stats.features.find((f) => f.name === 'age')!;
    expect(age).toMatchObject({ count: 3, missing: 0, min: 50, max: 67 });
    expect(age.mean).toBeCloseTo(60, 10);
    expect(a.stats.features.find((f) => f.name === 'chol')).toMatchObject({ count: 2, missing: 1, min: 233, max: 286 });
    expect(a.stats.features.find((f) => f.name === 'cp')!.categories).toEqual([
      { code: 1, label: 'typical angina', count: 2 },
      { code: 2, label: 'atypical angina', count: 0 },
      { code: 3, label: 'non-anginal pain', count: 0 },
      { code: 4, label: 'asymptomatic', count: 1 },
    ]);
    expect(a.stats.features.find((f) => f.name === 'sex')!.categories).toEqual([
      { code: 0, label: 'female', count: 0 },
      { code: 1, label: 'male', count: 3 },
    ]);
    expect(a.stats.labelCounts).toEqual([1, 2]);
    expect(a.stats.records).toBe(3);
  });

  it('reports progress and stops when cancelled, before handing on more records', async () => {
    const text = recordsToCsv(heartRisk, generateHeartRecords(demoHospitals[0]));
    const progress: number[] = [];
    const done = await analyse(text, undefined, { onProgress: (p) => progress.push(p.bytesRead) }, 4096);
    expect(progress.at(-1)).toBe(text.length);
    expect(progress.every((b, i) => i === 0 || b >= progress[i - 1])).toBe(true);
    expect(done.rows.accepted).toBe(600);

    const controller = new AbortController();
    let stored = 0;
    const run = analyse(text, undefined, {
      signal: controller.signal,
      batchSize: 50,
      onRecords: (b) => {
        stored += b.n;
        if (stored >= 100) controller.abort();
      },
    }, 1024);
    await expect(run).rejects.toBeInstanceOf(ImportCancelledError);
    expect(stored).toBeLessThan(600);
  });
});

describe('fingerprint', () => {
  const text = lines(HEADER, GOOD, GOOD2, row({ chol: '?' }));

  it('is stable across re-imports of the same file and of the same data written differently', async () => {
    const a = await analyse(text);
    expect((await analyse(text)).fingerprint).toBe(a.fingerprint);
    const quoted = text
      .trim()
      .split('\n')
      .map((l) => l.split(',').map((c) => `"${c}"`).join(','))
      .join('\r\n');
    expect((await analyse(quoted)).fingerprint).toBe(a.fingerprint);
    expect((await analyse(text.replace('63,', '63.0,').replace('?', 'NA'))).fingerprint).toBe(a.fingerprint);
    // Rows that are dropped do not count.
    expect((await analyse(text + row({ cp: '9' }) + '\n')).fingerprint).toBe(a.fingerprint);
  });

  it('changes when one cell changes', async () => {
    const a = await analyse(text);
    expect((await analyse(text.replace('233', '234'))).fingerprint).not.toBe(a.fingerprint);
    expect((await analyse(text.replace('150,0,2.3,3,0,6,0', '150,0,2.3,3,0,6,1'))).fingerprint).not.toBe(a.fingerprint);
    expect((await analyse(text.replace('?', '250'))).fingerprint).not.toBe(a.fingerprint);
  });
});
