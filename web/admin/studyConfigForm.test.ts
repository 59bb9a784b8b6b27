import { describe, expect, it } from 'vitest';
import { noiseFor } from '../../shared/fl/privacy/rdp';
import { strategies } from '../../shared/fl/registry';
import { studySpent, UNAVAILABLE_UNDER_DP, type SitePrivacy } from '../../shared/fl/privacy/sitePrivacy';
import { mergeStudyConfig, studyConfigSchema, type StudyConfigPatch } from '../../shared/protocol/schemas';
import { heartRisk } from '../../shared/tasks';
import { applyPrivacyChange, privacyPreview, type PrivacyForm } from './privacyForm';
import { applyFormChange, configProblems, DEFAULT_LOCAL_STEPS, formFromConfig, formProblems, MEAN_STRATEGIES, patchFromForm } from './studyConfigForm';

const base = heartRisk.defaults;

describe('the study configuration form', () => {
  it('sends nothing for an untouched form, and only what was changed otherwise', () => {
    expect(patchFromForm(formFromConfig(base), base)).toEqual({});
    const form = { ...formFromConfig(base), localEpochs: '4', roundDeadlineSeconds: '90', straggler: 'accept-late' as const, maxStaleness: '2', lateWeight: '0.25' };
    expect(patchFromForm(form, base)).toEqual({ localEpochs: 4, roundDeadlineMs: 90_000, straggler: { policy: 'accept-late', maxStaleness: 2, weight: 0.25 } });
    expect(patchFromForm({ ...formFromConfig(base), strategy: 'median', clipping: 'median', clippingValue: '2' }, base)).toEqual({
      strategy: { name: 'median', options: {} },
      clipping: { mode: 'median', factor: 2 },
    });
  });

  it('edits clipping and the weight cap, keeping the adaptive rule’s other settings, and turns them off', () => {
    expect(formFromConfig(base)).toMatchObject({ clipping: 'adaptive', clippingValue: '0.5', weightCapFactor: '2' });
    expect(patchFromForm({ ...formFromConfig(base), clippingValue: '0.7' }, base)).toEqual({
      clipping: { ...base.clipping, targetQuantile: 0.7 },
    });
    const off = applyFormChange(formFromConfig(base), { clipping: 'none', weightCapFactor: '' });
    expect(patchFromForm(off, base)).toEqual({ clipping: { mode: 'none' }, weightCapFactor: null });
    const fixed = applyFormChange(formFromConfig(base), { clipping: 'fixed' });
    expect(configProblems(base, patchFromForm(fixed, base))[0]).toMatch(/^clipping/);
    expect(patchFromForm({ ...fixed, clippingValue: '1.5' }, base)).toEqual({ clipping: { mode: 'fixed', norm: 1.5 } });
  });

  it('lets minUpdates follow a lowered minParticipants, and names each problem as the server would', () => {
    const lowered = patchFromForm(applyFormChange(formFromConfig(base), { minParticipants: '2' }), base);
    expect(lowered).toEqual({ minParticipants: 2, minUpdates: 2 });
    expect(configProblems(base, lowered)).toEqual([]);
    expect(configProblems(base, patchFromForm({ ...formFromConfig(base), minUpdates: String(base.minParticipants + 1) }, base))).toEqual([
      `minUpdates: minUpdates (${base.minParticipants + 1}) cannot exceed minParticipants (${base.minParticipants}): a round may sample only minParticipants sites`,
    ]);
    expect(configProblems(base, patchFromForm({ ...formFromConfig(base), participantFraction: '' }, base))[0]).toMatch(/^participantFraction: /);
  });

  it('shows minUpdates following minParticipants, and sends a value typed against the follow', () => {
    const form = applyFormChange(formFromConfig(base), { minParticipants: '2' });
    expect(form.minUpdates).toBe('2');
    expect(applyFormChange(form, { minUpdates: '1' })).toMatchObject({ minParticipants: '2', minUpdates: '1' });
    expect(applyFormChange({ ...form, minUpdates: '1' }, { minParticipants: '5' }).minUpdates).toBe('1');
    // The template's own minUpdates, typed back after lowering minParticipants: sent, and refused.
    const against = { ...form, minUpdates: String(base.minUpdates) };
    expect(patchFromForm(against, base)).toEqual({ minParticipants: 2, minUpdates: base.minUpdates });
    expect(configProblems(base, patchFromForm(against, base))[0]).toMatch(/^minUpdates: minUpdates \(3\) cannot exceed minParticipants \(2\)/);
    // Switching to FedProx while μ is 0 on the form keeps μ at 0 rather than the strategy's default.
    expect(patchFromForm({ ...formFromConfig(base), strategy: 'fedprox' }, base)).toEqual({ strategy: { name: 'fedprox', options: {} }, fedProxMu: 0 });
  });

  it('edits a strategy’s own settings: defaults shown on switching, only changes sent, garbage refused by name', () => {
    const yogi = applyFormChange(formFromConfig(base), { strategy: 'fedyogi' });
    // η is the default tuned in shared/fl/adaptive.ts (docs/benchmarks.md): the form shows whatever it is.
    const eta = String((strategies.fedyogi.options.parse({}) as { serverLearningRate: number }).serverLearningRate);
    expect(yogi.strategyOptions).toEqual({ serverLearningRate: eta, beta1: '0.5', beta2: '0.99', tau: '0.001', initialAccumulator: '' });
    expect(patchFromForm(yogi, base)).toEqual({ strategy: { name: 'fedyogi', options: {} } });
    const faster = { ...yogi, strategyOptions: { ...yogi.strategyOptions, serverLearningRate: '0.05' } };
    expect(patchFromForm(faster, base)).toEqual({ strategy: { name: 'fedyogi', options: { serverLearningRate: 0.05 } } });

    // A study already on trimmed mean: changing β sends the whole set, keeping its norm bound.
    const trimmed = { ...base, strategy: { name: 'trimmed-mean', options: { trimFraction: 0.2, normBound: { factor: 3 } } } } as typeof base;
    const form = formFromConfig(trimmed);
    expect(form.strategyOptions).toEqual({ trimFraction: '0.2' });
    expect(patchFromForm(form, trimmed)).toEqual({});
    const patch = patchFromForm({ ...form, strategyOptions: { trimFraction: '0.1' } }, trimmed);
    expect(patch).toEqual({ strategy: { name: 'trimmed-mean', options: { trimFraction: 0.1, normBound: { factor: 3 } } } });
    expect(configProblems(trimmed, patchFromForm({ ...form, strategyOptions: { trimFraction: '0.7' } }, trimmed))[0]).toMatch(/^strategy\.options\.trimFraction: /);
    expect(configProblems(trimmed, patchFromForm({ ...form, strategyOptions: { trimFraction: 'x' } }, trimmed))[0]).toMatch(/^strategy\.options\.trimFraction: /);

    // Multi-Krum's m is optional: blank leaves it to the rule (n − f).
    const krum = applyFormChange(formFromConfig(base), { strategy: 'multi-krum' });
    expect(krum.strategyOptions).toEqual({ byzantine: '1', select: '' });
    expect(patchFromForm({ ...krum, strategyOptions: { byzantine: '2', select: '' } }, base)).toEqual({ strategy: { name: 'multi-krum', options: { byzantine: 2 } } });
    expect(patchFromForm({ ...krum, strategyOptions: { byzantine: '1', select: '3' } }, base)).toEqual({ strategy: { name: 'multi-krum', options: { select: 3 } } });
  });
});

