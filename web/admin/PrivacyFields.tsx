import { useId, useMemo } from 'react';
import { UNAVAILABLE_UNDER_DP } from '../../shared/fl/privacy/sitePrivacy';
import { delta as showDelta, epsilon as showEpsilon } from '../privacyFormat';
import { useDebounced } from '../useDebounced';
import { applyPrivacyChange, LABELS, privacyPreview, type PrivacyForm } from './privacyForm';

type Key = Exclude<keyof PrivacyForm, 'enabled' | 'noiseMode'>;

interface Props {
  privacy: PrivacyForm;
  /** The study's rounds as typed: every round is one step of the accountant. */
  rounds: string;
  /** Sites enrolled on the form: how far the noise drowns one site's update depends on how many share a round. */
  sites: number;
  /** The template model's parameters: the noise is added to each of them. */
  parameters: number;
  /** Under secure aggregation the sites add the noise (distributed Skellam) and its own accountant counts it. */
  distributed?: boolean;
  onChange: (privacy: PrivacyForm) => void;
}

/**
 * The study form's site-level differential privacy: off by default; on, its settings, the ε the
 * whole study will spend and the rounds its budget allows, and the plan's warnings. What it spends is
 * worked out once the typing pauses (a target ε takes up to a few hundred milliseconds to meet).
 */
export function PrivacyFields({ privacy, rounds, sites, parameters, distributed = false, onChange }: Props) {
  const base = useId();
  const change = (patch: Partial<PrivacyForm>) => onChange(applyPrivacyChange(privacy, patch));
  const live = useMemo(() => ({ privacy, rounds, sites, parameters, distributed }), [privacy, rounds, sites, parameters, distributed]);
  const settled = useDebounced(live, 250);
  const stale = settled !== live;
  const preview = useMemo(
    () => (settled.privacy.enabled ? privacyPreview(settled.privacy, settled.rounds.trim() === '' ? Number.NaN : Number(settled.rounds), settled.sites, settled.parameters, settled.distributed) : null),
    [settled],
  );

  const input = (key: Key, label: string, hint: string, attrs: { step?: string; min?: string; max?: string } = {}) => (
    <div className="field" key={key}>
      <label htmlFor={`${base}-${key}`}>{label}</label>
      <input
        id={`${base}-${key}`}
        name={`privacy.${key}`}
        type="number"
        inputMode="decimal"
        step="any"
        value={privacy[key]}
        aria-describedby={`${base}-${key}-hint`}
        onChange={(e) => change({ [key]: e.target.value })}
        {...attrs}
      />
      <span id={`${base}-${key}-hint`} className="hint">
        {hint}
      </span>
    </div>
  );
  const computed = preview && 'plan' in preview ? preview : null;

  return (
    <fieldset className="config-group privacy-group" data-testid="privacy-fields">
      <legend>Differential privacy (site-level)</legend>
      <label className="check">
        <input type="checkbox" name="privacy.enabled" checked={privacy.enabled} onChange={(e) => change({ enabled: e.target.checked })} /> Protect each site with
        differential privacy
      </label>
      <p className="muted small">
        Bounds what anyone can learn from the model about any one hospital, even whether it took part: each site’s update is clipped to a norm C, each
        round samples sites at random, and{' '}
        {distributed
          ? 'under secure aggregation each site adds its share of integer (Skellam) noise before masking its update, so the sum carries the noise and neither the server nor any site can take it out'
          : 'the server adds Gaussian noise to the mean'}
        . Every round spends some of the study’s ε; the study stops itself before it would pass its budget. Fixed once the study exists.
      </p>
      {privacy.enabled && (
        <>
          <div className="form-grid">
            {input('clipNorm', LABELS.clipNorm, 'Every site’s update is clipped to this L2 norm, in its tab and on the server.', { min: '0' })}
            <div className="field">
              <span id={`${base}-mode`}>Noise</span>
              <div className="segmented" role="radiogroup" aria-labelledby={`${base}-mode`}>
                {(
                  [
                    ['noise', 'Set the noise'],
                    ['target', 'Set a target ε'],
                  ] as const
                ).map(([mode, text]) => (
                  <label key={mode} className={privacy.noiseMode === mode ? 'checked' : undefined}>
                    <input type="radio" name={`${base}-noise-mode`} value={mode} checked={privacy.noiseMode === mode} onChange={() => change({ noiseMode: mode })} />
                    {text}
                  </label>
                ))}
              </div>
              <span className="hint">Choose the noise multiplier, or the ε the whole study may spend and let the form choose it.</span>
            </div>
            {privacy.noiseMode === 'noise'
              ? input('noiseMultiplier', LABELS.noiseMultiplier, 'Noise standard deviation over C (at least 0.1): more noise, less ε a round.', { min: '0.1' })
              : input('targetEpsilon', LABELS.targetEpsilon, `The ε all ${rounds || 'the'} rounds together may spend; the form picks the smallest z that keeps it.`, {
                  min: '0',
                })}
            {privacy.noiseMode === 'target' && (
              <div className="field">
                <span>{LABELS.noiseMultiplier}</span>
                <output data-testid="privacy-computed-noise" aria-busy={stale}>
                  {computed?.target && 'noise' in computed.target ? computed.target.noise : '—'}
                </output>
                <span className="hint">Computed from the target ε over the study’s rounds.</span>
              </div>
            )}
            {input('sampleRate', LABELS.sampleRate, 'Each online site’s chance to be in a round (0–1].', { min: '0', max: '1' })}
            {input('delta', LABELS.delta, 'Chance the guarantee fails; keep it well below 1 / number of sites.', { min: '0', max: '0.01' })}
            {input('epsilonBudget', LABELS.epsilonBudget, 'No round opens that would take ε past this: the study stops itself.', { min: '0' })}
            {input('recordCap', LABELS.recordCap, 'A site with this many training records or more weighs 1; fewer, proportionally less.', { min: '1', step: '1' })}
          </div>
          <PrivacyPlanView preview={preview} rounds={settled.rounds} stale={stale} />
          <details className="privacy-unavailable small">
            <summary>Unavailable under differential privacy</summary>
            <ul data-testid="privacy-unavailable">
              <li>
                <strong>Robust strategies</strong>: {UNAVAILABLE_UNDER_DP.strategy}.
              </li>
              <li>
                <strong>Accepting late updates</strong>: {UNAVAILABLE_UNDER_DP.straggler}.
              </li>
              <li>
                <strong>A clipping rule of its own</strong>: {UNAVAILABLE_UNDER_DP.clipping.replace(/: leave 'clipping' unset$/, '').replace('privacy.clipNorm', 'the clip norm C')}.
              </li>
              <li>
                <strong>Participant fraction, min. updates and weight cap</strong>: sites are sampled with probability q, and a site weighs min(records / record
                cap, 1).
              </li>
            </ul>
          </details>
        </>
      )}
    </fieldset>
  );
}

