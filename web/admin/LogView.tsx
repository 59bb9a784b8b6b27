import { useId, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { logViewLevels, type LogViewLevel } from '../../shared/protocol/logView';
import { atBottom, keyFields, lineTime, MAX_SHOWN_LINES } from './logView';
import { useLiveLog } from './useLiveLog';
import './logView.css';

export interface LogViewSite {
  id: string;
  name: string;
}

/**
 * The server's log, live: a study's lines on its dashboard, or the whole server's (`studyId` null)
 * for platform admins. Newest at the bottom; the view follows new lines unless the reader scrolled up.
 */
export function LogView({ studyId, sites, title = 'Server log' }: { studyId: string | null; sites: readonly LogViewSite[]; title?: string }) {
  const [minLevel, setMinLevel] = useState<LogViewLevel>('info');
  const [siteId, setSiteId] = useState('');
  const { lines, live, error, keptMs } = useLiveLog({ studyId, minLevel, siteId });
  const ids = { title: useId(), level: useId(), site: useId() };
  const box = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);
  const siteNames = useMemo(() => new Map(sites.map((s) => [s.id, s.name])), [sites]);
  const sortedSites = useMemo(() => [...sites].sort((a, b) => a.name.localeCompare(b.name)), [sites]);

  useLayoutEffect(() => {
    if (following && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, following]);

  const status = error ? `Live log unavailable: ${error}` : !live ? 'Connecting…' : `Live · the last ${Math.round((keptMs ?? 3_600_000) / 60_000)} minutes kept · at most ${MAX_SHOWN_LINES} lines shown`;
  return (
    <section className="panel log-view" aria-labelledby={ids.title}>
      <div className="panel-head">
        <h2 id={ids.title}>{title}</h2>
        <span className={`small ${error ? 'error-text' : 'muted'}`} data-testid="log-status">
          {status}
        </span>
      </div>
      <div className="log-filters">
        <div className="field inline">
          <label htmlFor={ids.level}>Level</label>
          <select id={ids.level} value={minLevel} onChange={(e) => setMinLevel(e.target.value as LogViewLevel)}>
            {logViewLevels.map((l) => (
              <option key={l} value={l}>
                {l === 'debug' ? 'debug and above' : l === 'error' ? 'errors only' : `${l} and above`}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor={ids.site}>Site</label>
          <select id={ids.site} value={siteId} onChange={(e) => setSiteId(e.target.value)}>
            <option value="">All sites</option>
            {sortedSites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        {!following && (
          <button type="button" className="button small ghost" onClick={() => setFollowing(true)}>
            Jump to the newest line
          </button>
        )}
      </div>
      <div
        className="log-lines"
        ref={box}
        role="log"
        aria-live="polite"
        aria-labelledby={ids.title}
        // Scrollable content must be reachable from the keyboard.
        tabIndex={0}
        onScroll={(e) => setFollowing(atBottom(e.currentTarget))}
      >
        {lines.length === 0 ? (
          <p className="muted log-empty">{live ? 'No lines match yet. New ones appear here as the server logs them.' : 'Waiting for the server…'}</p>
        ) : (
          lines.map((l) => (
            <div key={l.seq} className={`log-line level-${l.level}`} data-testid="log-line" data-level={l.level}>
              <time dateTime={new Date(l.time).toISOString()}>{lineTime(l.time)}</time>
              <span className="log-level">{l.level}</span>
              <span className="log-msg">{l.msg}</span>
              <span className="log-fields">{keyFields(l, siteNames)}</span>
            </div>
          ))
        )}
      </div>
    </section>
  );
}
