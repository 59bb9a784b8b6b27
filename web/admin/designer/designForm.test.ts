import { describe, expect, it } from 'vitest';
import { designFromColumns } from '../../../shared/data/columns';
import { designParameterCount, type StudyDesignInput } from '../../../shared/tasks/design';
import { parseDataDictionary } from '../../../shared/tasks/dictionary';
import {
  addFeature,
  checkForm,
  codesText,
  describePath,
  designFromForm,
  emptyForm,
  formFromDesign,
  parseList,
  parseNumberText,
  removeFeature,
  updateFeature,
  updateLabel,
  type DesignForm,
} from './designForm';

const design: StudyDesignInput = {
  family: 'sepsis-risk',
  name: 'Sepsis within 48 h',
  description: '',
  features: [
    { kind: 'numeric', name: 'lactate', label: 'Lactate', unit: 'mmol/l', min: 0.3, max: 15, limits: { min: 0, max: 40 }, integer: false, mean: 2, std: 1.5 },
    { kind: 'binary', name: 'fever', label: 'Fever', values: ['no', 'yes'] },
    { kind: 'categorical', name: 'ward', label: 'Ward', categories: [{ code: 1, label: 'ICU' }, { code: 2, label: 'medical' }, { code: 3, label: 'surgical' }], mode: 2 },
  ],
  label: { name: 'sepsis', description: 'Sepsis within 48 hours', positive: 'sepsis', negative: 'no sepsis', rule: { kind: 'match', positive: ['1', 'yes'], negative: ['0', 'no'] } },
  model: { kind: 'mlp', hidden: [{ units: 8, activation: 'relu' }] },
  missingIndicators: true,
  defaults: { rounds: 20, batchSize: 64 },
};

const valid = (): DesignForm => formFromDesign(design);

describe('form ⇄ design', () => {
  it('a design survives the round trip through the form, reference statistics and hidden defaults included', () => {
    const { design: back, problems } = designFromForm(valid());
    expect(problems).toEqual([]);
    expect(back).toEqual(design);
  });

  it('checks a valid form into a template with its parameter count and input width', () => {
    const check = checkForm(valid());
    expect(check.issues).toEqual([]);
    // lactate + ?, fever + ?, ward (3) + ?
    expect(check.inputWidth).toBe(8);
    expect(check.parameters).toBe(designParameterCount(design));
    expect(check.parameters).toBe(8 * 8 + 8 + 8 + 1);
  });

  it('logistic regression without missing indicators is smaller', () => {
    const form = { ...valid(), model: { kind: 'logistic' as const, hidden: [] }, missingIndicators: false };
    const check = checkForm(form);
    expect(check.inputWidth).toBe(5);
    expect(check.parameters).toBe(6);
  });
});

describe('reading what was typed', () => {
  it('numbers accept a decimal comma; text that is no number is said so by its field', () => {
    expect(parseNumberText(' 1,5 ')).toBe(1.5);
    expect(parseNumberText('-3')).toBe(-3);
    expect(parseNumberText('')).toBeUndefined();
    expect(parseNumberText('abc')).toBe('invalid');
    const form = valid();
    const bad = updateFeature(form, form.features[0].key, { min: 'low', max: '' });
    const check = checkForm(bad);
    expect(check.template).toBeNull();
    expect(check.issues).toEqual([
      { path: ['features', 0, 'min'], message: '“low” is not a number' },
      { path: ['features', 0, 'max'], message: 'enter a number' },
    ]);
  });

  it('codes text parses to categories and back', () => {
    const form = valid();
    const ward = form.features[2];
    expect(ward.codes).toBe('1=ICU; 2=medical; 3=surgical');
    expect(codesText([{ code: 0, label: 'a' }, { code: 5, label: 'b c' }])).toBe('0=a; 5=b c');
    const edited = designFromForm(updateFeature(form, ward.key, { codes: '1=ICU | 4=other' })).design.features[2];
    // The imputed code 2 is gone from the codes: the first category's is imputed instead.
    expect(edited).toEqual({ kind: 'categorical', name: 'ward', label: 'Ward', categories: [{ code: 1, label: 'ICU' }, { code: 4, label: 'other' }] });
    const wrong = checkForm(updateFeature(form, ward.key, { codes: '1=ICU; two' }));
    expect(wrong.issues).toEqual([{ path: ['features', 2, 'categories'], message: '"two" is not code=meaning (1=typical angina; 2=atypical angina)' }]);
    expect(checkForm(updateFeature(form, ward.key, { codes: '1=ICU' })).issues[0].message).toMatch(/at least two codes/);
  });

  it('lists split on commas, semicolons and lines', () => {
    expect(parseList(' yes, 1;Y\n\n true ')).toEqual(['yes', '1', 'Y', 'true']);
  });

  it('the possible range needs both ends', () => {
    const form = valid();
    const check = checkForm(updateFeature(form, form.features[0].key, { limitsMax: '' }));
    expect(check.issues).toEqual([{ path: ['features', 0, 'limits'], message: 'give both ends of the possible range, or neither' }]);
  });
});

