import { useParams, useSearchParams } from 'react-router';
import { backendNameSchema } from '../../shared/protocol';
import { ActivityLog } from './ActivityLog';
import { BackendFigures } from './BackendFigures';
import { ColumnSummaryPanel } from './ColumnSummaryPanel';
import { DatasetPanel } from './DatasetPanel';
import { LocalData } from './datasets/LocalData';
import { memoryBudgetFromQuery } from './memoryBudget';
import { ParticipationPanel } from './ParticipationPanel';
import { PrivacyLine, RecordPrivacyLine, SecureAggregationLine } from './PrivacyLine';
import { useHospitalSession } from './useHospitalSession';
import { useTitle } from '../layout/useTitle';

/** One hospital's participation; `credential` is set for a tab signed in by password, else the link's token is in the URL. */
export function HospitalPage({ credential }: { credential?: string } = {}) {
  const { token: linkToken = '' } = useParams();
  const token = credential ?? linkToken;
  const [search] = useSearchParams();
  const forced = backendNameSchema.safeParse(search.get('backend'));
  const memoryBudget = memoryBudgetFromQuery(search.get('memoryBudgetMb'));
  // Test hook: a backend whose gradients the measurement makes wrong, to show it is refused.
  const perturb = backendNameSchema.safeParse(search.get('perturbBackend'));
  const { session, state } = useHospitalSession(token, forced.success ? forced.data : undefined, memoryBudget, perturb.success ? perturb.data : undefined);
  useTitle(state?.site?.name ?? 'Hospital site');

  if (!session || !state || (state.phase === 'loading' && !state.site)) {
    return (
      <section className="panel narrow" aria-busy="true">
        <p className="loading">Checking this hospital link…</p>
      </section>
    );
  }
  if (state.phase === 'failed') {
    return (
      <section className="panel narrow">
        <h1>Cannot open this site</h1>
        <p role="alert" className="error-text">
          {state.error}
        </p>
      </section>
    );
  }

  const { site, study } = state;
  // A tab that stands by shows the training tab's state in its panel: the header says the same.
  const leader = state.tab.role !== 'leader' ? state.tab.leader : null;
  const headStatus = leader?.studyStatus ?? state.studyStatus ?? study?.status;
  const headVersion = Math.max(leader?.currentVersion ?? 0, state.currentVersion ?? study?.currentVersion ?? 0);
  return (
    <div className="hospital">
      <section className="page-head">
        <div>
          <p className="eyebrow">Participating site</p>
          <h1 data-testid="site-name">{site?.name}</h1>
          {study ? (
            <>
              <p className="subtitle">
                <span data-testid="study-name">{study.name}</span>
                <span className={`badge status-${headStatus}`} data-testid="study-status">{headStatus}</span>
                <span className="muted">
                  {study.completedRounds} of {study.config.rounds} rounds · model v{headVersion}
                </span>
              </p>
              <PrivacyLine study={study} status={state.studyStatus} />
              <RecordPrivacyLine study={study} token={token} round={state.round} version={state.currentVersion} />
              <SecureAggregationLine study={study} />
            </>
          ) : (
            <p className="subtitle muted">{state.phase === 'loading' ? 'Loading study…' : 'Not enrolled in a study.'}</p>
          )}
        </div>
        {state.studyIds.length > 1 && (
          <label className="field inline">
            <span>Study</span>
            <select
              aria-label="Study"
              data-testid="study-picker"
              value={study?.id ?? ''}
              disabled={state.joined}
              onChange={(e) => void session.loadStudy(e.target.value)}
            >
              {state.studyIds.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
        )}
      </section>

      <div className="grid two">
        <DatasetPanel state={state} />
        <ParticipationPanel state={state} canJoin={session.canJoin} onJoin={() => session.join()} />
      </div>
      <BackendFigures probe={state.backendProbe} />
      <LocalData session={session} state={state} />
      {/* Collapsed, beside the data import: describing an export for a new study is not part of training. */}
      <ColumnSummaryPanel token={token} />
      <ActivityLog entries={state.activity} />
    </div>
  );
}
