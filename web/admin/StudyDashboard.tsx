import type { Dashboard } from '../../shared/protocol';
import { ConfigPanel } from './ConfigPanel';
import { ConvergenceChart } from './ConvergenceChart';
import { OpenRoundPanel } from './OpenRoundPanel';
import { ParticipantsTable } from './ParticipantsTable';
import { ModelVersionsPanel } from './ModelVersionsPanel';
import { RefusedUpdatesTable } from './RefusedUpdatesTable';
import { RoundsTable } from './RoundsTable';
import { useStudyControls } from './StudyControls';
import { useLiveDashboard } from './useLiveDashboard';
import { percent } from '../format';

export function StudyDashboard({ studyId }: { studyId: string }) {
  const { data, isPending, isError, error, live, watchError } = useLiveDashboard(studyId);

  if (isPending) {
    return (
      <section className="panel" aria-busy="true">
        <p className="loading">Loading the dashboard…</p>
      </section>
    );
  }
  if (isError || !data) {
    return (
      <section className="panel">
        <p role="alert" className="error-text">
          Could not load the dashboard: {error?.message}
        </p>
      </section>
    );
  }
  return (
    <div className="dashboard">
      <StudyHeader dashboard={data} live={live} watchError={watchError} />
      <div className="grid chart-row">
        <section className="panel" aria-labelledby="convergence-title">
          <div className="panel-head">
            <h2 id="convergence-title">Convergence</h2>
            <span className="muted small">Sample-weighted validation metrics across sites</span>
          </div>
          <ConvergenceChart metrics={data.metrics} />
        </section>
        <OpenRoundPanel dashboard={data} />
      </div>
      <ConfigPanel study={data.study} openRound={data.openRound?.status === 'open' ? data.openRound.round : null} />
      <ParticipantsTable participants={data.participants} />
      <RoundsTable rounds={data.rounds} metrics={data.metrics} />
      <ModelVersionsPanel
        studyId={data.study.id}
        currentVersion={data.study.currentVersion}
        // Versions are listed again when a version is made and when another site's evaluation arrives.
        refreshKey={`${data.study.currentVersion}:${data.metrics.reduce((n, m) => n + m.reports, 0)}`}
      />
      <RefusedUpdatesTable refused={data.refused} />
    </div>
  );
}

function StudyHeader({ dashboard, live, watchError }: { dashboard: Dashboard; live: boolean; watchError: string | null }) {
  const { study, metrics } = dashboard;
  const controls = useStudyControls(dashboard);
  const total = study.config.rounds;
  const latest = [...metrics].filter((m) => m.round !== null && m.accuracy !== null).sort((a, b) => b.version - a.version)[0];
  return (
    <section className="panel study-head" aria-labelledby="study-title">
      <div className="study-title-row">
        <div>
          <h2 id="study-title" data-testid="study-name">
            {study.name}
          </h2>
          <p className="muted small">
            {study.id} · template {study.templateId} · model v{study.currentVersion}
          </p>
        </div>
        <div className="study-badges">
          {controls.buttons}
          <span className={`badge status-${study.status}`} data-testid="study-status">
            {study.status}
          </span>
          <span className={`badge ${live ? 'ok' : 'warn'}`} title={watchError ?? undefined}>
            {live ? 'Live' : watchError ? 'Live updates unavailable' : 'Connecting…'}
          </span>
        </div>
      </div>
      {controls.panel}
      <div className="round-progress">
        <div className="round-progress-label">
          <span>
            <strong data-testid="rounds-completed">{study.completedRounds}</strong> of <span data-testid="rounds-total">{total}</span> rounds
            completed
          </span>
          {latest && <span className="muted">Latest accuracy {percent(latest.accuracy)}</span>}
        </div>
        <div
          className="progress"
          role="progressbar"
          aria-label="Rounds completed"
          aria-valuemin={0}
          aria-valuemax={total}
          aria-valuenow={study.completedRounds}
        >
          <span style={{ width: `${Math.min(100, (study.completedRounds / Math.max(1, total)) * 100)}%` }} />
        </div>
      </div>
      <dl className="config">
        <div>
          <dt>Min. participants</dt>
          <dd>{study.config.minParticipants}</dd>
        </div>
        <div>
          <dt>Local epochs</dt>
          <dd>{study.config.localEpochs}</dd>
        </div>
        <div>
          <dt>Batch size</dt>
          <dd>{study.config.batchSize}</dd>
        </div>
        <div>
          <dt>Learning rate</dt>
          <dd>{study.config.learningRate}</dd>
        </div>
        <div>
          <dt>Round deadline</dt>
          <dd>{Math.round(study.config.roundDeadlineMs / 1000)} s</dd>
        </div>
        <div>
          <dt>Validation share</dt>
          <dd>{percent(study.config.validationFraction, 0)}</dd>
        </div>
        <div>
          <dt>Feature statistics</dt>
          <dd data-testid="normalisation">
            {study.normalisation
              ? `${study.normalisation.sites} sites, ${study.normalisation.rows} records`
              : 'waiting for the sites'}
          </dd>
        </div>
      </dl>
    </section>
  );
}
