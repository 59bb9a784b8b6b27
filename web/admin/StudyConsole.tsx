import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { Link, useSearchParams } from 'react-router';
import { listStudies } from '../api/endpoints';
import { AdminHead } from './AdminTabs';
import { NewStudyPage } from './NewStudyPage';
import { StudyDashboard } from './StudyDashboard';

export function StudyConsole({ page = 'console' }: { page?: 'console' | 'new-study' }) {
  const studies = useQuery({ queryKey: ['studies'], queryFn: () => listStudies(), refetchInterval: 15_000 });
  const [search, setSearch] = useSearchParams();
  const pickerId = useId();
  const list = studies.data ?? [];
  const selected = list.find((s) => s.id === search.get('study')) ?? list[0];

  return (
    <div className="admin">
      <AdminHead title={page === 'new-study' ? 'New study' : 'Studies'}>
        {page === 'console' && (
          <>
            <Link to="/admin/templates/new" className="button">
              Define a study
            </Link>
            <Link to="/admin/new-study" className="button primary">
              New study
            </Link>
          </>
        )}
        {page === 'console' && list.length > 1 && (
          <div className="field inline">
            <label htmlFor={pickerId}>Study</label>
            <select id={pickerId} value={selected?.id ?? ''} onChange={(e) => setSearch({ study: e.target.value }, { replace: true })}>
              {list.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
        )}
      </AdminHead>

      {page === 'new-study' ? (
        <NewStudyPage />
      ) : studies.isPending ? (
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
          <Link to="/admin/new-study" className="button primary">
            New study
          </Link>
        </section>
      ) : (
        <StudyDashboard key={selected.id} studyId={selected.id} />
      )}
    </div>
  );
}
