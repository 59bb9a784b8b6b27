import { describe, expect, it } from 'vitest';
import { templateFromDesign } from '../tasks/design';
import { columnSummarySchema, designFromColumns, summariseColumns, type ColumnStats, type ColumnSummary } from './columns';
import { stringSource } from './csv/text';

/** A CSV from named columns of cells (all the same length). */
function csv(columns: Record<string, readonly (string | number)[]>, delimiter = ','): string {
  const names = Object.keys(columns);
  const n = columns[names[0]].length;
  const lines = [names.join(delimiter)];
  for (let r = 0; r < n; r++) lines.push(names.map((c) => String(columns[c][r])).join(delimiter));
  return lines.join('\n') + '\n';
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const summarise = (text: string, chunkChars?: number) => summariseColumns(stringSource(text, chunkChars ? { chunkChars } : {}), 'export.csv');
const column = (s: ColumnSummary, name: string): ColumnStats => {
  const c = s.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c;
};

describe('summariseColumns', () => {
  const n = 60;
  const text = csv({
    lactate: range(n).map((i) => (0.5 + i * 0.1).toFixed(1)),
    age: range(n).map((i) => 20 + i),
    fever: range(n).map((i) => i % 2),
    smoker: range(n).map((i) => (i % 3 === 0 ? 'yes' : 'no')),
    stage: range(n).map((i) => 1 + (i % 4)),
    ward: range(n).map((i) => ['ICU', 'medical', 'surgical'][i % 3]),
    note: range(n).map((i) => `seen by doctor ${i}`),
    blank: range(n).map(() => ''),
  });

  it('detects numeric, integer, binary (0/1 and words), coded, text and empty columns', async () => {
    const s = await summarise(text);
    expect(s.source).toBe('export.csv');
    expect(s.rows).toBe(n);
    expect(s.columns.map((c) => [c.name, c.type])).toEqual([
      ['lactate', 'numeric'],
      ['age', 'integer'],
      ['fever', 'binary'],
      ['smoker', 'binary'],
      ['stage', 'categorical'],
      ['ward', 'categorical'],
      ['note', 'text'],
      ['blank', 'empty'],
    ]);
    expect(columnSummarySchema.parse(s)).toEqual(s);
  });

  it('gives numbers a range and moments, coded columns their codes, text nothing of its values', async () => {
    const s = await summarise(text);
    const age = column(s, 'age');
    expect(age).toMatchObject({ present: n, missing: 0 });
    expect(age.mean).toBeCloseTo(20 + (n - 1) / 2, 10);
    expect(age.std).toBeCloseTo(Math.sqrt((n * n - 1) / 12), 10);
    expect(age.p01).toBeGreaterThan(20);
    expect(age.p99).toBeLessThan(20 + n - 1);
    expect(age.codes).toBeUndefined();
    // Most frequent first.
    expect(column(s, 'smoker').codes).toEqual(['no', 'yes']);
    expect(column(s, 'fever').codes?.slice().sort()).toEqual(['0', '1']);
    expect(column(s, 'stage').codes?.slice().sort()).toEqual(['1', '2', '3', '4']);
    expect(column(s, 'ward').codes?.slice().sort()).toEqual(['ICU', 'medical', 'surgical']);
    for (const name of ['note', 'blank', 'fever', 'ward']) {
      const c = column(s, name);
      expect([c.p01, c.p99, c.mean, c.std]).toEqual([undefined, undefined, undefined, undefined]);
    }
    expect(column(s, 'note').codes).toBeUndefined();
    expect(JSON.stringify(s)).not.toContain('doctor');
    expect(column(s, 'blank')).toEqual({ name: 'blank', type: 'empty', present: 0, missing: n });
  });

  it('integer codes beyond ten distinct values are an integer range, not categories', async () => {
    const s = await summarise(csv({ score: range(200).map((i) => i % 15) }));
    expect(column(s, 'score')).toMatchObject({ type: 'integer', p01: expect.any(Number), p99: expect.any(Number) });
    expect(column(s, 'score').codes).toBeUndefined();
  });

  it('the range is the 1st to 99th percentile, never the one outlier', async () => {
    const values = range(1000).map((i) => 50 + (i % 100) / 10);
    values[417] = 9999;
    const s = await summarise(csv({ glucose: values.map(String) }));
    const g = column(s, 'glucose');
    expect(g.type).toBe('numeric');
    expect(g.p99).toBeLessThan(9999);
    expect(g.p99).toBeLessThanOrEqual(59.9);
    expect(g.p01).toBeGreaterThanOrEqual(50);
    expect(g.p01).toBeGreaterThan(Math.min(...values));
    expect(JSON.stringify(s)).not.toContain('9999');
  });

  it('leaves out codes fewer than five records share', async () => {
    const ward = [...Array(20).fill('ICU'), ...Array(5).fill('medical'), ...Array(4).fill('surgical'), 'burns'];
    const s = await summarise(csv({ ward }));
    expect(column(s, 'ward')).toMatchObject({ type: 'categorical', present: 30 });
    expect(column(s, 'ward').codes).toEqual(['ICU', 'medical']);
  });

  it('reads a semicolon-separated file with decimal commas', async () => {
    const text = ['weight;height;sex', ...range(30).map((i) => `${70 + i},5;1,${60 + i};${i % 2 ? 'F' : 'M'}`)].join('\r\n');
    const s = await summarise(text);
    expect(s.rows).toBe(30);
    expect(column(s, 'weight')).toMatchObject({ type: 'numeric', present: 30 });
    expect(column(s, 'weight').mean).toBeCloseTo(70.5 + 14.5, 10);
    expect(column(s, 'height').p01).toBeGreaterThan(1.6);
    expect(column(s, 'height').p99).toBeLessThan(1.9);
    expect(column(s, 'sex')).toMatchObject({ type: 'binary' });
  });

  it('counts missing tokens as missing, not as values', async () => {
    const cells = ['1.5', 'NA', '2.5', '', '?', 'n/a', 'NULL', '3.5', '.', 'none', 'NaN', '4.5', '2.5'];
    const s = await summarise(csv({ crp: cells, id: range(cells.length) }));
    const crp = column(s, 'crp');
    expect(crp).toMatchObject({ type: 'numeric', present: 5, missing: 8 });
    expect(crp.mean).toBeCloseTo(2.9, 10);
  });

  it('a short row leaves its last cells missing; a blank line is no record', async () => {
    const s = await summarise('a,b\n1.5,2.5\n\n2.5\n3.5,4.5\n');
    expect(s.rows).toBe(3);
    expect(column(s, 'b')).toMatchObject({ present: 2, missing: 1 });
  });

  it('the same file gives the same summary, whatever the pieces it is read in', async () => {
    // More rows than the percentile sample keeps, so the sampling is exercised.
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const text = csv({ x: range(25_000).map(() => (next() * 100).toFixed(2)), k: range(25_000).map((i) => i % 3) });
    const a = await summarise(text);
    const b = await summarise(text);
    expect(b).toEqual(a);
    expect(await summarise(text, 4096)).toEqual(a);
    const x = column(a, 'x');
    expect(x.p01).toBeGreaterThan(0.3);
    expect(x.p01).toBeLessThan(2);
    expect(x.p99).toBeGreaterThan(98);
    expect(x.p99).toBeLessThan(99.7);
  });

  it('a numeric column with fewer than five values gives no range, mean or SD (they would be those patients\' values)', async () => {
    const s = await summarise('a,b\n1.5,1\nNA,2\nNA,3\n4.25,4\nNA,5\n');
    expect(column(s, 'a')).toEqual({ name: 'a', type: 'numeric', present: 2, missing: 3 });
    expect(JSON.stringify(s)).not.toMatch(/1\.5|4\.25/);
  });

  it('keeps only the file name, not its path', async () => {
    const s = await summariseColumns(stringSource('a\n1\n'), 'C:\\Users\\nurse\\exports\\icu.csv');
    expect(s.source).toBe('icu.csv');
  });
});

describe('designFromColumns', () => {
  const n = 40;
  const text = csv({
    'Age (years)': range(n).map((i) => 30 + i),
    Lactate: range(n).map((i) => (1 + i / 10).toFixed(1)),
    Smoker: range(n).map((i) => (i % 4 === 0 ? 'yes' : 'no')),
    Ward: range(n).map((i) => ['ICU', 'medical', 'surgical'][i % 3]),
    Stage: range(n).map((i) => 1 + (i % 3)),
    Comment: range(n).map((i) => `free text ${i}`),
    Empty: range(n).map(() => 'NA'),
    Outcome: range(n).map((i) => (i % 5 === 0 ? 1 : 0)),
  });

  it('finds the outcome column as the label and the others as features; text and empty columns are skipped', async () => {
    const d = designFromColumns(await summarise(text));
    expect(d.label).toMatchObject({ name: 'outcome', description: 'Outcome', positive: '1', negative: '0', rule: { kind: 'match', positive: ['1'], negative: ['0'] } });
    expect(d.features.map((f) => [f.kind, f.name])).toEqual([
      ['numeric', 'age_years'],
      ['numeric', 'lactate'],
      ['binary', 'smoker'],
      ['categorical', 'ward'],
      ['categorical', 'stage'],
    ]);
    expect(d.skipped).toEqual(['Comment', 'Empty']);
    expect(d.features[2]).toMatchObject({ values: ['no', 'yes'] });
    expect(d.features[3]).toMatchObject({ categories: [{ code: 1, label: 'ICU' }, { code: 2, label: 'medical' }, { code: 3, label: 'surgical' }] });
    expect(d.features[4]).toMatchObject({ categories: [{ code: 1, label: '1' }, { code: 2, label: '2' }, { code: 3, label: '3' }] });
  });

  it('a label named target with word classes; three classes make a multi-class label', async () => {
    const two = designFromColumns(await summarise(csv({ x: range(20).map((i) => i / 3), target: range(20).map((i) => (i % 2 ? 'yes' : 'no')) })));
    expect(two.label).toMatchObject({ name: 'target', positive: 'yes', negative: 'no' });
    const three = designFromColumns(await summarise(csv({ x: range(30).map((i) => i / 3), Target: range(30).map((i) => ['low', 'mid', 'high'][i % 3]) })));
    expect(three.label).toMatchObject({ name: 'target', classes: ['high', 'low', 'mid'], rule: { kind: 'classes', values: [['high'], ['low'], ['mid']] } });
  });

  it('no column named like an outcome: no label, the admin picks one', async () => {
    const d = designFromColumns(await summarise(csv({ x: range(20).map((i) => i / 3), flag: range(20).map((i) => i % 2) })));
    expect(d.label).toBeNull();
    expect(d.features.map((f) => f.name)).toEqual(['x', 'flag']);
  });

  it('the plausible range is the percentiles widened a little, never the outlier', async () => {
    const values = range(1000).map((i) => 50 + (i % 100) / 10);
    values[3] = 9999;
    const s = await summarise(csv({ glucose: values }));
    const g = column(s, 'glucose');
    const [f] = designFromColumns(s).features;
    if (f.kind !== 'numeric') throw new Error('numeric expected');
    expect(f.min).toBeLessThanOrEqual(g.p01!);
    expect(f.max).toBeGreaterThanOrEqual(g.p99!);
    expect(f.min).toBeGreaterThanOrEqual(0);
    expect(f.max).toBeLessThan(100);
    expect(f).toMatchObject({ integer: false, mean: g.mean, std: g.std });
  });

  it('a non-negative column keeps a range that does not go below zero', async () => {
    const s = await summarise(csv({ count: range(200).map((i) => i % 50) }));
    const [f] = designFromColumns(s).features;
    expect(f).toMatchObject({ kind: 'numeric', min: 0, integer: true });
  });

  it('columns whose names clash (BP and bp) get distinct feature names', async () => {
    const s = await summarise(csv({ bp: range(30).map((i) => 100 + i), BP: range(30).map((i) => 90 + i), Bp: range(30).map((i) => 80 + i) }));
    expect(designFromColumns(s).features.map((f) => f.name)).toEqual(['bp', 'bp_2', 'bp_3']);
  });

  it('a coded column mixing numbers and words keeps each number as its own code (the import reads "2" as code 2)', async () => {
    const stage = range(40).map((i) => ['1', '2', '10', 'unknown'][i % 4]);
    const d = designFromColumns(await summarise(csv({ stage })));
    expect(d.features[0]).toMatchObject({
      kind: 'categorical',
      categories: [{ code: 1, label: '1' }, { code: 2, label: '2' }, { code: 10, label: '10' }, { code: 3, label: 'unknown' }],
    });
  });

  it('makes a design that validates as a template once a model, family and name are added', async () => {
    const d = designFromColumns(await summarise(text));
    if (!d.label) throw new Error('label expected');
    const t = templateFromDesign({ family: 'icu-outcome', name: 'ICU outcome', features: d.features, label: d.label, model: { kind: 'logistic' } });
    expect(t.id).toBe('icu-outcome');
    expect(t.features.map((f) => f.name)).toEqual(['age_years', 'lactate', 'smoker', 'ward', 'stage']);
    expect(t.model.layers).toEqual([{ type: 'dense', units: 1, activation: 'sigmoid' }]);
  });
});
