import { useCallback, useEffect, useState } from 'react';
import { shortFingerprint } from '../../../shared/data/fingerprint';
import { getTemplate } from '../../../shared/tasks';
import type { DatasetSummary } from '../../training/datasetProtocol';
import type { HospitalState } from '../hospitalState';
import type { HospitalSession } from '../session';
import { bytes, requestPersistence, storageStatus, type StorageStatus } from './storage';
import '../import/import.css';
import { ScrollFrame } from '../../layout/ScrollFrame';

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const when = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });

/** The datasets this browser holds for the site and the study's template, and the browser's storage. */
export function useDatasets(session: HospitalSession, state: HospitalState) {
  const [datasets, setDatasets] = useState<DatasetSummary[] | null>(null);
  const [storage, setStorage] = useState<StorageStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const siteId = state.site?.id;
  const templateId = state.study?.templateId;
  const activeKey = `${state.dataset?.datasetId}|${state.dataset?.records}`;

  const refresh = useCallback(async () => {
    if (!siteId || !templateId) return;
    try {
      const [list, status] = await Promise.all([session.worker.listDatasets(siteId, templateId, session.split), storageStatus()]);
      setDatasets(list);
      setStorage(status);
      setError(null);
    } catch (e) {
      setError(describe(e));
    }
  }, [session, siteId, templateId]);

  // The active dataset changed (demo generated, import, switch): list again.
  useEffect(() => void refresh(), [refresh, activeKey]);
  return { datasets, storage, error, refresh, setError };
}

function DatasetRow({
  d,
  locked,
  onActivate,
  onDelete,
}: {
  d: DatasetSummary;
  locked: boolean;
  onActivate: () => Promise<void>;
  onDelete: () => Promise<void>;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const run = (job: () => Promise<void>) => async () => {
    setBusy(true);
    try {
      await job();
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  const missing = d.missing.reduce((s, m) => s + m.count, 0);
  return (
    <tr data-testid="dataset-row" data-dataset={d.id} data-active={d.active}>
      <th scope="row" className="wrap">
        <span className="dataset-name">{d.name}</span>
        <span className="muted small block">
          {d.source === 'demo' ? 'generated demo data' : d.source === 'images' ? 'image import' : 'CSV import'} · {when(d.createdAt)}
          {d.active && (
            <span className="badge ok inline-badge" data-testid="dataset-active">
              in use
            </span>
          )}
        </span>
      </th>
      <td className="num" data-testid="dataset-records">
        {d.records.toLocaleString('en')}
        {missing > 0 && (
          <span className="muted small block" title={d.missing.map((m) => `${m.label}: ${m.count}`).join('\n')}>
            {missing.toLocaleString('en')} missing values
          </span>
        )}
      </td>
      <td className="num" data-testid="dataset-split">
        {d.train.toLocaleString('en')} / {d.validation.toLocaleString('en')}
      </td>
      <td className="num">{bytes(d.bytes)}</td>
      <td>
        <code className="fingerprint" title={d.fingerprint} data-testid="dataset-fingerprint">
          {shortFingerprint(d.fingerprint)}
        </code>
      </td>
      <td className="row-actions">
        {confirming ? (
          <span className="confirm" role="group" aria-label={`Delete ${d.name}?`}>
            <span className="small">Delete {d.records.toLocaleString('en')} records?</span>
            <button type="button" className="button danger small-button" disabled={busy} onClick={run(onDelete)} data-testid="dataset-delete-confirm">
              Delete
            </button>
            <button type="button" className="button small-button" disabled={busy} onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        ) : (
          <>
            {!d.active && (
              <button type="button" className="button small-button" disabled={locked || busy} onClick={run(onActivate)} data-testid="dataset-activate">
                Use for training
              </button>
            )}
            <button
              type="button"
              className="button small-button"
              disabled={locked || busy}
              onClick={() => setConfirming(true)}
              aria-label={`Delete ${d.name}`}
              data-testid="dataset-delete"
            >
              Delete
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

export function DatasetsPanel({ session, state, list }: { session: HospitalSession; state: HospitalState; list: ReturnType<typeof useDatasets> }) {
  const { datasets, storage, error, refresh, setError } = list;
  const siteId = state.site?.id;
  const templateId = state.study?.templateId;
  const locked = state.joined;
  if (!siteId || !templateId) return null;

  const activate = (d: DatasetSummary) => async () => {
    try {
      const info = await session.worker.activateDataset(siteId, templateId, d.id, session.split);
      session.datasetChanged(info, `Training now uses “${d.name}” (${d.records} records).`);
    } catch (e) {
      setError(describe(e));
    }
    await refresh();
  };
  const remove = (d: DatasetSummary) => async () => {
    try {
      const info = await session.worker.deleteDataset(siteId, templateId, d.id, session.split);
      session.datasetChanged(info, `Deleted “${d.name}” from this browser.`);
    } catch (e) {
      setError(describe(e));
    }
    await refresh();
  };
  const persist = async () => {
    await requestPersistence();
    await refresh();
  };

  const usedShare = storage?.usage != null && storage.quota ? storage.usage / storage.quota : null;
  return (
    <section className="panel" aria-labelledby="datasets-title">
      <div className="panel-head">
        <h2 id="datasets-title">Datasets in this browser</h2>
        <span className="muted small">{state.study?.name}</span>
      </div>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {datasets === null ? (
        <p className="loading">Reading the datasets…</p>
      ) : datasets.length === 0 ? (
        <p className="muted" data-testid="datasets-empty">
          No dataset yet: import {state.study?.templateId && getTemplate(state.study.templateId)?.image ? 'scans' : 'a CSV file'} above.
        </p>
      ) : (
        <ScrollFrame label="Datasets table">
          <table className="datasets-table" data-testid="datasets-table">
            <thead>
              <tr>
                <th scope="col">Dataset</th>
                <th scope="col" className="num">
                  Records
                </th>
                <th scope="col" className="num">
                  Train / validation
                </th>
                <th scope="col" className="num">
                  Stored
                </th>
                <th scope="col">Fingerprint</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => (
                <DatasetRow key={d.id} d={d} locked={locked} onActivate={activate(d)} onDelete={remove(d)} />
              ))}
            </tbody>
          </table>
        </ScrollFrame>
      )}
      <div className="storage-line small" data-testid="storage-status">
        <span>
          Storage:{' '}
          {storage?.usage != null ? (
            <>
              <strong>{bytes(storage.usage)}</strong> used of {bytes(storage.quota)}
              {usedShare !== null ? ` (${(usedShare * 100).toFixed(usedShare < 0.01 ? 2 : 1)} %)` : ''}
            </>
          ) : (
            'unknown'
          )}
        </span>
        {usedShare !== null && (
          <span className="meter" aria-hidden="true">
            <span style={{ width: `${Math.min(100, Math.max(1, usedShare * 100))}%` }} />
          </span>
        )}
        <span data-testid="storage-persisted">
          {storage?.persisted === true ? (
            <span className="badge ok">persistent</span>
          ) : (
            <>
              <span className="badge warn">{storage?.persisted === false ? 'may be evicted' : 'persistence unknown'}</span>{' '}
              {storage?.persisted === false && (
                <button type="button" className="link-button" onClick={() => void persist()}>
                  Ask to keep it
                </button>
              )}
            </>
          )}
        </span>
      </div>
      <p className="muted small">
        {locked
          ? 'Datasets cannot change while this tab takes part in the study.'
          : 'Training uses the dataset marked “in use”. Records never leave this browser; the fingerprint (SHA-256 of the records) is reported so the coordinator can tell when a site re-imported its data.'}
      </p>
    </section>
  );
}
