import { useId } from 'react';
import { MAX_LAYERS, type DesignForm, type LayerRow } from './designForm';

interface Props {
  form: DesignForm;
  invalid: Set<string>;
  onChange: (patch: Partial<Pick<DesignForm, 'model' | 'missingIndicators' | 'defaults'>>) => void;
}

/** What a custom study trains with unless a study says otherwise (the designer's template defaults, see shared/tasks/design.ts). */
const DEFAULT_HINT = { rounds: 10, minParticipants: 2, localEpochs: 2 };

/** The model (logistic regression or an MLP of up to four hidden layers), missing-value indicators and the study defaults. */
export function ModelFields({ form, invalid, onChange }: Props) {
  const id = useId();
  const { model } = form;
  const setLayers = (hidden: LayerRow[]) => onChange({ model: { ...model, hidden: hidden.slice(0, MAX_LAYERS) } });
  const setLayer = (k: number, patch: Partial<LayerRow>) => setLayers(model.hidden.map((h, j) => (j === k ? { ...h, ...patch } : h)));

  return (
    <>
      <fieldset className="config-group">
        <legend>Model</legend>
        <div className="radio-row" role="radiogroup" aria-label="Model">
          <label className="checkbox-line">
            <input type="radio" name={`${id}-model`} checked={model.kind === 'logistic'} onChange={() => onChange({ model: { ...model, kind: 'logistic' } })} />
            <span>Logistic regression</span>
          </label>
          <label className="checkbox-line">
            <input
              type="radio"
              name={`${id}-model`}
              checked={model.kind === 'mlp'}
              onChange={() => onChange({ model: { kind: 'mlp', hidden: model.hidden.length ? model.hidden : [{ units: '16', activation: 'relu' }] } })}
            />
            <span>Neural network (MLP)</span>
          </label>
        </div>
        {model.kind === 'mlp' && (
          <div className="designer-layers">
            <ol className="plain-list">
              {model.hidden.map((h, k) => (
                <li key={k} className="range-pair">
                  <span className="small">Hidden layer {k + 1}</span>
                  <input
                    aria-label={`Hidden layer ${k + 1} units`}
                    aria-invalid={invalid.has(`model.hidden.${k}.units`) || undefined}
                    inputMode="numeric"
                    value={h.units}
                    onChange={(e) => setLayer(k, { units: e.target.value })}
                    size={5}
                  />
                  <span className="small muted">units,</span>
                  <select aria-label={`Hidden layer ${k + 1} activation`} value={h.activation} onChange={(e) => setLayer(k, { activation: e.target.value as LayerRow['activation'] })}>
                    <option value="relu">ReLU</option>
                    <option value="tanh">tanh</option>
                  </select>
                  {model.hidden.length > 1 && (
                    <button type="button" className="button ghost small-button" aria-label={`Remove hidden layer ${k + 1}`} onClick={() => setLayers(model.hidden.filter((_, j) => j !== k))}>
                      Remove
                    </button>
                  )}
                </li>
              ))}
            </ol>
            <button
              type="button"
              className="button"
              disabled={model.hidden.length >= MAX_LAYERS}
              onClick={() => setLayers([...model.hidden, { units: model.hidden.at(-1)?.units ?? '16', activation: 'relu' }])}
            >
              Add layer
            </button>
            <span className="muted small"> Up to {MAX_LAYERS} hidden layers.</span>
          </div>
        )}
        <label className="checkbox-line">
          <input type="checkbox" checked={form.missingIndicators} onChange={(e) => onChange({ missingIndicators: e.target.checked })} />
          <span>Missing-value indicators: one more input per feature, 1 where its value was missing and imputed</span>
        </label>
      </fieldset>

      <fieldset className="config-group">
        <legend>Defaults</legend>
        <p className="muted small">What a new study of this template starts with; the New study form can still change them.</p>
        <div className="form-grid">
          {(
            [
              ['rounds', 'Rounds'],
              ['minParticipants', 'Min sites per round'],
              ['localEpochs', 'Local epochs'],
            ] as const
          ).map(([key, text]) => (
            <div className="field" key={key}>
              <label htmlFor={`${id}-${key}`}>{text}</label>
              <input
                id={`${id}-${key}`}
                inputMode="numeric"
                aria-invalid={invalid.has(`defaults.${key}`) || undefined}
                value={form.defaults[key]}
                placeholder={String(DEFAULT_HINT[key])}
                onChange={(e) => onChange({ defaults: { ...form.defaults, [key]: e.target.value } })}
              />
            </div>
          ))}
        </div>
      </fieldset>
    </>
  );
}
