import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { createTemplate, templateJsonUrl } from '../../api/endpoints';
import { AdminHead } from '../AdminTabs';
import { DesignStart, type DesignStartChoice } from './DesignStart';
import { addFeature, checkForm, describePath, emptyForm, invalidKeys, removeFeature, updateFeature, updateLabel, type DesignForm } from './designForm';
import { FeaturesTable } from './FeaturesTable';
import { LabelFields } from './LabelFields';
import { ModelFields } from './ModelFields';
import { ScrollFrame } from '../../layout/ScrollFrame';

/**
 * The study designer (issue 20): a platform admin defines a tabular study without code. The form is
 * checked on every change with the schema and template builder the server runs, so Save is offered
 * only for a design the server will take (409s aside: a built-in id, or a version that changes features).
 */
export function StudyDesignerPage() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const ids = { family: useId(), name: useId(), description: useId(), changes: useId(), issues: useId() };
  const [form, setForm] = useState<DesignForm>(emptyForm);
  const [source, setSource] = useState('an empty form');
  const [nextVersionOf, setNextVersionOf] = useState<string | null>(null);
  const [changes, setChanges] = useState('');

  const check = useMemo(() => checkForm(form), [form]);
  const invalid = useMemo(() => invalidKeys(check.issues), [check.issues]);
  const valid = check.issues.length === 0;

  const save = useMutation({
    mutationFn: () => createTemplate({ design: check.design, ...(nextVersionOf && changes.trim() ? { changes: changes.trim() } : {}) }),
    // Awaited: the New study page, one click away, must find the new template in the list.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['templates'] }),
  });
  const saved = save.data?.template;

  const start = (choice: DesignStartChoice) => {
    setForm(choice.form);
    setSource(choice.source);
    setNextVersionOf(choice.nextVersionOf ?? null);
    setChanges('');
    save.reset();
  };
  const edit = (next: (f: DesignForm) => DesignForm) => setForm(next);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (valid && !save.isPending) save.mutate();
  };

  return (
    <div className="admin">
      <AdminHead title="Define a study">
        <Link to="/admin/new-study" className="button">
          New study
        </Link>
      </AdminHead>

      <DesignStart onStart={start} />

      <form className="designer" onSubmit={submit} noValidate aria-label="Study definition" aria-describedby={ids.issues}>
        <div className="panel">
          <p className="muted small">
            Started from {source}
            {nextVersionOf ? `: a new version of ${nextVersionOf} keeps its features and label (sites’ imported data serves every version).` : '.'}
          </p>
          <fieldset className="config-group">
            <legend>Study</legend>
            <div className="form-grid">
              <div className="field">
                <label htmlFor={ids.family}>Study id</label>
                <input
                  id={ids.family}
                  value={form.family}
                  readOnly={!!nextVersionOf}
                  aria-invalid={invalid.has('family') || undefined}
                  spellCheck={false}
                  placeholder="sepsis-risk"
                  onChange={(e) => edit((f) => ({ ...f, family: e.target.value }))}
                />
                <span className="hint">{nextVersionOf ? 'A new version keeps its study id.' : 'Lower-case words joined by dashes; cannot change later.'}</span>
              </div>
              <div className="field">
                <label htmlFor={ids.name}>Study name</label>
                <input id={ids.name} value={form.name} aria-invalid={invalid.has('name') || undefined} placeholder="Sepsis within 48 h" onChange={(e) => edit((f) => ({ ...f, name: e.target.value }))} />
              </div>
              {nextVersionOf && (
                <div className="field">
                  <label htmlFor={ids.changes}>What this version changes</label>
                  <input id={ids.changes} value={changes} maxLength={500} placeholder="a wider hidden layer" onChange={(e) => setChanges(e.target.value)} />
                </div>
              )}
            </div>
            <div className="field designer-description">
              <label htmlFor={ids.description}>Description</label>
              <textarea
                id={ids.description}
                rows={2}
                value={form.description}
                aria-invalid={invalid.has('description') || undefined}
                placeholder="Empty: written from the label and the features"
                onChange={(e) => edit((f) => ({ ...f, description: e.target.value }))}
              />
            </div>
          </fieldset>

          <FeaturesTable
            features={form.features}
            invalid={invalid}
            onChange={(key, patch) => edit((f) => updateFeature(f, key, patch))}
            onAdd={() => edit(addFeature)}
            onRemove={(key) => edit((f) => removeFeature(f, key))}
          />
          <LabelFields label={form.label} invalid={invalid} onChange={(patch) => edit((f) => updateLabel(f, patch))} />
          <ModelFields form={form} invalid={invalid} onChange={(patch) => edit((f) => ({ ...f, ...patch }))} />
        </div>

        <aside className="designer-side panel" aria-label="Check and save">
          <dl className="designer-figures">
            <div>
              <dt>Model size</dt>
              <dd data-testid="parameter-count">{check.parameters === null ? '—' : `${check.parameters.toLocaleString()} parameters`}</dd>
            </div>
            <div>
              <dt>Encoded inputs</dt>
              <dd data-testid="input-width">{check.inputWidth === null ? '—' : check.inputWidth.toLocaleString()}</dd>
            </div>
            <div>
              <dt>Features</dt>
              <dd>{form.features.length}</dd>
            </div>
          </dl>

          <div id={ids.issues} className="designer-issues" aria-live="polite" data-testid="design-issues">
            {valid ? (
              <p className="ok-line small">The design is complete: it can be saved.</p>
            ) : (
              <>
                <p className="small">
                  {check.issues.length} {check.issues.length === 1 ? 'thing' : 'things'} to fix before saving:
                </p>
                <ScrollFrame label="Things to fix" className="problems error-text small">
                  <ul>
                    {check.issues.map((issue, k) => (
                      <li key={k}>
                        <strong>{describePath(issue.path, form)}</strong>: {issue.message}
                      </li>
                    ))}
                  </ul>
                </ScrollFrame>
              </>
            )}
          </div>

          <div className="designer-save">
            <button type="submit" className="button primary" disabled={!valid || save.isPending}>
              {save.isPending ? 'Saving…' : 'Save study definition'}
            </button>
            {save.isError && (
              <p role="alert" className="error-text small">
                Not saved: {save.error.message}
              </p>
            )}
            {saved && (
              <div role="status" className="notice designer-saved" data-testid="design-saved">
                <p>
                  Saved as <strong>{saved.id}</strong>.
                </p>
                <div className="actions">
                  <button type="button" className="button primary" onClick={() => void navigate(`/admin/new-study?template=${encodeURIComponent(saved.id)}`)}>
                    Create a study from it
                  </button>
                  <a className="button" href={templateJsonUrl(saved.id)} download={`${saved.id.replace('@', '-v')}.template.json`}>
                    Download JSON
                  </a>
                </div>
              </div>
            )}
          </div>
        </aside>
      </form>
    </div>
  );
}