describe('the study form’s local work per round', () => {
  it('counts epochs by default, and switching to optimiser steps sends the steps alone', () => {
    expect(formFromConfig(base)).toMatchObject({ localWork: 'epochs', localEpochs: String(base.localEpochs), localSteps: String(DEFAULT_LOCAL_STEPS) });
    expect(base).not.toHaveProperty('localSteps');
    const steps = applyFormChange(formFromConfig(base), { localWork: 'steps' });
    expect(patchFromForm(steps, base)).toEqual({ localSteps: DEFAULT_LOCAL_STEPS });
    const typed = patchFromForm({ ...steps, localSteps: '250' }, base);
    expect(typed).toEqual({ localSteps: 250 });
    expect(configProblems(base, typed)).toEqual([]);
    expect(studyConfigSchema.parse(mergeStudyConfig(base, typed as StudyConfigPatch))).toMatchObject({ localSteps: 250, localEpochs: base.localEpochs });
    // Steps chosen after the field was cleared start from the usual number again.
    expect(applyFormChange({ ...formFromConfig(base), localSteps: '' }, { localWork: 'steps' }).localSteps).toBe(String(DEFAULT_LOCAL_STEPS));
  });

  it('shows a study counting steps as such, sends nothing untouched, and goes back to epochs with null', () => {
    const stepping = studyConfigSchema.parse(mergeStudyConfig(base, { localSteps: 250 }));
    const form = formFromConfig(stepping);
    expect(form).toMatchObject({ localWork: 'steps', localSteps: '250' });
    expect(patchFromForm(form, stepping)).toEqual({});
    expect(patchFromForm({ ...form, localSteps: '40' }, stepping)).toEqual({ localSteps: 40 });
    const back = patchFromForm({ ...form, localWork: 'epochs' }, stepping);
    expect(back).toEqual({ localSteps: null });
    expect(configProblems(stepping, back)).toEqual([]);
    expect(studyConfigSchema.parse(mergeStudyConfig(stepping, back as StudyConfigPatch))).not.toHaveProperty('localSteps');
  });

  it('refuses steps that are not a whole number from 1 to 100000, by name', () => {
    const steps = applyFormChange(formFromConfig(base), { localWork: 'steps' });
    for (const bad of ['0', '2.5', '100001', ''])
      expect(configProblems(base, patchFromForm({ ...steps, localSteps: bad }, base))[0], bad).toMatch(/^localSteps: /);
    // In epochs mode the steps field is not read.
    expect(patchFromForm({ ...formFromConfig(base), localSteps: 'garbage' }, base)).toEqual({});
  });
});

