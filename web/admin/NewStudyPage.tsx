import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import type { StudyConfigPatchInput, TemplateView } from '../../shared/protocol';
import { createStudy, listSites, listTemplates } from '../api/endpoints';
import { ConfigFields } from './ConfigFields';
import { PrivacyFields } from './PrivacyFields';
import { RecordPrivacyFields } from './RecordPrivacyFields';
import { SecureAggregationFields } from './SecureAggregationFields';
import { applyFormChange, formFromConfig, formProblems, localWorkOf, patchFromForm, type ConfigForm } from './studyConfigForm';

/** A study id from its name: lower-case letters, digits and dashes. */
/** "Heart disease risk (version 2)"; the first version of a template that has no other is just its name. */
function templateLabel(t: TemplateView): string {
  if (t.alternative) return `${t.name} (version ${t.version}: ${t.alternative})`;
  if (t.version === 1 && t.latest) return t.name;
  return `${t.name} (version ${t.version}${t.latest ? '' : ', earlier'})`;
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

/** Create a study from a template: name, id, settings over the template's defaults, sites to enrol. */
export function NewStudyPage() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const templates = useQuery({ queryKey: ['templates'], queryFn: listTemplates, staleTime: Infinity });
  const sites = useQuery({ queryKey: ['sites'], queryFn: listSites });
  const ids = { template: useId(), name: useId(), id: useId(), error: useId() };

  // `?template=<id>`: the designer's "Create a study from it" preselects the template just saved.
  const [search] = useSearchParams();
  const wanted = search.get('template') ?? '';
  const [templateId, setTemplateId] = useState(wanted);
  const [name, setName] = useState('');
  const [id, setId] = useState('');
  const [idEdited, setIdEdited] = useState(false);
  const [form, setForm] = useState<ConfigForm | null>(null);
  const [siteIds, setSiteIds] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState<string[]>([]);
  const work = useMemo(() => (form ? localWorkOf(form) : null), [form?.batchSize, form?.localEpochs, form?.localSteps, form?.localWork]);

  const found = templates.data?.find((t) => t.id === templateId);
  // A template asked for by the URL may be missing from a list still being refetched: wait for it rather than take the first.
  const template: TemplateView | undefined = found ?? (templateId === wanted && wanted && templates.isFetching ? undefined : templates.data?.[0]);
  // A template brings its own defaults: choosing another one resets the settings.
  useEffect(() => {
    if (template) {
      setTemplateId(template.id);
      setForm(formFromConfig(template.defaultConfig));
    }
  }, [template?.id]);

  const create = useMutation({
    mutationFn: (config: StudyConfigPatchInput) => createStudy({ id, name: name.trim(), templateId: template!.id, config, siteIds: [...siteIds].sort() }),
    onSuccess: (study) => {
      void queryClient.invalidateQueries({ queryKey: ['studies'] });
      void queryClient.invalidateQueries({ queryKey: ['sites'] });
      void navigate(`/admin?study=${encodeURIComponent(study.id)}`);
    },
  });

  const problems = (f: ConfigForm | null, p: StudyConfigPatchInput) =>
    template && f
      ? [
          ...(name.trim() === '' ? ['name: name the study'] : []),
          ...(/^[a-z0-9][a-z0-9-]{0,62}$/.test(id) ? [] : ['id: lower-case letters, digits and dashes, starting with a letter or digit']),
          ...formProblems(f, template.defaultConfig, p),
        ]
      : [];
  // Once problems are on screen, they follow the edits, read from the form as it is: the settled
  // copy may lag a submit by its debounce and would take a problem just found off the screen.
  const showing = shown.length > 0;
  useEffect(() => {
    if (showing && template && form) setShown(problems(form, patchFromForm(form, template.defaultConfig)));
  }, [showing, name, id, form]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!template || !form || create.isPending) return;
    const now = patchFromForm(form, template.defaultConfig);
    const found = problems(form, now);
    setShown(found);
    if (found.length === 0) create.mutate(now);
  };

  if (templates.isPending || !form || !template) {
    return (
      <section className="panel" aria-busy="true">
        {templates.isError ? (
          <p role="alert" className="error-text">
            Could not load the templates: {templates.error.message}
          </p>
        ) : (
          <p className="loading">Loading templates…</p>
        )}
      </section>
    );
  }

  const toggleSite = (siteId: string, on: boolean) =>
    setSiteIds((prev) => {
      const next = new Set(prev);
      if (on) next.add(siteId);
      else next.delete(siteId);
      return next;
    });

  return (
    <form className="panel new-study" onSubmit={submit} noValidate aria-label="New study" aria-describedby={shown.length || create.isError ? ids.error : undefined}>
      <p className="muted small">
        Every setting starts at the template’s default. Rounds, deadlines and training settings can be changed later; a change applies from the next
        round.
      </p>

      <fieldset className="config-group">
        <legend>Study</legend>
        <div className="form-grid">
          <div className="field">
            <label htmlFor={ids.template}>Template</label>
            <select id={ids.template} name="templateId" value={template.id} onChange={(e) => setTemplateId(e.target.value)}>
              {templates.data!.map((t) => (
                <option key={t.id} value={t.id}>
                  {templateLabel(t)}
                </option>
              ))}
            </select>
            <span className="hint">
              {template.taskKind === 'binary' ? 'Binary' : 'Multi-class'} classification, {template.input} data,{' '}
              {template.parameters.toLocaleString()} parameters.
              {template.latest ? (template.changes ? ` Version ${template.version}: ${template.changes}` : '') : ' An earlier version, kept for the studies made with it.'}
            </span>
            <span className="hint">
              No template fits? <Link to="/admin/templates/new">Define a study</Link>
            </span>
          </div>
          <div className="field">
            <label htmlFor={ids.name}>Name</label>
            <input
              id={ids.name}
              name="name"
              required
              maxLength={200}
              value={name}
              placeholder="e.g. Heart risk, spring cohort"
              onChange={(e) => {
                setName(e.target.value);
                if (!idEdited) setId(slug(e.target.value));
              }}
            />
          </div>
          <div className="field">
            <label htmlFor={ids.id}>Study id</label>
            <input
              id={ids.id}
              name="id"
              required
              maxLength={63}
              pattern="[a-z0-9][a-z0-9\-]*"
              value={id}
              onChange={(e) => {
                setId(e.target.value);
                setIdEdited(true);
              }}
            />
            <span className="hint">In URLs and the API; cannot change later.</span>
          </div>
        </div>
        <p className="muted small template-description">{template.description}</p>
      </fieldset>

      <ConfigFields form={form} onChange={(p) => setForm((f) => (f ? applyFormChange(f, p) : f))} />
      <PrivacyFields
        privacy={form.privacy}
        rounds={form.rounds}
        sites={siteIds.size}
        parameters={template.parameters}
        distributed={form.secureAggregation}
        onChange={(privacy) => setForm((f) => (f ? applyFormChange(f, { privacy }) : f))}
      />
      <SecureAggregationFields enabled={form.secureAggregation} onChange={(secureAggregation) => setForm((f) => (f ? applyFormChange(f, { secureAggregation }) : f))} />
      <RecordPrivacyFields
        recordPrivacy={form.recordPrivacy}
        work={work!}
        onChange={(recordPrivacy) => setForm((f) => (f ? applyFormChange(f, { recordPrivacy }) : f))}
      />

      <fieldset className="config-group">
        <legend>Sites to enrol</legend>
        {sites.isError ? (
          <p role="alert" className="error-text">
            Could not load the sites: {sites.error.message}
          </p>
        ) : sites.data?.length === 0 ? (
          <p className="muted">No site exists yet.</p>
        ) : (
          <ul className="checkbox-list" aria-label="Sites">
            {sites.data?.map((s) => (
              <li key={s.id}>
                <label>
                  <input type="checkbox" name="siteIds" value={s.id} checked={siteIds.has(s.id)} onChange={(e) => toggleSite(s.id, e.target.checked)} />
                  <span>
                    <span className="block">{s.name}</span>
                    <span className="block muted small">
                      {s.id}
                      {s.studyIds.length ? ` · in ${s.studyIds.join(', ')}` : ''}
                    </span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        )}
        <p className="muted small">Sites can also be enrolled later.</p>
      </fieldset>

      {(shown.length > 0 || create.isError) && (
        <div id={ids.error} role="alert" className="error-text">
          {shown.length > 0 ? (
            <ul className="problems">
              {shown.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : (
            create.error?.message
          )}
        </div>
      )}
      <div className="actions">
        <button type="submit" className="button primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create study'}
        </button>
        <Link to="/admin" className="button">
          Cancel
        </Link>
      </div>
    </form>
  );
}