describe('issues in plain words', () => {
  it('an empty form names each field it needs, without zod jargon', () => {
    const check = checkForm(emptyForm());
    const said = check.issues.map((i) => `${describePath(i.path, emptyForm())}: ${i.message}`);
    expect(said).toContain('Study id: a study id is lower-case letters and digits, words joined by dashes (sepsis-risk)');
    expect(said).toContain('Study name: cannot be empty');
    expect(said).toContain('Feature 1 · plausible min: enter a number');
    expect(said).toContain('Label · column name: a feature name starts with a lower-case letter and holds letters, digits and _ only');
    expect(said.join('\n')).not.toMatch(/Invalid input|expected string/);
  });

  it("a feature's union error reads as the feature's own kind", () => {
    const form = valid();
    const check = checkForm(updateFeature(form, form.features[0].key, { label: '  ' }));
    expect(check.issues.map((i) => [describePath(i.path, form), i.message])).toEqual([
      ['Feature 1 (lactate) · label', 'cannot be empty'],
    ]);
    const inverted = checkForm(updateFeature(form, form.features[0].key, { min: '20', max: '10', limitsMin: '', limitsMax: '' }));
    expect(inverted.issues).toEqual([{ path: ['features', 0, 'max'], message: 'the plausible range needs its lowest value below its highest' }]);
  });

  it('a duplicate feature name and a label that is a feature are found', () => {
    const form = valid();
    const dup = updateFeature(form, form.features[1].key, { name: 'lactate' });
    expect(checkForm(dup).issues).toEqual([{ path: ['features', 1, 'name'], message: "two features are named 'lactate'" }]);
    expect(checkForm(updateLabel(form, { name: 'fever' })).issues).toEqual([{ path: ['label', 'name'], message: "the label 'fever' is also a feature" }]);
  });

  it('hidden layers: units must be whole numbers', () => {
    const form = valid();
    const check = checkForm({ ...form, model: { kind: 'mlp', hidden: [{ units: '2.5', activation: 'relu' }] } });
    expect(check.issues.map((i) => [describePath(i.path, form), i.message])).toEqual([['Hidden layer 1 · units', 'a whole number is needed']]);
  });
});

