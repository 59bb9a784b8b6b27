import type { Dashboard } from '../../shared/protocol';
import { countdown } from '../format';
import { budgetStopText, stoppedByBudget } from '../privacyFormat';
import { useNow } from '../useNow';

/** Completed or stopped, with no round left open: nothing will ever fill a "Round in progress" card. */
export function studyIsOver(dashboard: Dashboard): boolean {
  const status = dashboard.study.status;
  return (status === 'completed' || status === 'stopped') && dashboard.openRound === null;
}

/** The one line that replaces the round card once the study is over. */
export function StudyOverNote({ dashboard }: { dashboard: Dashboard }) {
  const { status, completedRounds, currentVersion, privacy } = dashboard.study;
  const rounds = `${completedRounds} ${completedRounds === 1 ? 'round' : 'rounds'}`;
  return (
    <p className="study-finished muted" data-testid="study-finished">
      {status === 'completed'
        ? `Study completed: ${rounds}, last version v${currentVersion}.`
        : stoppedByBudget(status, privacy)
          ? `${budgetStopText(privacy!)} after ${rounds}; last version v${currentVersion}.`
          : `Study stopped after ${rounds}; last version v${currentVersion}.`}
    </p>
  );
}

export function OpenRoundPanel({ dashboard }: { dashboard: Dashboard }) {
  const open = dashboard.openRound;
  const now = useNow(1000, open !== null);
  const status = dashboard.study.status;
  return (
    <section className="panel open-round" aria-labelledby="open-round-title">
      <h2 id="open-round-title">Round in progress</h2>
      {open ? (
        <div data-testid="open-round" data-round={open.round} className="open-round-body">
          <p className="big-number">
            Round <span data-testid="open-round-number">{open.round}</span>
          </p>
          <dl className="stats compact">
            <div>
              <dt>Updates received</dt>
              <dd data-testid="open-round-received">
                {open.received}/{open.sampled}
              </dd>
            </div>
            <div>
              <dt>{open.status === 'open' ? 'Deadline in' : 'Status'}</dt>
              <dd data-testid="open-round-deadline">
                {open.status === 'open' ? countdown(Date.parse(open.deadline) - now) : open.status}
              </dd>
            </div>
          </dl>
          <div
            className="progress"
            role="progressbar"
            aria-label="Updates received"
            aria-valuemin={0}
            aria-valuemax={open.sampled}
            aria-valuenow={open.received}
          >
            <span style={{ width: `${open.sampled ? (open.received / open.sampled) * 100 : 0}%` }} />
          </div>
          <p className="muted small">Training from model v{open.baseVersion}.</p>
        </div>
      ) : (
        <p className="muted">
          {status === 'completed'
            ? 'The study has completed all its rounds.'
            : status === 'stopped'
              ? stoppedByBudget(status, dashboard.study.privacy)
                ? `${budgetStopText(dashboard.study.privacy!)}; no round will open again.`
                : 'The study was stopped; no round will open again.'
              : status === 'paused'
                ? 'The study is paused; no round opens until it is resumed.'
                : status === 'waiting'
                  ? `Waiting for ${dashboard.study.config.minParticipants} participant(s) to join before the next round opens.`
                  : 'The next round opens shortly.'}
        </p>
      )}
    </section>
  );
}
