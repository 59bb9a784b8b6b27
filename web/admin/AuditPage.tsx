import { useInfiniteQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import type { AuditQuery } from '../../shared/protocol/accounts';
import { getAudit } from '../api/endpoints';
import { DASH } from '../format';
import { AdminHead } from './AdminTabs';
import { ScrollFrame } from '../layout/ScrollFrame';

const ACTION_GROUPS = [
  ['', 'Everything'],
  ['auth', 'Sign-ins and sign-outs'],
  ['enrolment', 'Enrolments'],
  ['invite', 'Invites'],
  ['link', 'Hospital sign-in links'],
  ['site', 'Sites'],
  ['study', 'Study changes'],
  ['round', 'Rounds'],
  ['update', 'Refused updates'],
  ['model', 'Model approvals and exports'],
  ['api_token', 'API tokens'],
] as const;

function detailText(detail: Record<string, unknown> | null): string {
  if (!detail) return '';
  return Object.entries(detail)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' · ');
}

/** Who did what and when, newest first, with filters. Read-only: nothing edits the log. */
export function AuditPage() {
  const [filters, setFilters] = useState<AuditQuery>({});
  const [draft, setDraft] = useState({ action: '', actor: '', studyId: '', siteId: '' });
  const ids = { action: useId(), actor: useId(), study: useId(), site: useId() };
  const log = useInfiniteQuery({
    queryKey: ['audit', filters],
    queryFn: ({ pageParam }) => getAudit({ ...filters, before: pageParam ?? undefined, limit: 50 }),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next,
  });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({ action: draft.action || undefined, actor: draft.actor.trim() || undefined, studyId: draft.studyId.trim() || undefined, siteId: draft.siteId.trim() || undefined });
  };
  const events = log.data?.pages.flatMap((p) => p.events) ?? [];
  return (
    <div className="admin">
      <AdminHead title="Audit log" />
      <section className="panel" aria-labelledby="audit-title">
        <div className="panel-head">
          <h2 id="audit-title">Events</h2>
          <span className="muted small">Append-only: sign-ins, enrolments, study changes, rounds, refused updates, approvals, exports.</span>
        </div>
        <form className="form inline-form" onSubmit={apply} aria-label="Filter the audit log">
          <div className="field">
            <label htmlFor={ids.action}>What</label>
            <select id={ids.action} value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })}>
              {ACTION_GROUPS.map(([v, label]) => (
                <option key={v} value={v}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.actor}>Who</label>
            <input id={ids.actor} value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} placeholder="email contains…" />
          </div>
          <div className="field">
            <label htmlFor={ids.study}>Study</label>
            <input id={ids.study} value={draft.studyId} onChange={(e) => setDraft({ ...draft, studyId: e.target.value })} placeholder="study id" />
          </div>
          <div className="field">
            <label htmlFor={ids.site}>Site</label>
            <input id={ids.site} value={draft.siteId} onChange={(e) => setDraft({ ...draft, siteId: e.target.value })} placeholder="site id" />
          </div>
          <button type="submit" className="button">
            Filter
          </button>
        </form>
        {log.isError && (
          <p role="alert" className="error-text">
            Could not load the audit log: {log.error.message}
          </p>
        )}
        <ScrollFrame label="Audit log table">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">On</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                  <td className="small nowrap">{new Date(e.at).toLocaleString()}</td>
                  <td className="small">
                    {e.actor}
                    {e.address && <span className="muted"> · {e.address}</span>}
                  </td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td className="small">{[e.target, e.studyId && `study ${e.studyId}`, e.siteId && `site ${e.siteId}`].filter(Boolean).join(' · ') || DASH}</td>
                  <td className="small">{detailText(e.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollFrame>
        {!log.isPending && events.length === 0 && <p className="muted">No events match.</p>}
        {log.hasNextPage && (
          <button type="button" className="button" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
            Older events
          </button>
        )}
      </section>
    </div>
  );
}
