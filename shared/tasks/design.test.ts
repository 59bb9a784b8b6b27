import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { autoMapping } from '../data/csv/mapping';
import { designParameterCount, templateFromDesign, versionIncompatibility, type StudyDesignInput } from './design';
import { parameterCount } from './modelSpec';

const design: StudyDesignInput = {
  family: 'sepsis-risk',
  name: 'Sepsis within 48 h',
  features: [
    { kind: 'numeric', name: 'lactate', label: 'Lactate', unit: 'mmol/l', min: 0.3, max: 15, limits: { min: 0, max: 40 } },
    { kind: 'binary', name: 'fever', label: 'Fever', values: ['no', 'yes'] },
    { kind: 'categorical', name: 'ward', label: 'Ward', categories: [{ code: 1, label: 'ICU' }, { code: 2, label: 'medical' }, { code: 3, label: 'surgical' }] },
  ],
  label: { name: 'sepsis', description: 'Sepsis within 48 hours', positive: 'sepsis', negative: 'no sepsis', rule: { kind: 'match', positive: ['1', 'yes'], negative: ['0', 'no'] } },
  model: { kind: 'mlp', hidden: [{ units: 8 }] },
};

describe('templateFromDesign', () => {
  it('makes a versioned tabular template with missing indicators, reference statistics from the range and the parameter count', () => {
    const t = templateFromDesign(design);
    expect(t.id).toBe('sepsis-risk');
    expect(templateFromDesign(design, 3).id).toBe('sepsis-risk@3');
    // lactate + ? , fever + ?, ward (3) + ?  = 2 + 2 + 4
    expect(t.model.inputDim).toBe(8);
    expect(t.model.layers.map((l) => (l.type === 'dense' ? [l.units, l.activation] : l.type))).toEqual([
      [8, 'relu'],
      [1, 'sigmoid'],
    ]);
    expect(designParameterCount(design)).toBe(8 * 8 + 8 + 8 + 1);
    const lactate = t.features[0];
    expect(lactate).toMatchObject({ kind: 'numeric', mean: 7.65, std: (15 - 0.3) / 4, limits: { min: 0, max: 40 }, missingIndicator: true });
    expect(t.features[2]).toMatchObject({ mode: 1 });
    expect(t.defaults.minParticipants).toBe(2);
  });

  it('logistic regression has no hidden layer; three classes make a softmax', () => {
    const multi = templateFromDesign({
      ...design,
      missingIndicators: false,
      model: { kind: 'logistic' },
      label: { name: 'grade', description: 'Grade', positive: 'III', negative: 'I', classes: ['I', 'II', 'III'] },
    });
    expect(multi.model.layers).toEqual([{ type: 'dense', units: 3, activation: 'softmax' }]);
    expect(multi.model.loss).toBe('categoricalCrossentropy');
    expect(parameterCount(multi.model)).toBe(5 * 3 + 3);
  });

  it('refuses what cannot be a study, naming the field', () => {
    const bad = (d: StudyDesignInput) => {
      try {
        templateFromDesign(d);
        return null;
      } catch (e) {
        expect(e).toBeInstanceOf(ZodError);
        return (e as ZodError).issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      }
    };
    expect(bad({ ...design, family: 'Sepsis Risk' })).toMatch(/^family: a study id is lower-case/);
    expect(bad({ ...design, features: [...design.features, design.features[1]] })).toMatch(/two features are named 'fever'/);
    expect(bad({ ...design, features: [{ kind: 'numeric', name: 'x', label: 'X', min: 5, max: 1 }] })).toMatch(/features.0.max: the plausible range/);
    expect(bad({ ...design, features: [{ kind: 'numeric', name: 'x', label: 'X', min: 0, max: 10, limits: { min: 1, max: 20 } }] })).toMatch(/must contain the plausible range/);
    expect(bad({ ...design, label: { ...design.label, name: 'lactate' } })).toMatch(/also a feature/);
    expect(bad({ ...design, label: { ...design.label, rule: { kind: 'classes', values: [['a'], ['b']] } } })).toMatch(/label.rule/);
  });

  it('the import reads the label by the template rule', () => {
    const t = templateFromDesign(design);
    const mapping = autoMapping(t, ['Lactate', 'fever', 'ward', 'sepsis'], true, [['1.2', 'yes', '1', 'yes']], '.');
    expect(mapping.features).toEqual({ lactate: 0, fever: 1, ward: 2 });
    expect(mapping.label).toEqual({ kind: 'match', column: 3, positive: ['1', 'yes'], negative: ['0', 'no'] });
  });

  it('a new version keeps the features and label, may change the model', () => {
    const v1 = templateFromDesign(design);
    expect(versionIncompatibility(v1, templateFromDesign({ ...design, model: { kind: 'logistic' } }, 2))).toBeNull();
    expect(versionIncompatibility(v1, templateFromDesign({ ...design, features: design.features.slice(1) }, 2))).toMatch(/keeps its features/);
  });
});
