import { useId, useMemo } from 'react';
import type { LocalWork } from '../../shared/fl/privacy/recordPlan';
import { useDebounced } from '../useDebounced';
import { RECORD_LABELS, recordPlan, type RecordPrivacyForm } from './recordPrivacyForm';
import { ScrollFrame } from '../layout/ScrollFrame';

type Key = Exclude<keyof RecordPrivacyForm, 'enabled'>;

interface Props {
  recordPrivacy: RecordPrivacyForm;
  /** The study's local work as typed: the plan says how many rounds of it the budget allows. */
  work: LocalWork;
  onChange: (recordPrivacy: RecordPrivacyForm) => void;
}

const HINTS: Record<Key, string> = {
  noiseMultiplier: 'Noise standard deviation over C on each step’s summed gradients: more noise, more steps within the budget.',
  clipNorm: 'Every record’s gradient is clipped to this L2 norm before it is summed.',
  epsilonBudget: 'Each site’s own budget: a site that would pass it trains no more for this study.',
  delta: 'Chance the guarantee fails; keep it well below 1 / records at a site.',
};

/**
 * The study form's record-level differential privacy (DP-SGD): off by default; on, the seed
 * platform's settings, and, before the study starts, the local steps each site's budget allows.
 */
export function RecordPrivacyFields({ recordPrivacy, work, onChange }: Props) {
  const base = useId();
  const change = (patch: Partial<RecordPrivacyForm>) => onChange({ ...recordPrivacy, ...patch });
  const live = useMemo(() => ({ recordPrivacy, work }), [recordPrivacy, work]);
  const settled = useDebounced(live, 250);
  const plan = useMemo(() => recordPlan(settled.recordPrivacy, settled.work), [settled]);

  return (
    <fieldset className="config-group privacy-group" data-testid="record-privacy-fields">
      <legend>Differential privacy (record-level, DP-SGD)</legend>
      <label className="check">
        <input type="checkbox" name="recordPrivacy.enabled" checked={recordPrivacy.enabled} onChange={(e) => change({ enabled: e.target.checked })} /> Protect each
        patient record with DP-SGD in every tab
      </label>
      <p className="muted small">
        Bounds what the other sites and the server can learn about any one patient: each tab trains on random (Poisson) samples of its records, clips every
        record’s gradient to C and adds Gaussian noise to each step. The server counts every step each site runs; a site that would pass its budget stops
        training for the study. Combines with site-level privacy and secure aggregation, each accounted separately. Fixed once the study exists.
      </p>
      {recordPrivacy.enabled && (
        <>
          <div className="form-grid">
            {(Object.keys(RECORD_LABELS) as Key[]).map((key) => (
              <div className="field" key={key}>
                <label htmlFor={`${base}-${key}`}>{RECORD_LABELS[key]}</label>
                <input
                  id={`${base}-${key}`}
                  name={`recordPrivacy.${key}`}
                  type="number"
                  inputMode="decimal"
                  step="any"
                  min="0"
                  value={recordPrivacy[key]}
                  aria-describedby={`${base}-${key}-hint`}
                  onChange={(e) => change({ [key]: e.target.value })}
                />
                <span id={`${base}-${key}-hint`} className="hint">
                  {HINTS[key]}
                </span>
              </div>
            ))}
          </div>
          {plan ? (
            <div data-testid="record-privacy-plan" aria-live="polite">
              {plan.smallestSite !== 1 && (
                <p className="notice warn" data-testid="record-privacy-smallest" data-records={plan.smallestSite ?? ''}>
                  {plan.smallestSite === null
                    ? 'This budget allows no training step at any site size: raise the budget or the noise multiplier.'
                    : `A site with fewer than ${plan.smallestSite.toLocaleString('en')} training records cannot take a single step within this budget, and will not train. A larger budget, more noise or a smaller batch size lets smaller sites train.`}
                </p>
              )}
            <ScrollFrame label="Record-level privacy plan">
              <table>
                <caption className="small">What each site’s budget allows, by its number of training records (batch size {work.batchSize})</caption>
                <thead>
                  <tr>
                    <th scope="col">Site records</th>
                    <th scope="col">Sampling rate q</th>
                    <th scope="col">Local steps allowed</th>
                    <th scope="col">Rounds of the study’s local work</th>
                  </tr>
                </thead>
                <tbody>
                  {plan.rows.map((r) => (
                    <tr key={r.records} data-testid="record-plan-row" data-records={r.records} data-steps={r.stepsAllowed}>
                      <th scope="row">{r.records.toLocaleString('en')}</th>
                      <td>{r.sampleRate.toPrecision(2)}</td>
                      <td>{r.stepsAllowed.toLocaleString('en')}</td>
                      <td>
                        {r.rounds.toLocaleString('en')} ({r.stepsPerRound.toLocaleString('en')} steps a round)
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollFrame>
            </div>
          ) : (
            <p className="notice warn" data-testid="record-privacy-plan">
              Set a noise multiplier of at least 0.1, a clip and a budget above 0 and δ in (0, 0.01] to see what the budget allows.
            </p>
          )}
        </>
      )}
    </fieldset>
  );
}
