import { describe, expect, it } from 'vitest';
import { heartRisk } from '../../shared/tasks';
import { applyFormChange, configProblems, formFromConfig, patchFromForm } from './studyConfigForm';

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
    expect(yogi.strategyOptions).toEqual({ serverLearningRate: '0.01', beta1: '0.9', beta2: '0.99', tau: '0.001', initialAccumulator: '' });
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
