import { useQuery } from '@tanstack/react-query';
import { ensureTemplate } from '../api/templates';
import type { Dashboard } from '../../shared/protocol';
import { ConfigPanel } from './ConfigPanel';
import { ConvergenceChart } from './ConvergenceChart';
import { DataQualityPanel } from './DataQualityPanel';
import { dataQualityRefreshKey } from './dataQualityView';
import { latestAndBest } from './convergence';
import { LogView } from './LogView';
import { ModelWarnings } from './ModelWarnings';
import { ModelGraphPanel } from './ModelGraph';
import { OpenRoundPanel, StudyOverNote, studyIsOver } from './OpenRoundPanel';
import { ParticipantsTable } from './ParticipantsTable';
import { PrivacyChart } from './PrivacyChart';
import { RecordPrivacyPanel } from './RecordPrivacyPanel';
import { ModelVersionsPanel } from './ModelVersionsPanel';
import { RefusedUpdatesTable } from './RefusedUpdatesTable';
import { RoundsTable } from './RoundsTable';
import { MetricsExport } from './MetricsExport';
import { useStudyControls } from './StudyControls';
import { useLiveDashboard } from './useLiveDashboard';
import { percent } from '../format';
import { budgetStopText, stoppedByBudget } from '../privacyFormat';

export function StudyDashboard({ studyId }: { studyId: string }) {
  const { data, isPending, isError, error, live, watchError } = useLiveDashboard(studyId);
  // A console-defined template is fetched once and registered: the panels below read it like a built-in one.
  const templateId = data?.study.templateId;
  useQuery({ queryKey: ['template', templateId], queryFn: () => ensureTemplate(templateId!), enabled: Boolean(templateId), staleTime: Infinity });

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
  const over = studyIsOver(data);
  const privacy = !!data.study.config.privacy;
  return (
    <div className="dashboard">
      <ModelWarnings dashboard={data} />
      <StudyHeader dashboard={data} live={live} watchError={watchError} />
      {/* A finished study has no round to show: its chart takes the row (beside its privacy, if any), and one line says how it ended. */}
      <div className={`grid chart-row${over && !privacy ? ' solo' : ''}`}>
        <section className="panel" aria-labelledby="convergence-title">
          <div className="panel-head">
            <h2 id="convergence-title">Convergence</h2>
            <span className="muted small">Pooled over the sites’ validation splits; dashed: each site</span>
          </div>
          {over && <StudyOverNote dashboard={data} />}
          <ConvergenceChart dashboard={data} />
        </section>
        {(!over || privacy) && (
          <div className="chart-side">
            {!over && <OpenRoundPanel dashboard={data} />}
            {privacy && <PrivacyChart dashboard={data} />}
          </div>
        )}
      </div>
      <ConfigPanel study={data.study} openRound={data.openRound?.status === 'open' ? data.openRound.round : null} />
      <ParticipantsTable participants={data.participants} />
      <RecordPrivacyPanel dashboard={data} />
      <DataQualityPanel studyId={data.study.id} enrolled={data.participants.length} refreshKey={dataQualityRefreshKey(data.participants)} />
      <MetricsExport studyId={data.study.id} />
      <RoundsTable studyId={data.study.id} rounds={data.rounds} metrics={data.metrics} />
      <ModelVersionsPanel
        studyId={data.study.id}
        currentVersion={data.study.currentVersion}
        templateId={data.study.templateId}
        canContinue={data.study.status !== 'stopped'}
        // Versions are listed again when a version is made and when another site's evaluation arrives.
        refreshKey={`${data.study.currentVersion}:${data.metrics.reduce((n, m) => n + m.reports, 0)}`}
      />
      <ModelGraphPanel templateId={data.study.templateId} />
      <RefusedUpdatesTable refused={data.refused} />
      <LogView key={data.study.id} studyId={data.study.id} sites={data.participants.map((p) => ({ id: p.siteId, name: p.siteName }))} />
    </div>
  );
}

function StudyHeader({ dashboard, live, watchError }: { dashboard: Dashboard; live: boolean; watchError: string | null }) {
  const { study, metrics } = dashboard;
  const controls = useStudyControls(dashboard);
  const total = study.config.rounds;
  // The latest evaluated version is not always the best: say which each is.
  const accuracy = latestAndBest(metrics);
  const budgetStop = stoppedByBudget(study.status, study.privacy) ? budgetStopText(study.privacy!) : null;
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
          <span className={`badge status-${study.status}`} data-testid="study-status" title={budgetStop ?? undefined}>
            {study.status}
          </span>
          <span className={`badge ${live ? 'ok' : 'warn'}`} title={watchError ?? undefined}>
            {live ? 'Live' : watchError ? 'Live updates unavailable' : 'Connecting…'}
          </span>
        </div>
      </div>
      {controls.panel}
      {budgetStop && (
        <p className="notice warn budget-stop" role="status" data-testid="privacy-budget-stop">
          <strong>{budgetStop}</strong>: one more round would have passed the study’s ε budget, so no round opens again.
        </p>
      )}
      <div className="round-progress">
        <div className="round-progress-label">
          <span>
            <strong data-testid="rounds-completed">{study.completedRounds}</strong> of <span data-testid="rounds-total">{total}</span> rounds
            completed
          </span>
          {accuracy && (
            <span className="muted" data-testid="latest-accuracy">
              Accuracy: latest v{accuracy.latest.version} {percent(accuracy.latest.value)}
              {accuracy.best.version === accuracy.latest.version ? ' (best so far)' : ` · best v${accuracy.best.version} ${percent(accuracy.best.value)}`}
            </span>
          )}
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
        {study.config.localSteps !== undefined ? (
          <div>
            <dt>Local steps</dt>
            <dd data-testid="local-work">{study.config.localSteps} optimiser steps per round</dd>
          </div>
        ) : (
          <div>
            <dt>Local epochs</dt>
            <dd data-testid="local-work">{study.config.localEpochs}</dd>
          </div>
        )}
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
