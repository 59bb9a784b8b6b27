import { describe, expect, it } from 'vitest';
import { heartRisk } from '../../../shared/tasks';
import { explainFactors } from './factors';

const answers = { age: 63, sex: 1, cp: 1, trestbps: 145, chol: null, fbs: 1, restecg: 0, thalach: 171, exang: 0, oldpeak: 2.7, slope: 2, ca: 0, thal: 3 };
const attributions = heartRisk.features.map((f) => ({
  name: f.name,
  attribution: ({ oldpeak: 1.4, age: 0.35, cp: 0.1, thalach: -0.8, ca: -0.5, slope: -0.01, chol: 0, fbs: 0.05 } as Record<string, number>)[f.name] ?? 0,
}));

describe('the factors behind an estimate', () => {
  it('lists the answers that pushed it up and down the most, in plain words with the typical value', () => {
    const s = explainFactors(heartRisk.features, answers, attributions);
    expect(s.up.map((f) => f.feature)).toEqual(['oldpeak', 'age', 'cp']);
    expect(s.down.map((f) => f.feature)).toEqual(['thalach', 'ca']);
    expect(s.up[0]).toMatchObject({ value: '2.7 mm', typical: '1.0 mm', strength: 'strongly' });
    expect(s.up[1]).toMatchObject({ value: '63 years', typical: '54 years', strength: 'moderately' });
    expect(s.up[2]).toMatchObject({ value: 'typical angina', typical: 'asymptomatic', strength: 'slightly' });
    expect(s.down[0].text).toBe('Maximum heart rate: 171 beats/min (average in the study: 150 beats/min) pushed it down moderately.');
    expect(s.up[2].typicalKind).toBe('most common');
    // A "don't know" is imputed: it moved nothing, and is said so rather than listed as a factor.
    expect(s.unknown).toEqual(['serum cholesterol']);
  });

  it('keeps to the limit and leaves out what barely moved it', () => {
    const s = explainFactors(heartRisk.features, answers, attributions, 1);
    expect(s.up.map((f) => f.feature)).toEqual(['oldpeak']);
    expect(s.down.map((f) => f.feature)).toEqual(['thalach']);
    expect(explainFactors(heartRisk.features, answers, attributions, 10).down.some((f) => f.feature === 'slope')).toBe(false);
  });
});
