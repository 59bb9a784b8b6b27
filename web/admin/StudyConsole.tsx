import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { useSearchParams } from 'react-router';
import { listStudies } from '../api/endpoints';
import { StudyDashboard } from './StudyDashboard';

export function StudyConsole({ email, onSignOut, signingOut }: { email: string; onSignOut: () => void; signingOut: boolean }) {
  const studies = useQuery({ queryKey: ['studies'], queryFn: () => listStudies(), refetchInterval: 15_000 });
  const [search, setSearch] = useSearchParams();
  const pickerId = useId();
  const list = studies.data ?? [];
  const selected = list.find((s) => s.id === search.get('study')) ?? list[0];

  return (
    <div className="admin">
      <section className="page-head">
        <div>
          <p className="eyebrow">Admin console</p>
          <h1>Studies</h1>
        </div>
        <div className="head-actions">
          {list.length > 1 && (
            <div className="field inline">
              <label htmlFor={pickerId}>Study</label>
              <select
                id={pickerId}
                value={selected?.id ?? ''}
                onChange={(e) => setSearch({ study: e.target.value }, { replace: true })}
              >
                {list.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </div>
          )}
          <span className="muted small" title="Signed in">
            {email}
          </span>
          <button type="button" className="button" onClick={onSignOut} disabled={signingOut}>
            Sign out
          </button>
        </div>
      </section>

      {studies.isPending ? (
        <section className="panel" aria-busy="true">
          <p className="loading">Loading studies…</p>
        </section>
      ) : studies.isError ? (
        <section className="panel">
          <p role="alert" className="error-text">
            Could not load studies: {studies.error.message}
          </p>
        </section>
      ) : !selected ? (
        <section className="panel">
          <h2>No studies yet</h2>
          <p className="muted">Create a study from a template; it will appear here with its live dashboard.</p>
        </section>
      ) : (
        <StudyDashboard key={selected.id} studyId={selected.id} />
      )}
    </div>
  );
}