describe('label and rules', () => {
  it('compare and direct rules', () => {
    const form = updateLabel(valid(), { rule: 'compare', op: '>=', value: '2' });
    expect(designFromForm(form).design.label.rule).toEqual({ kind: 'compare', op: '>=', value: 2 });
    expect(designFromForm(updateLabel(form, { rule: 'direct' })).design.label.rule).toEqual({ kind: 'direct' });
    expect(designFromForm(updateLabel(form, { rule: 'none' })).design.label).not.toHaveProperty('rule');
    expect(checkForm(updateLabel(form, { value: 'x' })).issues).toEqual([{ path: ['label', 'rule', 'value'], message: '“x” is not a number' }]);
  });

  it('switching to several classes seeds them from the yes/no meanings and drops a yes/no rule', () => {
    const multi = updateLabel(valid(), { multiclass: true });
    expect(multi.label.classes.map((c) => c.name)).toEqual(['no sepsis', 'sepsis', '']);
    expect(multi.label.rule).toBe('none');
    expect(checkForm(multi).issues.map((i) => i.path)).toEqual([['label', 'classes', 2]]);
    const named = updateLabel(multi, { classes: [{ name: 'none', values: '0' }, { name: 'mild', values: '1, 2' }, { name: 'severe', values: '3' }], rule: 'classes' });
    const check = checkForm(named);
    expect(check.issues).toEqual([]);
    expect(check.design.label).toMatchObject({ classes: ['none', 'mild', 'severe'], positive: 'severe', negative: 'none', rule: { kind: 'classes', values: [['0'], ['1', '2'], ['3']] } });
    expect(check.template?.model.layers.at(-1)).toMatchObject({ units: 3, activation: 'softmax' });
  });

  it('issues come in the order of the form', () => {
    const form = valid();
    const both = updateFeature(updateLabel(form, { description: '' }), form.features[1].key, { name: '' });
    expect(checkForm({ ...both, name: '' }).issues.map((i) => describePath(i.path, both))).toEqual(['Study name', 'Feature 2 · name', 'Label · description']);
  });

  it('a class without values under the classes rule is named', () => {
    const multi = updateLabel(updateLabel(valid(), { multiclass: true }), { classes: [{ name: 'a', values: '0' }, { name: 'b', values: '' }, { name: 'c', values: '2' }], rule: 'classes' });
    const check = checkForm(multi);
    expect(check.issues.map((i) => describePath(i.path, multi))).toEqual(['Label rule · values of class 2']);
  });
});

describe('starting points', () => {
  it('a data dictionary fills the form', () => {
    const dict = parseDataDictionary(
      ['name,type,unit,range,limits,codes,description', 'age,integer,years,18-100,0-120,,Age at admission', 'sex,binary,,,,0=female;1=male,Sex', 'stage,categorical,,,,1=I;2=II;3=III,Tumour stage', 'outcome,label,,,,0=survived;1=died,Death within 30 days'].join('\n'),
    );
    const form = formFromDesign({ features: dict.features, label: dict.label ?? undefined });
    expect(form.features.map((f) => [f.name, f.kind])).toEqual([
      ['age', 'numeric'],
      ['sex', 'binary'],
      ['stage', 'categorical'],
    ]);
    expect(form.features[0]).toMatchObject({ min: '18', max: '100', limitsMin: '0', limitsMax: '120', integer: true, unit: 'years' });
    expect(form.features[1]).toMatchObject({ value0: 'female', value1: 'male' });
    expect(form.label).toMatchObject({ name: 'outcome', rule: 'match', positiveValues: '1, died', negativeValues: '0, survived' });
    const check = checkForm({ ...form, family: 'death-30d', name: 'Death within 30 days' });
    expect(check.issues).toEqual([]);
    expect(check.inputWidth).toBe(2 + 2 + 4);
  });

  it("a site's column statistics fill the form, means and SDs kept", () => {
    const { features, label } = designFromColumns({
      source: 'export.csv',
      rows: 500,
      columns: [
        { name: 'Age', type: 'integer', present: 500, missing: 0, p01: 20, p99: 90, mean: 55, std: 12 },
        { name: 'outcome', type: 'binary', present: 500, missing: 0, codes: ['0', '1'] },
      ],
    });
    const form = formFromDesign({ features, label: label ?? undefined });
    expect(form.features[0].kept).toMatchObject({ mean: 55, std: 12 });
    expect(designFromForm(form).design.features[0]).toMatchObject({ mean: 55, std: 12 });
  });

  it('rows are added and removed by key', () => {
    const form = valid();
    const more = addFeature(form);
    expect(more.features).toHaveLength(4);
    expect(new Set(more.features.map((f) => f.key)).size).toBe(4);
    const less = removeFeature(more, form.features[1].key);
    expect(less.features.map((f) => f.name)).toEqual(['lactate', 'ward', '']);
  });
});
