import { describe, expect, it } from 'vitest';
import { heartRisk } from '../tasks';
import { mergeStudyConfig, studyConfigSchema } from './schemas';

const base = { rounds: 5, minParticipants: 3, roundDeadlineMs: 60_000, localEpochs: 1, batchSize: 32, learningRate: 0.01, validationFraction: 0.2, seed: 1 };

describe('a study’s clipping and weight cap', () => {
  it('default to adaptive clipping to the median norm and a cap at twice the median reported count', () => {
    const c = studyConfigSchema.parse(base);
    expect(c.clipping).toEqual({ mode: 'adaptive', targetQuantile: 0.5, learningRate: 1, initialNorm: null });
    expect(c.weightCapFactor).toBe(2);
    // A template starts the bound from the norms its model's updates were measured at.
    expect(heartRisk.defaults.clipping).toMatchObject({ mode: 'adaptive', initialNorm: 2.5 });
  });

  it('read a configuration stored before them (no clipping key) as the defaults, and a legacy factor as the median rule', () => {
    expect(studyConfigSchema.parse({ ...base, normBoundFactor: null }).clipping.mode).toBe('adaptive');
    expect(studyConfigSchema.parse({ ...base, normBoundFactor: 1.5 }).clipping).toEqual({ mode: 'median', factor: 1.5 });
    expect(studyConfigSchema.parse({ ...base, strategy: { name: 'fedavg', options: { normBound: { factor: 2 } } } }).clipping).toEqual({ mode: 'median', factor: 2 });
  });

  it('can be turned off, each on its own', () => {
    const c = studyConfigSchema.parse({ ...base, clipping: { mode: 'none' }, weightCapFactor: null });
    expect(c.clipping).toEqual({ mode: 'none' });
    expect(c.weightCapFactor).toBeNull();
  });

  it('refuses two norm bounds that disagree, naming the setting', () => {
    const r = studyConfigSchema.safeParse({ ...base, normBoundFactor: 2, clipping: { mode: 'fixed', norm: 1 } });
    expect(r.error?.issues[0]).toMatchObject({ path: ['clipping'], message: expect.stringMatching(/set the norm bound once/) });
    expect(studyConfigSchema.safeParse({ ...base, weightCapFactor: 0.5 }).error?.issues[0].message).toMatch(/weightCapFactor must be at least 1/);
  });

  it('changes as one setting: a new factor replaces the clipping rule, a new rule clears the factor', () => {
    const median = studyConfigSchema.parse(mergeStudyConfig(studyConfigSchema.parse(base), { normBoundFactor: 3 }));
    expect(median.clipping).toEqual({ mode: 'median', factor: 3 });
    const fixed = studyConfigSchema.parse(mergeStudyConfig(median, { clipping: { mode: 'fixed', norm: 2 } }));
    expect(fixed).toMatchObject({ clipping: { mode: 'fixed', norm: 2 }, normBoundFactor: null });
    expect(studyConfigSchema.parse(mergeStudyConfig(median, { normBoundFactor: null })).clipping.mode).toBe('adaptive');
  });
});
