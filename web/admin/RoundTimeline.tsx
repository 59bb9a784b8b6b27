import type { RoundDetail } from '../../shared/protocol/roundDetail';
import { clockTime } from '../format';
import { relativeTime, timelineSteps } from './roundDetail';

/**
 * The round's moments on one line: a track with each moment where it fell between the opening and
 * the last one, and under it the moments in order with their time after the opening.
 */
export function RoundTimeline({ detail }: { detail: RoundDetail }) {
  const steps = timelineSteps(detail.timeline, detail);
  const deadline = Date.parse(detail.timeline.deadline) - Date.parse(detail.timeline.openedAt);
  return (
    <figure className="round-timeline" data-testid="round-timeline" aria-labelledby={`round-${detail.round}-timeline-title`}>
      <figcaption id={`round-${detail.round}-timeline-title`} className="rd-subtitle">
        Timeline <span className="muted small">(times after the round opened; deadline {relativeTime(deadline)})</span>
      </figcaption>
      <div className="rt-track" aria-hidden="true">
        {steps.map((s) => (
          <span key={s.keys.join()} className={`rt-dot rt-${s.keys.at(-1)}`} style={{ left: `${s.position * 100}%` }} />
        ))}
      </div>
      <ol className="rt-steps" style={{ gridTemplateColumns: `repeat(${steps.length}, minmax(0, 1fr))` }}>
        {steps.map((s, i) => (
          <li key={s.keys.join()} data-step={s.keys.join(' ')}>
            <span className={`rt-dot rt-${s.keys.at(-1)}`} aria-hidden="true" />
            <span className="rt-label">{s.label}</span>
            <time dateTime={new Date(s.at).toISOString()} title={clockTime(s.at)}>
              {relativeTime(s.offset)}
            </time>
            {i > 0 && <span className="rt-gap muted small">{relativeTime(s.at - steps[i - 1].at).slice(1)} later</span>}
          </li>
        ))}
      </ol>
    </figure>
  );
}