/** What the study will spend, the rounds its budget allows, and the plan's warnings, in plain words. */
function PrivacyPlanView({ preview, rounds, stale }: { preview: ReturnType<typeof privacyPreview>; rounds: string; stale: boolean }) {
  if (!preview) return null;
  if ('error' in preview)
    return (
      <p className="notice warn" data-testid="privacy-plan" aria-busy={stale}>
        {preview.error}
      </p>
    );
  const { plan, privacy } = preview;
  const total = Number(rounds);
  return (
    <div className="privacy-plan" data-testid="privacy-plan" aria-live="polite" aria-busy={stale}>
      <p>
        Over its {total} {total === 1 ? 'round' : 'rounds'} the study will spend{' '}
        <strong data-testid="privacy-planned-epsilon" data-value={plan.planned.epsilon}>
          ε {showEpsilon(plan.planned.epsilon)}
        </strong>{' '}
        (δ {showDelta(privacy.delta)}). The budget ε {showEpsilon(privacy.epsilonBudget)} allows{' '}
        <strong data-testid="privacy-rounds-allowed" data-value={plan.roundsAllowed}>
          {plan.roundsAllowed} of {total} rounds
        </strong>
        .
      </p>
      {plan.warnings.length > 0 && (
        <div className="notice warn" role="note" data-testid="privacy-warnings">
          <ul className="problems">
            {plan.warnings.map((w) => (
              <li key={w}>{w.charAt(0).toUpperCase() + w.slice(1)}.</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
