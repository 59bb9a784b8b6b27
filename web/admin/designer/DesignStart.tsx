import { useMutation, useQuery } from '@tanstack/react-query';
import { useId, useState, type ChangeEvent } from 'react';
import { designFromColumns } from '../../../shared/data/columns';
import { parseDataDictionary, type DictionaryProblem } from '../../../shared/tasks/dictionary';
import { getTemplateDesign, listColumnSummaries, listTemplates } from '../../api/endpoints';
import { emptyForm, formFromDesign, type DesignForm } from './designForm';

/** What the designer starts from: a form, where it came from, and for a new version, the family it continues. */
export interface DesignStartChoice {
  form: DesignForm;
  source: string;
  nextVersionOf?: string;
}

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The four starting points: a data dictionary, a site's column statistics, an empty form, or a custom template's next version. */
export function DesignStart({ onStart }: { onStart: (choice: DesignStartChoice) => void }) {
  const ids = { file: useId(), summary: useId(), template: useId() };
  const summaries = useQuery({ queryKey: ['column-summaries'], queryFn: listColumnSummaries });
  const templates = useQuery({ queryKey: ['templates'], queryFn: listTemplates, staleTime: Infinity });
  const custom = (templates.data ?? []).filter((t) => t.custom && t.latest);
  const [summaryId, setSummaryId] = useState('');
  const [templateId, setTemplateId] = useState('');
  const [dictionary, setDictionary] = useState<{ file: string; rows: number; features: number; label: string | null; problems: DictionaryProblem[] } | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);

  const nextVersion = useMutation({
    mutationFn: (id: string) => getTemplateDesign(id),
    onSuccess: (design, id) => {
      setDictionary(null);
      setNote(null);
      onStart({ form: formFromDesign(design), source: `the design of ${id}`, nextVersionOf: design.family });
    },
  });

  const readDictionary = async (e: ChangeEvent<HTMLInputElement>) => {
    const input = e.target;
    const file = input.files?.[0];
    if (!file) return;
    // Cleared, so that choosing the same file again (after fixing it) reads it again; the result below names it.
    input.value = '';
    setFileError(null);
    setNote(null);
    let text: string;
    try {
      text = await file.text();
    } catch (err) {
      setFileError(`Could not read ${file.name}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const result = parseDataDictionary(text);
    setDictionary({ file: file.name, rows: result.rows, features: result.features.length, label: result.label?.name ?? null, problems: result.problems });
    onStart({ form: formFromDesign({ features: result.features, ...(result.label ? { label: result.label } : {}) }), source: file.name });
  };

  const chosenSummary = summaries.data?.find((s) => s.id === summaryId) ?? summaries.data?.[0];
  const useSummary = () => {
    if (!chosenSummary) return;
    const { features, label, skipped } = designFromColumns(chosenSummary.summary);
    setDictionary(null);
    setNote(
      `${features.length} features from ${chosenSummary.siteName}’s ${chosenSummary.summary.source}${label ? `, label ${label.name}` : ', no label column recognised: fill in the label below'}.` +
        (skipped.length ? ` Left out (no range, or too few shared codes): ${skipped.join(', ')}.` : ''),
    );
    onStart({ form: formFromDesign({ features, ...(label ? { label } : {}) }), source: `${chosenSummary.siteName}: ${chosenSummary.summary.source}` });
  };

  const chosenTemplate = custom.find((t) => t.id === templateId) ?? custom[0];

  return (
    <section className="panel designer-start" aria-labelledby={`${ids.file}-title`}>
      <h2 id={`${ids.file}-title`}>Start from</h2>
      <div className="designer-sources">
        <div className="designer-source">
          <div className="field">
            <label htmlFor={ids.file}>Data dictionary (CSV)</label>
            <input id={ids.file} type="file" accept=".csv,.tsv,.txt,text/csv,text/plain" onChange={(e) => void readDictionary(e)} />
            <span className="hint">Columns name, type, unit, range, limits, codes, description; one row per column, type “label” for the outcome.</span>
          </div>
        </div>

        <div className="designer-source">
          <div className="field">
            <label htmlFor={ids.summary}>A site’s column statistics</label>
            {summaries.isError ? (
              <p role="alert" className="error-text small">
                Could not load them: {summaries.error.message}
              </p>
            ) : summaries.data?.length === 0 ? (
              <p className="muted small">No site has sent its columns yet (a hospital sends them from its import page).</p>
            ) : (
              <select id={ids.summary} value={chosenSummary?.id ?? ''} onChange={(e) => setSummaryId(e.target.value)} disabled={!summaries.data}>
                {summaries.data?.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.siteName} · {s.summary.source} · {s.summary.rows.toLocaleString()} rows · {when(s.createdAt)}
                  </option>
                ))}
              </select>
            )}
          </div>
          {!!summaries.data?.length && (
            <button type="button" className="button" onClick={useSummary}>
              Use these columns
            </button>
          )}
        </div>

        <div className="designer-source">
          <div className="field">
            <label htmlFor={ids.template}>A custom study’s next version</label>
            {templates.isError ? (
              <p role="alert" className="error-text small">
                Could not load the templates: {templates.error.message}
              </p>
            ) : custom.length === 0 ? (
              <p className="muted small">{templates.isPending ? 'Loading…' : 'No custom study is defined yet.'}</p>
            ) : (
              <select id={ids.template} value={chosenTemplate?.id ?? ''} onChange={(e) => setTemplateId(e.target.value)}>
                {custom.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name} (version {t.version})
                  </option>
                ))}
              </select>
            )}
          </div>
          {custom.length > 0 && (
            <button type="button" className="button" disabled={nextVersion.isPending || !chosenTemplate} onClick={() => chosenTemplate && nextVersion.mutate(chosenTemplate.id)}>
              {nextVersion.isPending ? 'Loading…' : 'Start its next version'}
            </button>
          )}
          {nextVersion.isError && (
            <p role="alert" className="error-text small">
              Could not load its design: {nextVersion.error.message}
            </p>
          )}
        </div>

        <div className="designer-source">
          <span className="field-title">Nothing to start from</span>
          <button
            type="button"
            className="button"
            onClick={() => {
              setDictionary(null);
              setNote(null);
              onStart({ form: emptyForm(), source: 'an empty form' });
            }}
          >
            Start empty
          </button>
        </div>
      </div>

      {fileError && (
        <p role="alert" className="error-text">
          {fileError}
        </p>
      )}
      {dictionary && (
        <div className="dictionary-result" aria-live="polite" data-testid="dictionary-result">
          <p className="small">
            {dictionary.file}: {dictionary.rows} rows read, {dictionary.features} features
            {dictionary.label ? `, label ${dictionary.label}` : ', no label row (type “label”): fill in the label below'}.
            {dictionary.problems.length > 0 && ` ${dictionary.problems.length} ${dictionary.problems.length === 1 ? 'row was' : 'rows were'} left out:`}
          </p>
          {dictionary.problems.length > 0 && (
            <ul className="problems error-text small" role="alert" aria-label="Data dictionary problems">
              {dictionary.problems.map((p) => (
                <li key={`${p.line}:${p.message}`}>
                  line {p.line}: {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {note && (
        <p className="notice small" aria-live="polite">
          {note}
        </p>
      )}
    </section>
  );
}
