import { describe, expect, it } from 'vitest';
import { templateFromDesign } from './design';
import { featureNameOf, parseCodes, parseDataDictionary, parseRange } from './dictionary';

describe('parseDataDictionary', () => {
  it('reads numeric (with unit, plausible and possible ranges), binary and categorical rows and the label row', () => {
    const csv = [
      'Variable,Type,Unit,Range,Limits,Codes,Description',
      'age,integer,years,18-100,0-120,,Age at admission',
      'Serum creatinine,numeric,mg/dl,0.3 to 15,,,',
      'sex,binary,,,,0=female;1=male,Sex',
      'stage,categorical,,,,"1=I; 2=II; 3=III",Tumour stage',
      'patient_id,id,,,,,',
      'death30,label,,,,0=survived;1=died,Death within 30 days',
    ].join('\r\n');
    const r = parseDataDictionary(csv);
    expect(r.problems).toEqual([]);
    expect(r.rows).toBe(6);
    expect(r.features).toEqual([
      { kind: 'numeric', name: 'age', label: 'Age at admission', unit: 'years', min: 18, max: 100, limits: { min: 0, max: 120 }, integer: true },
      { kind: 'numeric', name: 'serum_creatinine', label: 'Serum creatinine', unit: 'mg/dl', min: 0.3, max: 15, integer: false },
      { kind: 'binary', name: 'sex', label: 'Sex', values: ['female', 'male'] },
      { kind: 'categorical', name: 'stage', label: 'Tumour stage', categories: [{ code: 1, label: 'I' }, { code: 2, label: 'II' }, { code: 3, label: 'III' }] },
    ]);
    expect(r.label).toEqual({
      name: 'death30',
      description: 'Death within 30 days',
      positive: 'died',
      negative: 'survived',
      rule: { kind: 'match', positive: ['1', 'died'], negative: ['0', 'survived'] },
    });
    // What the dictionary gives makes a study once a model is chosen.
    const t = templateFromDesign({ family: 'oncology-30d', name: 'Death within 30 days', features: r.features, label: r.label!, model: { kind: 'logistic' } });
    expect(t.features).toHaveLength(4);
  });

  it('names each bad row by its line and keeps the good ones', () => {
    const csv = ['name;type;unit;range;codes', 'a;numeric;;;', 'b;numeric;;10-1;', 'c;categorical;;;1=x', 'd;binary;;;0=no|1=yes', 'e;colour;;;', 'f;numeric;;1-3;', ';numeric;;1-2;', 'g;categorical;;;1-x'].join('\n');
    const r = parseDataDictionary(csv);
    expect(r.features.map((f) => f.name)).toEqual(['d', 'f']);
    expect(r.problems).toEqual([
      { line: 2, message: 'a: a numeric column needs its plausible range (lowest-highest, as 18-100)' },
      { line: 3, message: 'b: the range 10-1 has its lowest value last' },
      { line: 4, message: 'c: a categorical column lists at least two codes (1=first;2=second)' },
      { line: 6, message: 'e: unknown type "colour" (numeric, integer, binary, categorical, or label for the outcome)' },
      { line: 8, message: 'no name' },
      { line: 9, message: 'g: "1-x" is not code=meaning (1=typical angina; 2=atypical angina)' },
    ]);
  });

  it('a three-class label becomes a multi-class study', () => {
    const r = parseDataDictionary('name,type,codes\nx,numeric\ngrade,outcome,1=low;2=mid;3=high\n');
    expect(r.label).toMatchObject({ classes: ['low', 'mid', 'high'], rule: { kind: 'classes', values: [['1', 'low'], ['2', 'mid'], ['3', 'high']] } });
    expect(r.problems).toEqual([{ line: 2, message: 'x: a numeric column needs its plausible range (lowest-highest, as 18-100)' }]);
  });

  it('a header without name or type is refused at line 1', () => {
    expect(parseDataDictionary('a,b\n1,2\n').problems[0]).toMatchObject({ line: 1, message: expect.stringMatching(/needs "name" and "type"/) });
    expect(parseDataDictionary('').problems).toEqual([{ line: 1, message: 'the file is empty' }]);
  });
});

describe('dictionary cells', () => {
  it('ranges', () => {
    expect(parseRange('18-100')).toEqual({ min: 18, max: 100 });
    expect(parseRange('-3 to 7')).toEqual({ min: -3, max: 7 });
    expect(parseRange('-5--1')).toEqual({ min: -5, max: -1 });
    expect(parseRange('[0.5, 15]')).toEqual({ min: 0.5, max: 15 });
    expect(parseRange('0..3')).toEqual({ min: 0, max: 3 });
    expect(parseRange('18–100')).toEqual({ min: 18, max: 100 });
    expect(parseRange('high')).toBeNull();
  });
  it('codes', () => {
    expect(parseCodes('0: no | 1: yes')).toEqual([{ code: 0, label: 'no' }, { code: 1, label: 'yes' }]);
    expect(parseCodes('1=a;1=b')).toEqual({ error: 'two meanings share a code' });
  });
  it('feature names', () => {
    expect(featureNameOf('Serum creatinine (mg/dl)')).toBe('serum_creatinine_mg_dl');
    expect(featureNameOf('2nd visit')).toBe('x_2nd_visit');
    expect(featureNameOf('Âge')).toBe('age');
  });
});
