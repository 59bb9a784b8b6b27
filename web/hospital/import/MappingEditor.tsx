import { useEffect, useMemo, useState } from 'react';
// Imported file by file: the page must not pull the CSV parser, which runs in the worker.
import type { CsvAnalysis } from '../../../shared/data/csv/importer';
import { labelRuleSchema, type CompareOp, type LabelRule } from '../../../shared/data/csv/labelRule';
import type { ColumnMapping, CsvImportOptions } from '../../../shared/data/csv/mapping';
import { labelClasses } from '../../../shared/data/stats';
import type { TaskTemplate } from '../../../shared/tasks';
import { ScrollFrame } from '../../layout/ScrollFrame';

const DELIMITERS = [
  { value: ',', label: 'Comma ( , )' },
  { value: ';', label: 'Semicolon ( ; )' },
  { value: '\t', label: 'Tab' },
  { value: '|', label: 'Pipe ( | )' },
] as const;
const OPS: CompareOp[] = ['>', '>=', '<', '<=', '==', '!='];

type RuleKind = LabelRule['kind'];

/** The label rule as the form holds it: strings as typed, checked on apply. */
interface RuleDraft {
  column: number | null;
  kind: RuleKind;
  op: CompareOp;
  value: string;
  positive: string;
  negative: string;
  classes: string[];
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function draftOf(rule: LabelRule | null, classCount: number): RuleDraft {
  const empty: RuleDraft = { column: null, kind: 'direct', op: '>', value: '0', positive: '', negative: '', classes: Array(classCount).fill('') };
  if (!rule) return empty;
  switch (rule.kind) {
    case 'direct':
      return { ...empty, column: rule.column };
    case 'compare':
      return { ...empty, column: rule.column, kind: 'compare', op: rule.op, value: String(rule.value) };
    case 'match':
      return { ...empty, column: rule.column, kind: 'match', positive: rule.positive.join(', '), negative: (rule.negative ?? []).join(', ') };
    case 'classes':
      return { ...empty, column: rule.column, kind: 'classes', classes: rule.values.map((v) => v.join(', ')) };
  }
}

function ruleOf(d: RuleDraft): { rule: LabelRule | null; error: string | null } {
  if (d.column === null) return { rule: null, error: 'Choose the column that holds the label.' };
  let candidate: unknown;
  switch (d.kind) {
    case 'direct':
      candidate = { kind: 'direct', column: d.column };
      break;
    case 'compare':
      if (d.value.trim() === '' || !Number.isFinite(Number(d.value))) return { rule: null, error: 'The label rule needs a number to compare with.' };
      candidate = { kind: 'compare', column: d.column, op: d.op, value: Number(d.value) };
      break;
    case 'match': {
      const negative = list(d.negative);
      if (list(d.positive).length === 0) return { rule: null, error: 'Name at least one value that means positive.' };
      candidate = { kind: 'match', column: d.column, positive: list(d.positive), ...(negative.length ? { negative } : {}) };
      break;
    }
    case 'classes':
      if (d.classes.some((c) => list(c).length === 0)) return { rule: null, error: 'List at least one value for every class.' };
      candidate = { kind: 'classes', column: d.column, values: d.classes.map(list) };
      break;
  }
  const parsed = labelRuleSchema.safeParse(candidate);
  return parsed.success ? { rule: parsed.data, error: null } : { rule: null, error: parsed.error.issues[0]?.message ?? 'Invalid label rule.' };
}

function sentinelText(mapping: ColumnMapping, column: number | null): string {
  if (column === null) return '';
  return mapping.sentinels
    .filter((s) => s.column === column)
    .flatMap((s) => s.values)
    .join(', ');
}

/**
 * Edits how the file is read (delimiter, header row, decimal mark) and mapped: a column per feature,
 * numbers that mean "missing" per column, and the label rule. Applying reads the file again.
 */
export function MappingEditor({
  template,
  analysis,
  busy,
  onApply,
  onDirty,
}: {
  template: TaskTemplate;
  analysis: CsvAnalysis;
  busy: boolean;
  onApply: (options: CsvImportOptions) => void;
  /** Edits not yet applied: the import waits for them to be checked. */
  onDirty: (dirty: boolean) => void;
}) {
  const classes = labelClasses(template);
  const { settings, columns, mapping } = analysis;
  const [delimiter, setDelimiter] = useState(settings.delimiter);
  const [hasHeader, setHasHeader] = useState(settings.hasHeader);
  const [decimal, setDecimal] = useState(settings.decimal);
  const [features, setFeatures] = useState<Record<string, number | null>>(() =>
    Object.fromEntries(template.features.map((f) => [f.name, mapping.features[f.name] ?? null])),
  );
  const [sentinels, setSentinels] = useState<Record<string, string>>(() =>
    Object.fromEntries(template.features.map((f) => [f.name, sentinelText(mapping, mapping.features[f.name] ?? null)])),
  );
  const [rule, setRule] = useState<RuleDraft>(() => draftOf(mapping.label, classes.length));

  const settingsChanged = delimiter !== settings.delimiter || hasHeader !== settings.hasHeader || decimal !== settings.decimal;
  const sentinelErrors = useMemo(
    () =>
      Object.entries(sentinels)
        .filter(([, text]) => list(text).some((x) => !Number.isFinite(Number(x))))
        .map(([name]) => name),
    [sentinels],
  );
  const labelRule = ruleOf(rule);

  const proposed: ColumnMapping | null = useMemo(() => {
    if (!labelRule.rule) return null;
    const bySentinel = new Map<number, number[]>();
    for (const f of template.features) {
      const c = features[f.name];
      const values = list(sentinels[f.name] ?? '').map(Number);
      if (c === null || values.length === 0 || values.some((v) => !Number.isFinite(v))) continue;
      bySentinel.set(c, [...(bySentinel.get(c) ?? []), ...values]);
    }
    // Sentinels of the label column, which the form does not edit, are kept.
    for (const s of mapping.sentinels) if (s.column === labelRule.rule.column) bySentinel.set(s.column, [...(bySentinel.get(s.column) ?? []), ...s.values]);
    // Accepted text codes ("-", "n.d.") are kept as they are; the form edits the numbers.
    return {
      features,
      label: labelRule.rule,
      sentinels: [...bySentinel].map(([column, values]) => ({ column, values: [...new Set(values)] })),
      missingText: mapping.missingText,
    };
  }, [features, labelRule.rule, mapping.missingText, mapping.sentinels, sentinels, template.features]);

  const mappingChanged = proposed !== null && JSON.stringify(proposed) !== JSON.stringify(mapping);
  const dirty = settingsChanged || mappingChanged || (!proposed && mapping.label !== null);
  useEffect(() => onDirty(dirty), [dirty, onDirty]);
  const canApply = !busy && dirty && (settingsChanged || (proposed !== null && sentinelErrors.length === 0));

  const apply = () => {
    // New file settings can move every column: match them by name again.
    if (settingsChanged) onApply({ delimiter, hasHeader, decimal });
    else if (proposed) onApply({ delimiter, hasHeader, decimal, mapping: proposed });
  };

  const columnOptions = columns.map((c) => (
    <option key={c.index} value={c.index}>
      {c.name}
      {c.samples.length ? ` — e.g. ${c.samples.filter(Boolean).slice(0, 3).join(', ')}` : ''}
    </option>
  ));

  return (
    <section className="mapping" aria-label="How the file is read and mapped">
      <div className="mapping-settings">
        <label className="field">
          <span>Delimiter</span>
          <select value={delimiter} onChange={(e) => setDelimiter(e.target.value as typeof delimiter)} data-testid="csv-delimiter">
            {DELIMITERS.map((d) => (
              <option key={d.value} value={d.value}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Decimal mark</span>
          <select value={decimal} onChange={(e) => setDecimal(e.target.value as typeof decimal)}>
            <option value=".">Point (1.5)</option>
            <option value=",">Comma (1,5)</option>
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={hasHeader} onChange={(e) => setHasHeader(e.target.checked)} data-testid="csv-has-header" />
          <span>First row names the columns</span>
        </label>
      </div>

      <ScrollFrame label="Column mapping table">
        <table className="mapping-table">
          <caption className="muted small">
            Columns were matched to the study's features by name; change any that are wrong. A feature without a column is missing for every
            row and imputed from the study's statistics.
          </caption>
          <thead>
            <tr>
              <th scope="col">Study feature</th>
              <th scope="col">Column in the file</th>
              <th scope="col">
                Also missing when <span className="muted">(numbers)</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {template.features.map((f) => {
              const c = features[f.name];
              const bad = sentinelErrors.includes(f.name);
              return (
                <tr key={f.name} data-feature={f.name}>
                  <th scope="row">
                    {f.label}
                    <span className="muted small block">
                      <code>{f.name}</code>
                      {f.kind === 'numeric' ? ` · ${f.min}–${f.max}${f.unit ? ` ${f.unit}` : ''}${f.limits ? ` (kept, flagged: ${f.limits.min}–${f.limits.max})` : ''}` : f.kind === 'binary' ? ' · 0/1' : ` · codes ${f.categories.map((x) => x.code).join(', ')}`}
                    </span>
                  </th>
                  <td>
                    <select
                      aria-label={`Column for ${f.label}`}
                      value={c === null ? '' : String(c)}
                      onChange={(e) => setFeatures({ ...features, [f.name]: e.target.value === '' ? null : Number(e.target.value) })}
                    >
                      <option value="">— not in the file —</option>
                      {columnOptions}
                    </select>
                  </td>
                  <td>
                    <input
                      className={`sentinel${bad ? ' invalid' : ''}`}
                      aria-label={`Numbers meaning missing for ${f.label}`}
                      aria-invalid={bad}
                      placeholder="e.g. -9"
                      disabled={c === null}
                      value={sentinels[f.name] ?? ''}
                      onChange={(e) => setSentinels({ ...sentinels, [f.name]: e.target.value })}
                    />
                    {c !== null && mapping.missingText.some((t) => t.column === c) && (
                      <span className="muted small block">
                        and the words{' '}
                        {mapping.missingText
                          .filter((t) => t.column === c)
                          .flatMap((t) => t.values)
                          .map((v) => `“${v}”`)
                          .join(', ')}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollFrame>

      <fieldset className="label-rule">
        <legend>Label: {template.label.description}</legend>
        <label className="field">
          <span>Column</span>
          <select
            data-testid="label-column"
            value={rule.column === null ? '' : String(rule.column)}
            onChange={(e) => setRule({ ...rule, column: e.target.value === '' ? null : Number(e.target.value) })}
          >
            <option value="">— choose —</option>
            {columnOptions}
          </select>
        </label>
        <label className="field">
          <span>Rule</span>
          <select data-testid="label-rule-kind" value={rule.kind} onChange={(e) => setRule({ ...rule, kind: e.target.value as RuleKind })}>
            {classes.length === 2 ? (
              <>
                <option value="direct">holds 0 / 1</option>
                <option value="compare">positive when the number is…</option>
                <option value="match">positive when the text is…</option>
              </>
            ) : (
              <>
                <option value="direct">holds the class number (0–{classes.length - 1})</option>
                <option value="classes">texts for each class…</option>
              </>
            )}
          </select>
        </label>
        {rule.kind === 'compare' && (
          <div className="rule-compare">
            <label className="field">
              <span>Comparison</span>
              <select value={rule.op} onChange={(e) => setRule({ ...rule, op: e.target.value as CompareOp })}>
                {OPS.map((op) => (
                  <option key={op} value={op}>
                    {op}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Value</span>
              <input inputMode="decimal" value={rule.value} onChange={(e) => setRule({ ...rule, value: e.target.value })} />
            </label>
          </div>
        )}
        {rule.kind === 'match' && (
          <div className="rule-compare">
            <label className="field">
              <span>Positive values</span>
              <input value={rule.positive} placeholder="yes, y" onChange={(e) => setRule({ ...rule, positive: e.target.value })} />
            </label>
            <label className="field">
              <span>
                Negative values <span className="muted">(others are refused)</span>
              </span>
              <input value={rule.negative} placeholder="no, n (blank: anything else)" onChange={(e) => setRule({ ...rule, negative: e.target.value })} />
            </label>
          </div>
        )}
        {rule.kind === 'classes' && (
          <div className="rule-compare">
            {classes.map((name, k) => (
              <label className="field" key={name}>
                <span>
                  {k}: {name}
                </span>
                <input
                  value={rule.classes[k] ?? ''}
                  onChange={(e) => setRule({ ...rule, classes: rule.classes.map((c, i) => (i === k ? e.target.value : c)) })}
                />
              </label>
            ))}
          </div>
        )}
        {analysis.labelRule && !dirty && (
          <p className="muted small rule-text">
            label = <code data-testid="label-rule">{analysis.labelRule}</code>
          </p>
        )}
      </fieldset>

      {(labelRule.error || sentinelErrors.length > 0) && (
        <p className="error-text small" role="alert">
          {labelRule.error ?? `Missing-value numbers must be numbers, separated by commas (${sentinelErrors.join(', ')}).`}
        </p>
      )}
      <div className="actions">
        <button type="button" className="button" disabled={!canApply} onClick={apply} data-testid="apply-mapping">
          Check the file again with these settings
        </button>
        {dirty && <span className="muted small">Changed: check again before importing.</span>}
      </div>
    </section>
  );
}
