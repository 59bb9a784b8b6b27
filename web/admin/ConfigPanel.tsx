import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { ConfigChangeView, Dashboard, StudyConfig, StudySummary } from '../../shared/protocol';
import { changeStudyConfig, listConfigChanges } from '../api/endpoints';
import { ConfigFields } from './ConfigFields';
import { PrivacySettings } from './PrivacySettings';
import { SecureAggregationSettings } from './SecureAggregationSettings';
import { applyFormChange, configProblems, formFromConfig, patchFromForm, STRATEGY_OPTION_FIELDS, type ConfigForm } from './studyConfigForm';

const FIXED: ReadonlySet<keyof ConfigForm> = new Set(['seed', 'validationFraction'] as const);

/** One setting's value as an admin reads it in the history. */
function show(value: unknown): string {
  if (value === null) return 'none';
  // A setting absent before the change (local steps, say: epochs were counted) was not set.
  if (value === undefined) return 'not set';
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('policy' in v) return v.policy === 'drop' ? 'drop' : `accept-late (≤${v.maxStaleness}, ×${v.weight})`;
    if ('name' in v) return String(v.name);
    return JSON.stringify(value);
  }
  return String(value);
}

/**
 * The study's configuration: edited as a whole form, sent as the settings that changed. A change
 * applies from the next round; the history says who made each one and from which round.
 */
export function ConfigPanel({ study, openRound }: { study: StudySummary; openRound: number | null }) {
  const queryClient = useQueryClient();
  // Refetched whenever the configuration itself moves (another admin, another tab).
  const configKey = JSON.stringify(study.config);
  const history = useQuery({ queryKey: ['config-changes', study.id, configKey], queryFn: () => listConfigChanges(study.id) });
  const [form, setForm] = useState<ConfigForm | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const save = useMutation({
    mutationFn: (patch: ReturnType<typeof patchFromForm>) => changeStudyConfig(study.id, patch),
    onSuccess: (result) => {
      setForm(null);
      queryClient.setQueryData<Dashboard>(['dashboard', study.id], (d) => (d ? { ...d, study: result.study } : d));
      void queryClient.invalidateQueries({ queryKey: ['config-changes', study.id] });
    },
  });
  const editable = study.status !== 'stopped' && study.status !== 'completed';
  const patch = form ? patchFromForm(form, study.config) : {};
  const unchanged = Object.keys(patch).length === 0;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = configProblems(study.config, patch);
    setProblems(found);
    if (found.length === 0 && !unchanged) save.mutate(patch);
  };

  return (
    <section className="panel" aria-labelledby="config-title">
      <div className="panel-head">
        <h2 id="config-title">Configuration</h2>
        {editable && !form && (
          <button
            type="button"
            className="button"
            onClick={() => {
              setForm(formFromConfig(study.config));
              setProblems([]);
              save.reset();
            }}
          >
            Edit configuration
          </button>
        )}
      </div>
      {form ? (
        <form onSubmit={submit} noValidate aria-label="Edit configuration" className="config-form">
          <p className="muted small">
            Changes apply from the next round{openRound !== null ? `; round ${openRound}, open now, keeps its settings` : ''}.
          </p>
          <ConfigFields form={form} onChange={(p) => setForm((f) => (f ? applyFormChange(f, p) : f))} fixed={FIXED} />
          <PrivacySettings config={study.config} status={study.privacy} />
          {(problems.length > 0 || save.isError) && (
            <div role="alert" className="error-text">
              {problems.length > 0 ? (
                <ul className="problems">
                  {problems.map((p) => (
                    <li key={p}>{p}</li>
                  ))}
                </ul>
              ) : (
                save.error?.message
              )}
            </div>
          )}
          <div className="actions">
            <button type="submit" className="button primary" disabled={save.isPending || unchanged}>
              {save.isPending ? 'Saving…' : unchanged ? 'No changes' : `Save ${Object.keys(patch).length} change${Object.keys(patch).length === 1 ? '' : 's'}`}
            </button>
            <button type="button" className="button" onClick={() => setForm(null)} disabled={save.isPending}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          <ConfigSummary config={study.config} />
          <PrivacySettings config={study.config} status={study.privacy} />
          <SecureAggregationSettings config={study.config} />
        </>
      )}
      <ConfigHistory changes={history.data ?? []} error={history.isError ? history.error.message : null} />
    </section>
  );
}

