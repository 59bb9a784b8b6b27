import { useId, type ReactNode } from 'react';
import { UNAVAILABLE_UNDER_DP } from '../../shared/fl/privacy/sitePrivacy';
import { UNAVAILABLE_UNDER_SECURE_AGGREGATION as UNDER_SA } from '../../shared/protocol/studyConfig';
import { clippingValueField, MEAN_STRATEGIES, STRATEGY_NAMES, STRATEGY_OPTION_FIELDS, type ConfigForm } from './studyConfigForm';

/** The form's own text fields (the strategy's settings are edited through `strategyOptions`, privacy in ./PrivacyFields). */
type Key = Exclude<keyof ConfigForm, 'strategyOptions' | 'privacy' | 'secureAggregation' | 'recordPrivacy'>;

/** Why a setting is off under differential privacy, as a hint under it. */
/** UNAVAILABLE_UNDER_DP.clipping without its advice to API callers. */
const dpClipping = UNAVAILABLE_UNDER_DP.clipping.replace(/: leave 'clipping' unset$/, '').replace('privacy.clipNorm', 'the privacy clip norm C');

const SA_CLIPPING = 'Under secure aggregation each site clips its own update to a fixed norm before masking it: the server cannot check that it did, nor measure any update’s norm.';

const NOT_UNDER_DP = 'Not used under differential privacy: each site is sampled with probability q, and weighs min(records / record cap, 1).';

interface Props {
  form: ConfigForm;
  onChange: (patch: Partial<ConfigForm>) => void;
  /** Settings shown but not editable (fixed once a study exists). */
  fixed?: ReadonlySet<keyof ConfigForm>;
}

