import { clockTime } from '../format';
import type { ActivityEntry } from './hospitalState';

export function ActivityLog({ entries }: { entries: ActivityEntry[] }) {
  return (
    <section className="panel" aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      {entries.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ol className="activity" aria-live="polite" aria-relevant="additions">
          {entries.map((e) => (
            <li key={e.id} className={`tone-${e.tone}`}>
              <time dateTime={new Date(e.at).toISOString()}>{clockTime(e.at)}</time>
              <span>{e.text}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
