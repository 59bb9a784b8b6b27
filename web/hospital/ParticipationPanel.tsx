import { DASH, fixed, integer, percent } from '../format';
import { OutboxStatus } from './OutboxStatus';
import type { HospitalState } from './hospitalState';

const STATE_TEXT: Record<string, string> = {
  offline: 'Not joined yet',
  idle: 'Waiting for the next round',
  training: 'Training on local records',
  uploading: 'Uploading the model update',
  done: 'Update delivered',
  evaluating: 'Evaluating the new global model',
  suspended: 'The browser suspended this tab',
  straggler: 'Missed the round’s deadline',
};

/** Waiting, once the study is over or paused, is waiting for nothing (or for an admin): say so. */
function stateText(participantState: string, studyStatus: HospitalState['studyStatus']): string {
  const settled = participantState === 'idle' || participantState === 'done' || participantState === 'offline';
  if (settled && studyStatus === 'stopped') return 'The study has stopped: no round will open again';
  if (settled && studyStatus === 'completed') return participantState === 'done' ? 'Update delivered; the study is complete' : 'The study is complete: no round will open again';
  if (participantState === 'idle' && studyStatus === 'paused') return 'The study is paused: rounds resume when the coordinator resumes it';
  return STATE_TEXT[participantState];
}

/** What the button row says under the Join button: true to the study's status, and to this tab's part. */
function actionText(state: HospitalState, roundsDone: number, leads: boolean): string {
  const over = state.studyStatus === 'completed' || state.studyStatus === 'stopped';
  if (over) {
    const ended = state.studyStatus === 'completed' ? 'The study is complete' : 'The study was stopped';
    if (!state.joined && roundsDone === 0) return `${ended}: there is nothing to join. You can close this tab.`;
    const part = roundsDone === 0 ? 'This hospital contributed no update.' : `This hospital contributed ${roundsDone === 1 ? 'one round' : `${roundsDone} rounds`}${state.lastEvaluation ? `; the last model it evaluated (v${state.lastEvaluation.version}) scored ${percent(state.lastEvaluation.accuracy)} on its records` : ''}.`;
    return `${ended}: you can close this tab. ${part}`;
  }
  if (state.joined && !leads) return 'Standing by: only one tab of a hospital trains at a time.';
  if (state.joined && state.studyStatus === 'paused') return 'The study is paused: keep this tab open, training resumes with the study.';
  if (state.joined) return 'Keep this tab open, even hidden: it trains whenever the coordinator opens a round.';
  return 'Joining lets the coordinator include this site in training rounds.';
}

export function ParticipationPanel({
  state,
  canJoin,
  onJoin,
}: {
  state: HospitalState;
  canJoin: boolean;
  onJoin: () => void;
}) {
  const { tab } = state;
  // A tab that stands by shows the training tab's progress, mirrored, as its own would be.
  const mirrored = tab.role !== 'leader' && tab.leader !== null;
  const shown = mirrored && tab.leader ? { ...state, ...tab.leader } : state;
  const trainsHere = tab.role === 'leader' && state.participantState === 'training';
  const epochProgress = shown.epoch !== null && shown.epochs ? Math.min(1, shown.epoch / shown.epochs) : 0;
  const over = shown.studyStatus === 'completed' || shown.studyStatus === 'stopped';
  const busy = shown.participantState === 'training' || shown.participantState === 'uploading' || shown.participantState === 'evaluating';
  return (
    <section className="panel" aria-labelledby="participation-title">
      <div className="panel-head">
        <h2 id="participation-title">Participation</h2>
        {state.joined && tab.role === 'leader' && (
          <span className={`badge ${state.connected ? 'ok' : 'warn'}`} role="status">
            {state.connected ? 'Connected' : 'Reconnecting'}
          </span>
        )}
      </div>

      <p
        className={tab.role === 'follower' || tab.role === 'standby' || mirrored ? 'notice' : 'muted small'}
        data-testid="tab-role"
        data-role={tab.role}
        data-trains={trainsHere ? 'true' : 'false'}
        role="status"
      >
        {tab.role === 'follower' || (tab.role === 'alone' && mirrored)
          ? 'Another tab of this hospital is training; its progress is shown here. This tab takes over if that one closes.'
          : tab.role === 'standby'
            ? 'Another tab of this hospital holds the training; this tab waits to take over.'
            : tab.role === 'leader'
              ? 'This tab trains for this hospital.'
              : ''}
      </p>

      <div className={`state-banner state-${shown.participantState}`} aria-live="polite">
        <span className={`dot${busy ? ' pulse' : ''}`} aria-hidden="true" />
        <span data-testid="participant-state" className="state-word">
          {shown.participantState}
        </span>
        <span className="muted">{stateText(shown.participantState, shown.studyStatus)}</span>
      </div>

      {shown.participantState === 'training' && (
        <div
          className="progress"
          role="progressbar"
          aria-label="Local training progress"
          aria-valuemin={0}
          aria-valuemax={shown.epochs ?? 0}
          aria-valuenow={shown.epoch ?? 0}
        >
          <span style={{ width: `${epochProgress * 100}%` }} />
        </div>
      )}

      <dl className="stats compact">
        <div>
          <dt>Backend</dt>
          <dd>
            <span data-testid="backend">{shown.backend ?? (state.backendError ? 'unavailable' : 'probing…')}</span>
            {state.adapter && <span className="muted small block">{state.adapter}</span>}
          </dd>
        </div>
        <div>
          <dt>Current round</dt>
          <dd data-testid="current-round">{integer(shown.round)}</dd>
        </div>
        <div>
          <dt>Epoch</dt>
          <dd data-testid="epoch">{shown.epoch !== null && shown.epochs !== null ? `${shown.epoch}/${shown.epochs}` : DASH}</dd>
        </div>
        <div>
          <dt>Last loss</dt>
          <dd data-testid="loss">{fixed(shown.loss)}</dd>
        </div>
        <div>
          <dt>Rounds contributed</dt>
          <dd data-testid="rounds-done">{shown.roundsDone}</dd>
        </div>
        <div>
          <dt>
            Local accuracy
            {state.lastEvaluation && <span className="muted"> (v{state.lastEvaluation.version})</span>}
          </dt>
          <dd
            data-testid="last-accuracy"
            data-value={state.lastEvaluation?.accuracy ?? ''}
            data-version={state.lastEvaluation?.version ?? ''}
          >
            {percent(state.lastEvaluation?.accuracy)}
          </dd>
        </div>
      </dl>

      <OutboxStatus outbox={state.outbox} notice={state.outboxNotice} />

      {state.backendError && (
        <p role="alert" className="error-text">
          {state.backendError}
        </p>
      )}

      <div className="actions">
        <button type="button" className={over ? 'button' : 'button primary'} data-testid="join-button" disabled={!canJoin} onClick={onJoin}>
          {state.joined ? 'Joined' : 'Join study'}
        </button>
        <p className={over ? 'notice small' : 'muted small'} data-testid="participation-note">
          {actionText({ ...state, studyStatus: shown.studyStatus }, shown.roundsDone, tab.role === 'leader')}
        </p>
      </div>
    </section>
  );
}