describe('the study form’s differential privacy', () => {
  const on = (change: Partial<PrivacyForm> = {}) => {
    const form = applyFormChange(formFromConfig(base), { privacy: { ...formFromConfig(base).privacy, enabled: true, noiseMode: 'noise', ...change } });
    return form;
  };
  const settings = { clipNorm: 1, noiseMultiplier: 1.1, sampleRate: 1, delta: 1e-5, epsilonBudget: 30, recordCap: 100 };
  const typed = { clipNorm: '1', noiseMultiplier: '1.1', sampleRate: '1', delta: '1e-5', epsilonBudget: '30', recordCap: '100' };

  it('is off by default and sends nothing then', () => {
    expect(formFromConfig(base).privacy.enabled).toBe(false);
    expect(patchFromForm(formFromConfig(base), base)).toEqual({});
  });

  it('sends the privacy settings and no clipping rule, whatever clipping the form had: the server clips to C', () => {
    const form = on(typed);
    const patch = patchFromForm({ ...form, clipping: 'median', clippingValue: '3' }, base);
    expect(patch).toEqual({ privacy: settings });
    expect(configProblems(base, patch)).toEqual([]);
    expect(studyConfigSchema.parse(mergeStudyConfig(base, patch as StudyConfigPatch)).clipping).toEqual({ mode: 'fixed', norm: 1 });
    expect(configProblems(base, patchFromForm(on({ ...typed, clipNorm: '' }), base))).toEqual([expect.stringMatching(/^privacy\.clipNorm: /)]);
  });

  it('turning privacy on leaves a robust strategy and late updates behind, with the reason beside them', () => {
    const robust = applyFormChange(formFromConfig(base), { strategy: 'median', straggler: 'accept-late' });
    const form = applyFormChange(robust, { privacy: { ...robust.privacy, ...typed, enabled: true, noiseMode: 'noise' } });
    expect(form).toMatchObject({ strategy: 'fedavg', straggler: 'drop' });
    expect(MEAN_STRATEGIES).toEqual(new Set(['fedavg', 'fedavgm', 'fedprox', 'fedadam', 'fedyogi', 'fedadagrad']));
    // Picked again anyway, the server's reason is the form's.
    const problems = configProblems(base, patchFromForm({ ...form, strategy: 'krum', strategyOptions: { byzantine: '1' } }, base));
    expect(problems.join('\n')).toContain(UNAVAILABLE_UNDER_DP.strategy);
  });

  it('with a target ε, computes the noise over the study’s rounds, and the budget follows the target', () => {
    const form = applyFormChange(on(typed), { privacy: applyPrivacyChange(on(typed).privacy, { noiseMode: 'target' }) });
    expect(form.privacy.targetEpsilon).toBe('30');
    const target = applyPrivacyChange(form.privacy, { targetEpsilon: '5' });
    expect(target.epsilonBudget).toBe('5');
    const expected = noiseFor({ sampleRate: 1, steps: base.rounds, delta: 1e-5, epsilon: 5 });
    const patch = patchFromForm({ ...form, privacy: target }, base);
    expect(patch.privacy).toEqual({ ...settings, noiseMultiplier: expected.noise, epsilonBudget: 5 });
    expect(studySpent(patch.privacy as SitePrivacy, base.rounds).epsilon).toBeLessThanOrEqual(5);
    // More rounds at the same target need more noise.
    expect(patchFromForm({ ...form, rounds: String(base.rounds * 4), privacy: target }, base).privacy!.noiseMultiplier).toBeGreaterThan(expected.noise);
    // A budget typed apart from the target stays put.
    expect(applyPrivacyChange({ ...target, epsilonBudget: '6' }, { targetEpsilon: '4' }).epsilonBudget).toBe('6');
  });

  it('says plainly when a target ε cannot be met', () => {
    const form = on({ ...typed, noiseMode: 'target', targetEpsilon: '1e-9', epsilonBudget: '1' });
    expect(formProblems(form, base)).toEqual([expect.stringMatching(/^privacy\.targetEpsilon: no noise multiplier up to 10\^6 keeps ε within 1e-9/)]);
  });

  it('previews the ε the study will spend, the rounds the budget allows, and the plan’s warnings for the sites chosen', () => {
    const small = privacyPreview({ ...on(typed).privacy, sampleRate: '0.5', epsilonBudget: '8' }, 10, 2, 385);
    if (!small || !('plan' in small)) throw new Error('no plan');
    expect(small.plan.planned.epsilon).toBeCloseTo(studySpent({ ...settings, sampleRate: 0.5 }, 10).epsilon, 10);
    expect(small.plan.roundsAllowed).toBeLessThan(10);
    expect(small.plan.warnings.join('\n')).toMatch(/stops itself after round/);
    expect(small.plan.warnings.join('\n')).toMatch(/2 sites sampled at q = 0\.5 are too few/);
    // Many sites, a generous budget: nothing to warn about.
    const roomy = privacyPreview({ ...on(typed).privacy, epsilonBudget: '100' }, 10, 50, 385);
    expect(roomy && 'plan' in roomy ? roomy.plan : null).toMatchObject({ roundsAllowed: 10, warnings: [] });
    expect(privacyPreview({ ...on(typed).privacy, recordCap: '' }, 10, 3, 385)).toEqual({ error: 'Complete the privacy settings to see what the study spends: Record cap: give a number.' });
    expect(privacyPreview(formFromConfig(base).privacy, 10, 3, 385)).toBeNull();
  });

  it('shows a private study’s settings as they are, and sends nothing for them when another setting changes', () => {
    const privateConfig = studyConfigSchema.parse(mergeStudyConfig(base, { privacy: settings }));
    const form = formFromConfig(privateConfig);
    expect(form.privacy).toMatchObject({ enabled: true, noiseMode: 'noise', ...typed, delta: '0.00001' });
    expect(patchFromForm(form, privateConfig)).toEqual({});
    expect(patchFromForm({ ...form, localEpochs: '3' }, privateConfig)).toEqual({ localEpochs: 3 });
    expect(configProblems(privateConfig, { localEpochs: 3 })).toEqual([]);
  });
});

