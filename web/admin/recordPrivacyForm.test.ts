import { describe, expect, it } from 'vitest';
import { recordPrivacySchema, stepsWithinBudget } from '../../shared/fl/privacy/recordLevel';
import { DEFAULT_RECORD_PRIVACY_FORM, recordPlan, recordPrivacyFormFrom, recordPrivacyFromForm, sameRecordPrivacy } from './recordPrivacyForm';

describe('the study form’s record-level privacy', () => {
  it('is off by default, on with the seed platform’s settings', () => {
    expect(recordPrivacyFromForm(DEFAULT_RECORD_PRIVACY_FORM)).toBeNull();
    const on = recordPrivacyFromForm({ ...DEFAULT_RECORD_PRIVACY_FORM, enabled: true });
    expect(on).toEqual({ noiseMultiplier: 1.1, clipNorm: 1, epsilonBudget: 1, delta: 1e-5 });
    const stored = recordPrivacySchema.parse(on);
    expect(sameRecordPrivacy(recordPrivacyFromForm(recordPrivacyFormFrom(stored)), stored)).toBe(true);
    expect(sameRecordPrivacy(null, null)).toBe(true);
    expect(sameRecordPrivacy(on, null)).toBe(false);
  });

  it('plans the steps each site size may take before the study starts, and names the smallest site that trains', () => {
    const form = { ...DEFAULT_RECORD_PRIVACY_FORM, enabled: true, epsilonBudget: '3' };
    const plan = recordPlan(form, { batchSize: 32, localEpochs: 1, localSteps: 5 })!;
    expect(plan.rows.map((r) => r.records)).toEqual([200, 1_000, 5_000]);
    const mid = plan.rows[1];
    expect(mid).toMatchObject({ sampleRate: 0.032, stepsPerRound: 5, stepsAllowed: stepsWithinBudget({ sampleRate: 0.032, noiseMultiplier: 1.1, delta: 1e-5, epsilonBudget: 3 }) });
    expect(mid.rounds).toBe(Math.ceil(mid.stepsAllowed / 5));
    expect(plan.rows[0].stepsAllowed).toBeLessThan(mid.stepsAllowed);
    expect(plan.smallestSite).toBeGreaterThan(1);
    // A half-typed setting: no plan yet.
    expect(recordPlan({ ...form, clipNorm: '' }, { batchSize: 32, localEpochs: 1 })).toBeNull();
  });
});
