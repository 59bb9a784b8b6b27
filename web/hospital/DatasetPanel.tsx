import { shortFingerprint } from '../../shared/data/fingerprint';
import { labelClasses } from '../../shared/data/stats';
import { getTemplate } from '../../shared/tasks';
import { DASH, percent } from '../format';
import { mebibytes } from './memoryBudget';
import type { HospitalState } from './hospitalState';

export function DatasetPanel({ state }: { state: HospitalState }) {
  const d = state.dataset;
  const template = state.study ? getTemplate(state.study.templateId) : undefined;
  const classes = template ? labelClasses(template) : [];
  return (
    <section className="panel" aria-labelledby="dataset-title">
      <h2 id="dataset-title">Local dataset</h2>
      {state.datasetError ? (
        <p role="alert" className="error-text">
          {state.datasetError}
        </p>
      ) : !d ? (
        <p className="loading">{state.study ? 'Preparing local records…' : 'Waiting for the study…'}</p>
      ) : (
        <>
          <dl className="stats">
            <div>
              <dt>Records in this browser</dt>
              <dd data-testid="records-count">{d.records}</dd>
            </div>
            <div>
              <dt>Training split</dt>
              <dd data-testid="train-count">{d.train}</dd>
            </div>
            <div>
              <dt>Validation split</dt>
              <dd data-testid="validation-count">{d.validation}</dd>
            </div>
            {classes.length > 2 ? (
              <div>
                <dt>Records per class</dt>
                <dd className="small" data-testid="class-counts">
                  {classes.map((c, k) => `${c}: ${d.labelCounts[k] ?? 0}`).join(' · ')}
                </dd>
              </div>
            ) : (
              <div>
                <dt>Positive rate</dt>
                <dd data-testid="positive-rate">{d.records ? percent(d.positives / d.records) : DASH}</dd>
              </div>
            )}
            <div>
              <dt>Fingerprint</dt>
              <dd>
                <code className="small" data-testid="dataset-fingerprint-short" data-fingerprint={d.fingerprint ?? ''} title={d.fingerprint ?? undefined}>
                  {d.fingerprint ? shortFingerprint(d.fingerprint) : DASH}
                </code>
              </dd>
            </div>
          </dl>
          <p className="muted small">
            {d.source === 'demo' ? `Synthetic demonstration ${template?.image ? 'scans' : 'records'} (profile ${d.profileId}). ` : ''}
            {d.source === 'csv' || d.source === 'images' ? (
              <>
                Imported from <strong data-testid="dataset-source">{d.name}</strong>.{' '}
              </>
            ) : null}
            {d.source === 'none' ? `No records yet: import ${template?.image ? 'a folder of scans' : 'a CSV file'} below. ` : ''}
            Records are kept in this browser's IndexedDB and never uploaded; only model updates and aggregate metrics
            leave this tab.
          </p>
          {d.streaming ? (
            <p className="muted small" data-testid="dataset-streaming" data-blocks={d.streaming.blocks}>
              Larger than this tab's memory budget: streamed from IndexedDB in {d.streaming.blocks}{' '}
              {d.streaming.blocks === 1 ? 'block' : 'blocks'} (budget {mebibytes(d.streaming.budgetBytes)} MiB).
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
