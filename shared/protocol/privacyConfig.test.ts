import { describe, expect, it } from 'vitest';
import { heartRisk } from '../tasks';
import { studySpent } from '../fl/privacy/sitePrivacy';
import { mergeStudyConfig, studyConfigSchema } from './schemas';

const base = { rounds: 10, minParticipants: 3, roundDeadlineMs: 60_000, localEpochs: 1, batchSize: 32, learningRate: 0.01, validationFraction: 0.2, seed: 1 };
const privacy = { clipNorm: 2, noiseMultiplier: 1.2, sampleRate: 0.5, epsilonBudget: 10 };

describe('a study’s differential privacy settings', () => {
  it('are off by default, and when on fix every round’s clip at C with the defaults for δ and the record cap', () => {
    expect(studyConfigSchema.parse(base).privacy).toBeNull();
    const c = studyConfigSchema.parse({ ...base, privacy });
    expect(c.privacy).toEqual({ ...privacy, delta: 1e-5, recordCap: 100 });
    expect(c.clipping).toEqual({ mode: 'fixed', norm: 2 });
    // Stored and read again, it is the same configuration.
    expect(studyConfigSchema.parse(c)).toEqual(c);
  });

  it('take over from a template’s own clipping rule when a study turns them on', () => {
    const merged = studyConfigSchema.parse(mergeStudyConfig(heartRisk.defaults, { privacy: { ...privacy, delta: 1e-5, recordCap: 100 } }));
    expect(merged.clipping).toEqual({ mode: 'fixed', norm: 2 });
  });

  it('refuse what the accountant cannot account for, saying why', () => {
    const message = (config: object) => studyConfigSchema.safeParse({ ...base, privacy, ...config }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(message({ strategy: { name: 'median' } })).toMatch(/^strategy: the median strategy is unavailable under differential privacy: robust rules/m);
    expect(message({ strategy: { name: 'krum', options: { f: 1 } }, minParticipants: 5 })).toMatch(/krum strategy is unavailable/);
    expect(message({ straggler: { policy: 'accept-late', maxStaleness: 1, weight: 0.5 } })).toMatch(/^straggler: accept-late is unavailable under differential privacy: a late update/m);
    expect(message({ clipping: { mode: 'adaptive' } })).toMatch(/^clipping: a clipping rule of its own is unavailable/m);
    expect(message({ normBoundFactor: 2 })).toMatch(/clipping of its own|clipping rule of its own/);
    expect(message({ clipping: { mode: 'fixed', norm: 2 } })).toBeUndefined();
    expect(message({ strategy: { name: 'fedadam' } })).toBeUndefined();
  });

  it('go with secure aggregation as distributed noise: the Skellam accountant counts it', () => {
    const c = studyConfigSchema.parse({ ...base, privacy, secureAggregation: {} });
    expect(c.privacy).toEqual({ ...privacy, delta: 1e-5, recordCap: 100, distributed: true });
    expect(c.clipping).toEqual({ mode: 'fixed', norm: 2 });
    expect(studyConfigSchema.parse(c)).toEqual(c);
    // The flag follows secure aggregation, whatever a stored or sent configuration says.
    const plain = studyConfigSchema.parse({ ...c, secureAggregation: null });
    expect(plain.privacy).toEqual({ ...privacy, delta: 1e-5, recordCap: 100 });
    // Secure aggregation's other refusals stand.
    const issues = studyConfigSchema.safeParse({ ...base, privacy, secureAggregation: {}, strategy: { name: 'median' } }).error?.issues.map((i) => i.message) ?? [];
    expect(issues.some((m) => /unavailable under secure aggregation/.test(m))).toBe(true);
    // The budget check uses the distributed accountant: a budget between the central and the Skellam ε of one round is refused.
    const central = studySpent({ ...privacy, delta: 1e-5 }, 1).epsilon;
    const distributed = studySpent({ ...privacy, delta: 1e-5, distributed: true }, 1).epsilon;
    expect(distributed).toBeGreaterThan(central);
    const between = (central + distributed) / 2;
    expect(studyConfigSchema.safeParse({ ...base, privacy: { ...privacy, epsilonBudget: between } }).success).toBe(true);
    expect(studyConfigSchema.safeParse({ ...base, privacy: { ...privacy, epsilonBudget: between }, secureAggregation: {} }).error?.issues[0].path).toEqual(['privacy', 'epsilonBudget']);
    // The accountant assumes C·2^f ≥ 2^12: C = 2 needs 11 fraction bits at least.
    expect(studyConfigSchema.safeParse({ ...base, privacy, secureAggregation: { fractionBits: 10 } }).error?.issues[0]).toMatchObject({
      path: ['secureAggregation', 'fractionBits'],
      message: expect.stringMatching(/at least 11 fraction bits/),
    });
    expect(studyConfigSchema.safeParse({ ...base, privacy, secureAggregation: { fractionBits: 11 } }).success).toBe(true);
  });

  it('refuse a budget that allows no round, and settings out of range', () => {
    const r = studyConfigSchema.safeParse({ ...base, privacy: { ...privacy, noiseMultiplier: 0.5, epsilonBudget: 0.5 } });
    expect(r.error?.issues[0]).toMatchObject({ path: ['privacy', 'epsilonBudget'], message: expect.stringMatching(/allows no round: one round at q 0.5 and noise 0.5 spends ε/) });
    expect(studyConfigSchema.safeParse({ ...base, privacy: { ...privacy, sampleRate: 0 } }).error?.issues[0].message).toMatch(/sampleRate must be above 0/);
    expect(studyConfigSchema.safeParse({ ...base, privacy: { ...privacy, delta: 0.5 } }).error?.issues[0].message).toMatch(/delta is at most 0.01/);
    expect(studyConfigSchema.safeParse({ ...base, privacy: { ...privacy, sigma: 1 } }).success).toBe(false);
  });
});