/** The strategy and its own settings as the form labels them. */
function strategySummary(config: StudyConfig): string {
  const options = config.strategy.options as Record<string, unknown>;
  const set = (STRATEGY_OPTION_FIELDS[config.strategy.name] ?? []).filter((f) => options[f.key] !== undefined).map((f) => `${f.label.toLowerCase()} ${options[f.key]}`);
  return config.strategy.name + (set.length ? ` (${set.join(', ')})` : '');
}

/** The clipping rule in words; none is said as the risk it is. */
export function clippingSummary(config: StudyConfig): string {
  const c = config.clipping;
  if (c.mode === 'adaptive') return `adaptive, to the ${c.targetQuantile === 0.5 ? 'median' : `${Math.round(c.targetQuantile * 100)}th percentile`} update norm`;
  if (c.mode === 'fixed') return `fixed, L2 norm ${c.norm}`;
  if (c.mode === 'median') return `${c.factor} × the last round’s median norm`;
  return 'none: one site can move the model as far as it likes';
}

function ConfigSummary({ config }: { config: StudyConfig }) {
  const p = config.privacy;
  // Under differential privacy, sampling, clipping and weights are the mechanism's (./PrivacySettings).
  const items: [string, string][] = [
    ['Participants per round', p ? `each online site with probability q = ${p.sampleRate}, ≥ ${config.minParticipants} online` : `${Math.round(config.participantFraction * 100)} % of online, ≥ ${config.minParticipants}`],
    ...(p ? [] : ([['Min. updates', String(config.minUpdates)]] as [string, string][])),
    ['Strategy', strategySummary(config)],
    ['Update clipping', p ? `fixed, L2 norm ${p.clipNorm} (the privacy clip)` : clippingSummary(config)],
    [
      'Weight cap',
      p
        ? `min(records / ${p.recordCap}, 1)`
        : config.weightCapFactor === null
          ? 'none: a site weighs what it declares'
          : `${config.weightCapFactor} × the median reported records`,
    ],
    ['Optimiser', config.optimizer + (config.fedProxMu > 0 ? `, FedProx μ ${config.fedProxMu}` : '')],
    ['Late updates', show(config.straggler)],
    ['Evaluate every', config.evaluateEvery === 1 ? 'round' : `${config.evaluateEvery} rounds`],
    ['Seed', String(config.seed)],
  ];
  return (
    <dl className="config" data-testid="config-summary">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function ConfigHistory({ changes, error }: { changes: ConfigChangeView[]; error: string | null }) {
  if (error)
    return (
      <p role="alert" className="error-text">
        Could not load the configuration history: {error}
      </p>
    );
  if (changes.length === 0) return <p className="muted small config-history-empty">No change since the study was created.</p>;
  return (
    <details className="config-history" open>
      <summary>Configuration history ({changes.length})</summary>
      <ol data-testid="config-history">
        {changes.map((c) => (
          <li key={c.id}>
            <span className="muted small">
              {new Date(c.changedAt).toLocaleString()} · {c.changedBy} · from round {c.effectiveFromRound}
            </span>
            <span>
              {c.changed.map((k, i) => (
                <span key={k}>
                  {i > 0 && ', '}
                  <code>{k}</code> {show(c.before[k as keyof StudyConfig])} → <strong>{show(c.after[k as keyof StudyConfig])}</strong>
                </span>
              ))}
            </span>
          </li>
        ))}
      </ol>
    </details>
  );
}
