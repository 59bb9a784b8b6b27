import { useId } from 'react';
import { RULES_BINARY, RULES_MULTICLASS, type CompareOp, type LabelForm, type RuleKind } from './designForm';

const RULE_TEXT: Record<RuleKind, { binary: string; multiclass: string }> = {
  none: { binary: 'Not set', multiclass: 'Not set' },
  direct: { binary: 'Direct (0 or 1)', multiclass: 'Direct (class number)' },
  compare: { binary: 'Compare a number', multiclass: '' },
  match: { binary: 'Match listed values', multiclass: '' },
  classes: { binary: '', multiclass: 'Listed values per class' },
};

/** What each rule does, under the choice. */
const RULE_HINT: Record<RuleKind, { binary: string; multiclass: string }> = {
  none: { binary: 'Each site maps its label column at import.', multiclass: 'Each site maps its label column at import.' },
  direct: { binary: 'The column holds 0 or 1.', multiclass: 'The column holds the class number: 0 for the first class, 1 for the next, …' },
  compare: { binary: '1 where the number compares true (“> 0” turns a 0–4 scale into yes/no).', multiclass: '' },
  match: { binary: 'Listed values mean positive; negative ones are listed too, or anything else is negative.', multiclass: '' },
  classes: { binary: '', multiclass: 'List, beside each class, the values that mean it.' },
};

const OPS: CompareOp[] = ['>', '>=', '<', '<=', '==', '!='];
const MAX_CLASSES = 20;

/** The label: its column, what it means, yes/no or several classes, and the rule that reads it from a site's export. */
export function LabelFields({ label, invalid, onChange }: { label: LabelForm; invalid: Set<string>; onChange: (patch: Partial<LabelForm>) => void }) {
  const id = useId();
  const bad = (key: string) => invalid.has(`label.${key}`) || undefined;
  const rules = label.multiclass ? RULES_MULTICLASS : RULES_BINARY;
  const setClass = (k: number, patch: Partial<LabelForm['classes'][number]>) => onChange({ classes: label.classes.map((c, j) => (j === k ? { ...c, ...patch } : c)) });

  return (
    <fieldset className="config-group">
      <legend>Label</legend>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-name`}>Label column name</label>
          <input id={`${id}-name`} aria-invalid={bad('name')} value={label.name} spellCheck={false} onChange={(e) => onChange({ name: e.target.value })} placeholder="outcome" />
          <span className="hint">As in the sites’ exports (lower-case, letters, digits, _).</span>
        </div>
        <div className="field">
          <label htmlFor={`${id}-description`}>Label description</label>
          <input id={`${id}-description`} aria-invalid={bad('description')} value={label.description} onChange={(e) => onChange({ description: e.target.value })} placeholder="Death within 30 days" />
        </div>
        {!label.multiclass && (
          <>
            <div className="field">
              <label htmlFor={`${id}-positive`}>Positive (1) means</label>
              <input id={`${id}-positive`} aria-invalid={bad('positive')} value={label.positive} onChange={(e) => onChange({ positive: e.target.value })} placeholder="died" />
            </div>
            <div className="field">
              <label htmlFor={`${id}-negative`}>Negative (0) means</label>
              <input id={`${id}-negative`} aria-invalid={bad('negative')} value={label.negative} onChange={(e) => onChange({ negative: e.target.value })} placeholder="survived" />
            </div>
          </>
        )}
      </div>

      <label className="checkbox-line">
        <input type="checkbox" checked={label.multiclass} onChange={(e) => onChange({ multiclass: e.target.checked })} />
        <span>Several classes (3 or more) instead of yes/no</span>
      </label>

      {label.multiclass && (
        <div className="designer-classes">
          <ol className="plain-list">
            {label.classes.map((c, k) => (
              <li key={k} className="range-pair">
                <span className="small muted">{k}</span>
                <input aria-label={`Class ${k + 1} name`} aria-invalid={bad(`classes.${k}`)} value={c.name} onChange={(e) => setClass(k, { name: e.target.value })} placeholder={`class ${k + 1}`} />
                {label.rule === 'classes' && (
                  <input
                    aria-label={`Class ${k + 1} values`}
                    aria-invalid={bad(`rule.values.${k}`)}
                    value={c.values}
                    onChange={(e) => setClass(k, { values: e.target.value })}
                    placeholder="values, comma-separated"
                  />
                )}
                {label.classes.length > 3 && (
                  <button type="button" className="button ghost small-button" aria-label={`Remove class ${k + 1}`} onClick={() => onChange({ classes: label.classes.filter((_, j) => j !== k) })}>
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ol>
          <button type="button" className="button" disabled={label.classes.length >= MAX_CLASSES} onClick={() => onChange({ classes: [...label.classes, { name: '', values: '' }] })}>
            Add class
          </button>
        </div>
      )}

      <div className="form-grid designer-rule">
        <div className="field">
          <label htmlFor={`${id}-rule`}>Rule</label>
          <select id={`${id}-rule`} value={label.rule} onChange={(e) => onChange({ rule: e.target.value as RuleKind })}>
            {rules.map((r) => (
              <option key={r} value={r}>
                {RULE_TEXT[r][label.multiclass ? 'multiclass' : 'binary']}
              </option>
            ))}
          </select>
          <span className="hint">{RULE_HINT[label.rule][label.multiclass ? 'multiclass' : 'binary']}</span>
        </div>
        {label.rule === 'compare' && (
          <div className="field">
            <span id={`${id}-compare`}>Positive where the value is</span>
            <span className="range-pair" role="group" aria-labelledby={`${id}-compare`}>
              <select aria-label="Comparison" value={label.op} onChange={(e) => onChange({ op: e.target.value as CompareOp })}>
                {OPS.map((op) => (
                  <option key={op} value={op}>
                    {op}
                  </option>
                ))}
              </select>
              <input aria-label="Compared value" aria-invalid={bad('rule.value')} inputMode="decimal" value={label.value} onChange={(e) => onChange({ value: e.target.value })} size={8} />
            </span>
          </div>
        )}
        {label.rule === 'match' && (
          <>
            <div className="field">
              <label htmlFor={`${id}-pos-values`}>Positive values</label>
              <input id={`${id}-pos-values`} aria-invalid={bad('rule.positive')} value={label.positiveValues} onChange={(e) => onChange({ positiveValues: e.target.value })} placeholder="1, yes, died" />
            </div>
            <div className="field">
              <label htmlFor={`${id}-neg-values`}>Negative values</label>
              <input id={`${id}-neg-values`} aria-invalid={bad('rule.negative')} value={label.negativeValues} onChange={(e) => onChange({ negativeValues: e.target.value })} placeholder="0, no, survived" />
              <span className="hint">Empty: anything else is negative.</span>
            </div>
          </>
        )}
      </div>
    </fieldset>
  );
}
