import { describe, expect, it } from 'vitest';
import { heartRisk } from '../../../shared/tasks';
import { answerCurrent, isComplete, startInterview } from './interview';
import { parseAnswer, questionsFor, type Question } from './questions';

const questions = questionsFor(heartRisk.features);
const q = (name: string) => questions.find((x) => x.feature === name)!;
const value = (name: string, text: string) => {
  const r = parseAnswer(q(name), text);
  return r.ok ? r.value : `refused: ${r.problem}`;
};

describe('risk-check questions', () => {
  it('asks every heart-risk feature in plain words, with units and the valid range', () => {
    expect(questions.map((x) => x.feature)).toEqual(heartRisk.features.map((f) => f.name));
    expect(q('age')).toMatchObject({ kind: 'number', prompt: 'How old are you?', help: 'A whole number from 18 to 100 years.' });
    expect(q('trestbps').help).toMatch(/from 80 to 220 mm Hg/);
    expect(q('chol').help).toMatch(/from 100 to 600 mg\/dl/);
    expect(q('thalach').help).toMatch(/from 60 to 220 beats per minute/);
    expect(q('oldpeak').help).toMatch(/A number from −3 to 7 mm/);
    expect(q('ca').help).toMatch(/A whole number from 0 to 3 vessels/);
    const cp = q('cp') as Extract<Question, { kind: 'choice' }>;
    expect(cp.choices.map((c) => c.value)).toEqual([1, 2, 3, 4]);
    expect(cp.choices.map((c) => c.label).join(' | ')).toMatch(/typical angina.*atypical angina.*non-anginal pain.*No chest pain/);
    expect((q('sex') as Extract<Question, { kind: 'choice' }>).choices.map((c) => [c.value, c.label])).toEqual([
      [0, 'Female'],
      [1, 'Male'],
    ]);
    expect((q('thal') as Extract<Question, { kind: 'choice' }>).choices.map((c) => c.value)).toEqual([3, 6, 7]);
  });

  it('reads numbers as people type them, and refuses impossible values naming the range', () => {
    expect(value('age', '63')).toBe(63);
    expect(value('age', "I'm 63 years old")).toBe(63);
    expect(value('trestbps', '130/85')).toBe(130);
    expect(value('oldpeak', '2,7')).toBe(2.7);
    expect(value('oldpeak', '−1.5 mm')).toBe(-1.5);
    expect(value('chol', '347 mg/dl')).toBe(347);
    expect(value('chol', '5.2 mmol/L')).toBe(201);
    expect(value('age', '150')).toMatch(/refused: 150 years is not a possible age for this check: it must be from 18 to 100 years/);
    expect(value('chol', '1500')).toMatch(/from 100 to 600 mg\/dl/);
    expect(value('chol', '5.2')).toMatch(/type the unit too, for example 5.2 mmol\/L/);
    expect(value('oldpeak', '-4')).toMatch(/from −3 to 7 mm/);
    expect(value('age', '63.5')).toMatch(/whole number from 18 to 100/);
    expect(value('age', 'sixty')).toMatch(/as a number/);
    expect(value('trestbps', 'between 120 and 140')).toMatch(/just one number/);
  });

  it('takes answers by button label, by number or in words, and refuses the ambiguous', () => {
    expect(value('sex', 'Male')).toBe(1);
    expect(value('sex', 'I am a woman')).toBe(0);
    expect(value('sex', 'female')).toBe(0);
    expect(value('cp', 'atypical angina')).toBe(2);
    expect(value('cp', 'typical')).toBe(1);
    expect(value('cp', 'no chest pain')).toBe(4);
    expect(value('cp', '3')).toBe(3);
    expect(value('cp', '5')).toMatch(/refused: Please pick one/);
    expect(value('thal', 'reversible defect')).toBe(7);
    expect(value('fbs', 'yes')).toBe(1);
    expect(value('exang', 'No')).toBe(0);
    expect(value('slope', 'flat')).toBe(2);
    expect(value('restecg', 'banana')).toMatch(/refused/);
    const cp = q('cp') as Extract<Question, { kind: 'choice' }>;
    for (const c of cp.choices) expect(value('cp', c.label)).toBe(c.value);
  });

  it('accepts "don\'t know" where the encoding imputes, but not for age or sex', () => {
    for (const text of ["I don't know", 'dont know', 'not sure', 'I don’t know', '?', 'no idea']) expect(value('chol', text), text).toBeNull();
    expect(value('age', "don't know")).toMatch(/refused: I need your age/);
    expect(value('sex', 'not sure')).toMatch(/refused: I need your sex/);
  });
});

describe('the risk-check interview', () => {
  it('asks one question at a time, keeps refused answers out, and notes what a "don\'t know" means', () => {
    let iv = startInterview(heartRisk.features);
    const refused = answerCurrent(iv, '12');
    expect(refused.accepted).toBe(false);
    expect(refused.interview).toBe(iv);
    const answers = ['63', 'male', '1', '145', "don't know", 'yes', 'normal', '171', 'no', '2.7', 'flat', '0', 'normal'];
    for (const a of answers) {
      const out = answerCurrent(iv, a);
      expect(out.accepted, a).toBe(true);
      if (a === "don't know" && out.accepted) expect(out.note).toMatch(/typical value among the study’s patients, 247 mg\/dl/);
      iv = out.interview;
    }
    expect(isComplete(iv)).toBe(true);
    expect(iv.answers).toEqual({ age: 63, sex: 1, cp: 1, trestbps: 145, chol: null, fbs: 1, restecg: 0, thalach: 171, exang: 0, oldpeak: 2.7, slope: 2, ca: 0, thal: 3 });
  });
});
