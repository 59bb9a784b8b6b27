import { DASH, fixed, integer, percent } from '../format';
import { OutboxStatus } from './OutboxStatus';
import type { HospitalState } from './session';

const STATE_TEXT: Record<string, string> = {
  offline: 'Not joined yet',
  idle: 'Waiting for the next round',
  training: 'Training on local records',
  uploading: 'Uploading the model update',
  done: 'Update delivered',
  evaluating: 'Evaluating the new global model',
};

export function ParticipationPanel({
  state,
  canJoin,
  onJoin,
}: {
  state: HospitalState;
  canJoin: boolean;
  onJoin: () => void;
}) {
  const epochProgress = state.epoch !== null && state.epochs ? Math.min(1, state.epoch / state.epochs) : 0;
  const busy = state.participantState === 'training' || state.participantState === 'uploading' || state.participantState === 'evaluating';
  return (
    <section className="panel" aria-labelledby="participation-title">
      <div className="panel-head">
        <h2 id="participation-title">Participation</h2>
        {state.joined && (
          <span className={`badge ${state.connected ? 'ok' : 'warn'}`} role="status">
            {state.connected ? 'Connected' : 'Reconnecting'}
          </span>
        )}
      </div>

      <div className={`state-banner state-${state.participantState}`} aria-live="polite">
        <span className={`dot${busy ? ' pulse' : ''}`} aria-hidden="true" />
        <span data-testid="participant-state" className="state-word">
          {state.participantState}
        </span>
        <span className="muted">{STATE_TEXT[state.participantState]}</span>
      </div>

      {state.participantState === 'training' && (
        <div
          className="progress"
          role="progressbar"
          aria-label="Local training progress"
          aria-valuemin={0}
          aria-valuemax={state.epochs ?? 0}
          aria-valuenow={state.epoch ?? 0}
        >
          <span style={{ width: `${epochProgress * 100}%` }} />
        </div>
      )}

      <dl className="stats compact">
        <div>
          <dt>Backend</dt>
          <dd>
            <span data-testid="backend">{state.backend ?? (state.backendError ? 'unavailable' : 'probing…')}</span>
            {state.adapter && <span className="muted small block">{state.adapter}</span>}
          </dd>
        </div>
        <div>
          <dt>Current round</dt>
          <dd data-testid="current-round">{integer(state.round)}</dd>
        </div>
        <div>
          <dt>Epoch</dt>
          <dd data-testid="epoch">{state.epoch !== null && state.epochs !== null ? `${state.epoch}/${state.epochs}` : DASH}</dd>
        </div>
        <div>
          <dt>Last loss</dt>
          <dd data-testid="loss">{fixed(state.loss)}</dd>
        </div>
        <div>
          <dt>Rounds contributed</dt>
          <dd data-testid="rounds-done">{state.roundsDone}</dd>
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
        <button type="button" className="button primary" data-testid="join-button" disabled={!canJoin} onClick={onJoin}>
          {state.joined ? 'Joined' : 'Join study'}
        </button>
        <p className="muted small">
          {state.joined
            ? 'Keep this tab open: it trains whenever the coordinator opens a round.'
            : 'Joining lets the coordinator include this site in training rounds.'}
        </p>
      </div>
    </section>
  );
}
