import { describe, expect, it } from 'vitest';
import { heartRisk, type TaskTemplate } from '../../tasks';
import { compileLabelRule, describeLabelRule, labelRuleSchema } from './labelRule';
import { guessLabelRule, mappingSchemaFor } from './mapping';
import { parseNumber } from './values';

const num = (s: string) => parseNumber(s);

describe('label rules', () => {
  it('are validated with zod', () => {
    expect(labelRuleSchema.safeParse({ kind: 'compare', column: 3, op: '>', value: 0 }).success).toBe(true);
    expect(labelRuleSchema.safeParse({ kind: 'compare', column: 3, op: '=>', value: 0 }).success).toBe(false);
    expect(labelRuleSchema.safeParse({ kind: 'compare', column: -1, op: '>', value: 0 }).success).toBe(false);
    expect(labelRuleSchema.safeParse({ kind: 'match', column: 0, positive: [] }).success).toBe(false);
    expect(labelRuleSchema.safeParse({ kind: 'match', column: 0, positive: ['  '] }).success).toBe(false);
    expect(labelRuleSchema.safeParse({ kind: 'eval', column: 0, code: 'x' }).success).toBe(false);
  });

  it('evaluate cells', () => {
    const gt = compileLabelRule({ kind: 'compare', column: 0, op: '>', value: 0 }, num);
    expect(['0', '1', '4', 'x'].map(gt)).toEqual([{ label: 0 }, { label: 1 }, { label: 1 }, { invalid: 'is not a number' }]);
    const direct = compileLabelRule({ kind: 'direct', column: 0 }, num);
    expect(['0', '1', '1.0', '2'].map(direct)).toEqual([{ label: 0 }, { label: 1 }, { label: 1 }, { invalid: 'is neither 0 nor 1' }]);
    const match = compileLabelRule({ kind: 'match', column: 0, positive: ['Yes'], negative: ['no'] }, num);
    expect(['YES', 'no', 'maybe'].map((c) => 'label' in match(c) ? match(c) : 'invalid')).toEqual([{ label: 1 }, { label: 0 }, 'invalid']);
    const open = compileLabelRule({ kind: 'match', column: 0, positive: ['present'] }, num);
    expect(open('absent')).toEqual({ label: 0 });
    const classes = compileLabelRule({ kind: 'classes', column: 0, values: [['donor'], ['hepatitis'], ['fibrosis', 'fib']] }, num, 3);
    expect(['Donor', 'fib', 'x'].map(classes)).toEqual([{ label: 0 }, { label: 2 }, { invalid: 'is not one of the listed class values' }]);
    const multi = compileLabelRule({ kind: 'direct', column: 0 }, num, 4);
    expect(['3', '4'].map(multi)).toEqual([{ label: 3 }, { invalid: 'is not a class number (0–3)' }]);
  });

  it('read as a person would write them', () => {
    const name = (i: number) => ['num', 'dx'][i];
    expect(describeLabelRule({ kind: 'compare', column: 0, op: '>', value: 0 }, name)).toBe('num > 0');
    expect(describeLabelRule({ kind: 'match', column: 1, positive: ['yes', 'y'] }, name)).toBe("dx in ('yes', 'y')");
    expect(describeLabelRule({ kind: 'direct', column: 1 }, name)).toBe('dx (0/1)');
  });

  it('are guessed from the values in the column', () => {
    expect(guessLabelRule(2, ['0', '1', '1', '?'], '.')).toEqual({ kind: 'direct', column: 2 });
    expect(guessLabelRule(2, ['0', '3', '1'], '.')).toEqual({ kind: 'compare', column: 2, op: '>', value: 0 });
    expect(guessLabelRule(2, ['Yes', 'no', 'yes'], '.')).toEqual({ kind: 'match', column: 2, positive: ['yes'], negative: ['no'] });
    expect(guessLabelRule(0, ['0=Blood Donor', '1=Hepatitis', '3=Cirrhosis', '0s=suspect Blood Donor'], '.', ['donor', 'hepatitis', 'fibrosis', 'cirrhosis'])).toEqual({
      kind: 'classes',
      column: 0,
      values: [['0=Blood Donor', '0s=suspect Blood Donor'], ['1=Hepatitis'], ['fibrosis'], ['3=Cirrhosis']],
    });
  });

  it('must fit the study: a multi-class study cannot take a 0/1 comparison', () => {
    const multi: TaskTemplate = { ...heartRisk, label: { ...heartRisk.label, classes: ['a', 'b', 'c'] } };
    const columns = ['age', 'y'];
    const bad = mappingSchemaFor(multi, columns).safeParse({ features: { age: 0 }, label: { kind: 'compare', column: 1, op: '>', value: 0 }, sentinels: [] });
    expect(bad.success).toBe(false);
    const ok = mappingSchemaFor(multi, columns).safeParse({ features: { age: 0 }, label: { kind: 'direct', column: 1 }, sentinels: [] });
    expect(ok.success).toBe(true);
    const unknown = mappingSchemaFor(heartRisk, columns).safeParse({ features: { weight: 0 }, label: { kind: 'direct', column: 1 }, sentinels: [] });
    expect(unknown.success).toBe(false);
  });
});