describe('the study form’s secure aggregation', () => {
  it('turned on, leaves a mean rule, late updates dropped and a fixed clip to fill in; then sends the setting', () => {
    const robust = { ...formFromConfig(base), strategy: 'median', straggler: 'accept-late' as const };
    const on = applyFormChange(robust, { secureAggregation: true });
    expect(on).toMatchObject({ secureAggregation: true, strategy: 'fedavg', straggler: 'drop', clipping: 'fixed', clippingValue: '' });
    // The clip is the admin's to choose: each site applies it and the server cannot check it.
    expect(formProblems(on, base).some((p) => p.startsWith('clipping'))).toBe(true);
    const filled = { ...on, clippingValue: '2' };
    expect(formProblems(filled, base)).toEqual([]);
    expect(patchFromForm(filled, base)).toMatchObject({ secureAggregation: { fractionBits: null }, clipping: { mode: 'fixed', norm: 2 } });
    expect(patchFromForm(formFromConfig(base), base).secureAggregation).toBeUndefined();
  });
});

describe('the study form’s privacy under secure aggregation', () => {
  it('plans with the distributed accountant, and finds the noise for a target ε with it', () => {
    const privacy = { ...formFromConfig(base).privacy, enabled: true, noiseMode: 'target' as const, targetEpsilon: '8', sampleRate: '0.5', epsilonBudget: '8' };
    const central = privacyPreview(privacy, 10, 20, 385);
    const distributed = privacyPreview(privacy, 10, 20, 385, true);
    if (!central || 'error' in central || !distributed || 'error' in distributed) throw new Error('expected two plans');
    expect(distributed.privacy.distributed).toBe(true);
    // Zhu and Wang's bound for the sampled Skellam mechanism is looser than the exact sampled Gaussian: more noise for the same ε.
    expect(distributed.privacy.noiseMultiplier).toBeGreaterThan(central.privacy.noiseMultiplier);
    expect(distributed.plan.planned.epsilon).toBeLessThanOrEqual(8);
    expect(distributed.plan.planned.epsilon).toBeGreaterThan(7.9);
    // The form sends the z it planned with; the server's schema accepts it with secure aggregation on.
    const form = { ...applyFormChange(formFromConfig(base), { secureAggregation: true }), clippingValue: '2', privacy };
    expect(formProblems(form, base)).toEqual([]);
    expect(patchFromForm(form, base).privacy?.noiseMultiplier).toBe(distributed.privacy.noiseMultiplier);
  });
});