/** The main study settings, grouped as an admin thinks of them. */
export function ConfigFields({ form, onChange, fixed = new Set() }: Props) {
  const base = useId();
  const dp = form.privacy.enabled;
  const sa = form.secureAggregation;
  /** What rules choices out, as the hints say it. */
  const under = dp ? 'differential privacy' : 'secure aggregation';
  const restricted = dp || sa;
  const clippingField = dp ? null : clippingValueField(form.clipping);
  const offUnderDp: ReadonlySet<Key> = new Set(dp ? (['participantFraction', 'minUpdates', 'weightCapFactor'] as const) : []);
  const input = (key: Key, label: string, hint: string, attrs: { step?: string; min?: string; max?: string; placeholder?: string } = {}) => (
    <div className="field" key={key}>
      <label htmlFor={`${base}-${key}`}>{label}</label>
      <input
        id={`${base}-${key}`}
        name={key}
        type="number"
        inputMode="decimal"
        value={form[key]}
        disabled={fixed.has(key) || offUnderDp.has(key)}
        aria-describedby={`${base}-${key}-hint`}
        onChange={(e) => onChange({ [key]: e.target.value })}
        {...attrs}
      />
      <span id={`${base}-${key}-hint`} className="hint">
        {fixed.has(key) ? 'Fixed once the study exists.' : offUnderDp.has(key) ? NOT_UNDER_DP : hint}
      </span>
    </div>
  );
  /**
   * `unavailable`: why choices are off under differential privacy, said under the control; `locked`
   * shows `value` and disables the control.
   */
  const select = (key: Key, label: string, hint: string, options: ReactNode, unavailable?: { reason: string; locked?: { value: string } }) => (
    <div className="field" key={key}>
      <label htmlFor={`${base}-${key}`}>{label}</label>
      <select
        id={`${base}-${key}`}
        name={key}
        value={unavailable?.locked?.value ?? form[key]}
        disabled={!!unavailable?.locked}
        aria-describedby={`${base}-${key}-hint`}
        onChange={(e) => onChange({ [key]: e.target.value } as Partial<ConfigForm>)}
      >
        {options}
      </select>
      <span id={`${base}-${key}-hint`} className="hint" data-testid={unavailable ? `dp-unavailable-${key}` : undefined}>
        {unavailable ? unavailable.reason : hint}
      </span>
    </div>
  );

  return (
    <>
      <fieldset className="config-group">
        <legend>Rounds</legend>
        <div className="form-grid">
          {input('rounds', 'Rounds', 'Rounds to run in all.', { min: '1', step: '1' })}
          {input('minParticipants', 'Min. participants', 'Sites online before a round opens.', { min: '1', step: '1' })}
          {input('participantFraction', 'Participant fraction', 'Share of online sites sampled each round (0–1].', { min: '0', max: '1', step: 'any' })}
          {input('minUpdates', 'Min. updates', 'Updates needed to aggregate at the deadline.', { min: '1', step: '1' })}
          {input('roundDeadlineSeconds', 'Round deadline (s)', 'How long a round stays open.', { min: '1', step: 'any' })}
          {input('evaluateEvery', 'Evaluate every', 'Sites evaluate every Nth version.', { min: '1', step: '1' })}
          {select(
            'straggler',
            'Late updates',
            'An update arriving after its round closed.',
            <>
              <option value="drop">Drop</option>
              <option value="accept-late" disabled={restricted}>
                Accept, down-weighted{restricted ? ` (unavailable under ${under})` : ''}
              </option>
            </>,
            restricted ? { reason: `Accepting late updates is unavailable under ${under}: ${dp ? UNAVAILABLE_UNDER_DP.straggler : UNDER_SA.straggler}.` } : undefined,
          )}
          {form.straggler === 'accept-late' && input('maxStaleness', 'Max. staleness', 'Versions behind a late update may be.', { min: '1', step: '1' })}
          {form.straggler === 'accept-late' && input('lateWeight', 'Late weight', 'Factor on a late update’s weight (0–1].', { min: '0', max: '1', step: 'any' })}
        </div>
      </fieldset>
      <fieldset className="config-group">
        <legend>Local training</legend>
        <div className="form-grid">
          {select(
            'localWork',
            'Local work per round',
            form.localWork === 'steps'
              ? 'Every site takes the same number of optimiser steps, however few records it holds; its update still weighs its record count.'
              : 'Passes over each site’s data: a small site takes few optimiser steps.',
            <>
              <option value="epochs">Epochs</option>
              <option value="steps">Optimiser steps</option>
            </>,
          )}
          {form.localWork === 'steps'
            ? input('localSteps', 'Local steps', 'Mini-batch steps per round, cycling through a site’s records as often as needed.', { min: '1', max: '100000', step: '1' })
            : input('localEpochs', 'Local epochs', 'Passes over a site’s data per round.', { min: '1', step: '1' })}
          {input('batchSize', 'Batch size', 'Records per gradient step.', { min: '1', step: '1' })}
          {input('learningRate', 'Learning rate', 'Step size of the local optimiser.', { min: '0', step: 'any' })}
          {select(
            'optimizer',
            'Optimiser',
            'The local optimiser.',
            <>
              <option value="adam">Adam</option>
              <option value="sgd">SGD</option>
            </>,
          )}
          {input('fedProxMu', 'FedProx μ', 'Proximal term weight; 0 for none.', { min: '0', step: 'any' })}
        </div>
      </fieldset>
      <fieldset className="config-group">
        <legend>Aggregation and data</legend>
        <div className="form-grid">
          {select(
            'strategy',
            'Strategy',
            'How the server combines updates.',
            STRATEGY_NAMES.map((n) => {
              const off = restricted && !MEAN_STRATEGIES.has(n);
              return (
                <option key={n} value={n} disabled={off}>
                  {n}
                  {off ? ` (unavailable under ${under})` : ''}
                </option>
              );
            }),
            restricted ? { reason: `Only the mean rules under ${under}: ${dp ? UNAVAILABLE_UNDER_DP.strategy : UNDER_SA.strategy}.` } : undefined,
          )}
          {STRATEGY_OPTION_FIELDS[form.strategy as keyof typeof STRATEGY_OPTION_FIELDS]?.map((f) => (
            <div className="field" key={`strategy-${f.key}`}>
              <label htmlFor={`${base}-strategy-${f.key}`}>{f.label}</label>
              <input
                id={`${base}-strategy-${f.key}`}
                name={`strategy.${f.key}`}
                type="number"
                inputMode="decimal"
                step="any"
                min="0"
                value={form.strategyOptions[f.key] ?? ''}
                placeholder={f.optional ? 'derived' : undefined}
                aria-describedby={`${base}-strategy-${f.key}-hint`}
                onChange={(e) => onChange({ strategyOptions: { ...form.strategyOptions, [f.key]: e.target.value } })}
              />
              <span id={`${base}-strategy-${f.key}-hint`} className="hint">
                {f.hint}
              </span>
            </div>
          ))}
          {select(
            'clipping',
            'Update clipping',
            'Bounds how far one site’s update can move the model.',
            <>
              <option value="adaptive">Adaptive (median norm)</option>
              <option value="fixed">Fixed norm</option>
              <option value="median">Factor × last median</option>
              <option value="none">None</option>
            </>,
            dp
              ? { reason: `A clipping rule of its own is unavailable: ${dpClipping}.`, locked: { value: 'fixed' } }
              : sa
                ? { reason: SA_CLIPPING, locked: { value: 'fixed' } }
                : undefined,
          )}
          {clippingField && input('clippingValue', clippingField.label, clippingField.hint, { min: '0', step: 'any' })}
          {input('weightCapFactor', 'Weight cap', 'No site weighs more than this × the median reported record count; blank for none.', { min: '1', step: 'any', placeholder: 'none' })}
          {!dp && form.clipping === 'none' && (
            <p className="notice warn" role="note" data-testid="no-clipping-warning">
              Without clipping, one site’s update can move the shared model as far as it likes: an attacker, or a bug, can take the model over.
            </p>
          )}
          {input('validationFraction', 'Validation share', 'Records each site holds out (0.05–0.5).', { min: '0.05', max: '0.5', step: 'any' })}
          {input('seed', 'Seed', 'Seeds the initial model, splits and sampling.', { min: '0', step: '1' })}
        </div>
      </fieldset>
    </>
  );
}
