import type { FeatureKind, FeatureRow } from './designForm';
import { ScrollFrame } from '../../layout/ScrollFrame';

interface Props {
  features: FeatureRow[];
  /** Keys (`features.2.min`) the check found wrong. */
  invalid: Set<string>;
  onChange: (key: number, patch: Partial<Omit<FeatureRow, 'key'>>) => void;
  onAdd: () => void;
  onRemove: (key: number) => void;
}

/**
 * One row per feature. Inputs are named by the row's number ("Feature 3 plausible min"), which stays
 * put while its name is typed, so a screen reader and the e2e find the same field.
 */
export function FeaturesTable({ features, invalid, onChange, onAdd, onRemove }: Props) {
  return (
    <fieldset className="config-group">
      <legend>Features</legend>
      <ScrollFrame label="Features table">
        <table className="designer-features">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Column name</th>
              <th scope="col">Label</th>
              <th scope="col">Kind</th>
              <th scope="col">Unit</th>
              <th scope="col">Plausible min–max</th>
              <th scope="col">Possible min–max</th>
              <th scope="col">Integer</th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {features.map((f, i) => {
              const n = `Feature ${i + 1}`;
              const bad = (field: string) => invalid.has(`features.${i}.${field}`) || undefined;
              const set = (patch: Partial<Omit<FeatureRow, 'key'>>) => onChange(f.key, patch);
              return (
                <tr key={f.key} data-testid="feature-row" aria-invalid={invalid.has(`features.${i}`) || undefined}>
                  <th scope="row" className="num">
                    {i + 1}
                  </th>
                  <td>
                    <input aria-label={`${n} name`} aria-invalid={bad('name')} value={f.name} onChange={(e) => set({ name: e.target.value })} size={12} spellCheck={false} />
                  </td>
                  <td>
                    <input aria-label={`${n} label`} aria-invalid={bad('label')} value={f.label} onChange={(e) => set({ label: e.target.value })} size={16} />
                  </td>
                  <td>
                    <select aria-label={`${n} kind`} value={f.kind} onChange={(e) => set({ kind: e.target.value as FeatureKind })}>
                      <option value="numeric">numeric</option>
                      <option value="binary">binary</option>
                      <option value="categorical">categorical</option>
                    </select>
                  </td>
                  {f.kind === 'numeric' ? (
                    <>
                      <td>
                        <input aria-label={`${n} unit`} aria-invalid={bad('unit')} value={f.unit} onChange={(e) => set({ unit: e.target.value })} size={6} />
                      </td>
                      <td>
                        <span className="range-pair nowrap">
                          <input aria-label={`${n} plausible min`} aria-invalid={bad('min')} inputMode="decimal" value={f.min} onChange={(e) => set({ min: e.target.value })} size={5} />
                          <span aria-hidden="true">–</span>
                          <input aria-label={`${n} plausible max`} aria-invalid={bad('max')} inputMode="decimal" value={f.max} onChange={(e) => set({ max: e.target.value })} size={5} />
                        </span>
                      </td>
                      <td>
                        <span className="range-pair nowrap">
                          <input aria-label={`${n} possible min`} aria-invalid={bad('limits')} inputMode="decimal" value={f.limitsMin} placeholder="—" onChange={(e) => set({ limitsMin: e.target.value })} size={5} />
                          <span aria-hidden="true">–</span>
                          <input aria-label={`${n} possible max`} aria-invalid={bad('limits')} inputMode="decimal" value={f.limitsMax} placeholder="—" onChange={(e) => set({ limitsMax: e.target.value })} size={5} />
                        </span>
                      </td>
                      <td>
                        <input type="checkbox" aria-label={`${n} integer`} checked={f.integer} onChange={(e) => set({ integer: e.target.checked })} />
                      </td>
                    </>
                  ) : (
                    // Binary and categorical rows have no unit or range: their values take those columns.
                    <td colSpan={4}>
                      {f.kind === 'binary' ? (
                        <span className="range-pair nowrap">
                          <span className="small muted">0 =</span>
                          <input aria-label={`${n} meaning of 0`} aria-invalid={bad('values')} value={f.value0} onChange={(e) => set({ value0: e.target.value })} size={10} />
                          <span className="small muted">1 =</span>
                          <input aria-label={`${n} meaning of 1`} aria-invalid={bad('values')} value={f.value1} onChange={(e) => set({ value1: e.target.value })} size={10} />
                        </span>
                      ) : (
                        <span className="range-pair nowrap">
                          <span className="small muted">codes</span>
                          <input
                            aria-label={`${n} codes`}
                            aria-invalid={bad('categories')}
                            value={f.codes}
                            placeholder="1=first; 2=second"
                            onChange={(e) => set({ codes: e.target.value })}
                            size={36}
                          />
                        </span>
                      )}
                    </td>
                  )}
                  <td>
                    <button type="button" className="button ghost small-button" aria-label={`Remove feature ${i + 1}${f.name ? ` (${f.name})` : ''}`} onClick={() => onRemove(f.key)}>
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollFrame>
      <div className="actions">
        <button type="button" className="button" onClick={onAdd} disabled={features.length >= 256}>
          Add feature
        </button>
        <span className="muted small">
          Plausible: values outside are kept and flagged at import. Possible: values outside cannot be measurements; their rows are refused (empty: the
          plausible range).
        </span>
      </div>
    </fieldset>
  );
}
