import { useQuery } from '@tanstack/react-query';
import type { RoundDetail as Detail } from '../../shared/protocol/roundDetail';
import { getRoundDetail } from '../api/endpoints';
import { clockTime, DASH, fixed, integer, percent } from '../format';
import { RoundNormsChart } from './RoundNormsChart';
import { RoundTimeline } from './RoundTimeline';
import { byteSize, closeReasonText, fmt, relativeTime } from './roundDetail';
import './roundDetail.css';
import { ScrollFrame } from '../layout/ScrollFrame';

/**
 * One round as it ran: its timeline, bytes in and out, each update's norm against the bound (clipped
 * and refused ones marked), each site's weight and Krum's choice. Fetched when opened, and again
 * whenever the dashboard says the round moved (`refreshKey`).
 */
export function RoundDetail({ studyId, round, refreshKey }: { studyId: string; round: number; refreshKey: string }) {
  const query = useQuery({ queryKey: ['round', studyId, round, refreshKey], queryFn: () => getRoundDetail(studyId, round), placeholderData: (previous) => previous });
  if (query.isError)
    return (
      <p role="alert" className="error-text">
        Could not load round {round}: {query.error.message}
      </p>
    );
  if (!query.data) return <p className="muted small">Loading round {round}…</p>;
  return <RoundDetailView detail={query.data} />;
}

export function RoundDetailView({ detail: d }: { detail: Detail }) {
  return (
    <div className="round-detail" data-testid="round-detail" data-round={d.round}>
      <RoundFacts detail={d} />
      <RoundTimeline detail={d} />
      <div className="rd-columns">
        <RoundNormsChart detail={d} />
        <RoundSites detail={d} />
      </div>
      {d.refused.length > 0 && <RoundRefusals detail={d} />}
    </div>
  );
}

function RoundFacts({ detail: d }: { detail: Detail }) {
  const b = d.bounds;
  const out = d.bytesOut;
  const traffic = (t: Detail['bytesOut']['base'], what: string) => `${what} v${t.version}: ${byteSize(t.bytes)} in ${t.downloads} download${t.downloads === 1 ? '' : 's'}`;
  return (
    <dl className="rd-facts">
      <div>
        <dt>Aggregation</dt>
        <dd>
          {d.strategy ?? (d.status === 'open' ? 'not yet' : DASH)}
          {Object.keys(d.details).length > 0 && (
            <span className="muted small">
              {' '}
              ({Object.entries(d.details)
                .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : fmt(v)}`)
                .join(', ')})
            </span>
          )}
        </dd>
      </div>
      <div>
        <dt>Closed because</dt>
        <dd>{closeReasonText(d.closeReason) ?? (d.status === 'open' ? 'still open' : DASH)}</dd>
      </div>
      <div>
        <dt>Updates</dt>
        <dd>
          {d.updates.filter((u) => u.lateBy === 0).length} of {d.sampled} sampled, quorum {d.needed}
          {d.updates.some((u) => u.lateBy > 0) && <span className="muted small"> (+{d.updates.filter((u) => u.lateBy > 0).length} late)</span>}
        </dd>
      </div>
      <div>
        <dt>Bounds</dt>
        <dd>
          {b.clipNorm !== null ? `clip ${fmt(b.clipNorm)} (${b.clipMode})` : 'no clipping'}
          {b.maxNorm !== null && `, refuse above ${fmt(b.maxNorm)}`}
          {b.sampleCap !== null && `, weight cap ${integer(b.sampleCap)} samples`}
        </dd>
      </div>
      <div className="rd-wide">
        <dt>Bytes in</dt>
        <dd data-testid="round-bytes-in">
          {byteSize(d.bytesIn.total)}{' '}
          <span className="muted small">
            · {d.bytesIn.acceptedUpdates} accepted: {byteSize(d.bytesIn.accepted)}
            {d.bytesIn.refusedUploads > 0 && ` · ${d.bytesIn.refusedUploads} refused: ${byteSize(d.bytesIn.refused)}`}
          </span>
        </dd>
      </div>
      <div className="rd-wide">
        <dt>Bytes out</dt>
        <dd data-testid="round-bytes-out" title={`Model downloads counted by this server since ${new Date(out.countedSince).toLocaleString()}`}>
          {byteSize(out.base.bytes + (out.result?.bytes ?? 0))}{' '}
          <span className="muted small">
            · {traffic(out.base, 'base')}
            {out.result && ` · ${traffic(out.result, 'result')}`}
          </span>
        </dd>
      </div>
    </dl>
  );
}

function RoundSites({ detail: d }: { detail: Detail }) {
  const krum = d.updates.some((u) => u.score !== null);
  const opened = Date.parse(d.timeline.openedAt);
  return (
    <div className="rd-sites">
      <h4 className="rd-subtitle">Sites’ updates</h4>
      {d.updates.length === 0 ? (
        <p className="muted small">No update accepted yet.</p>
      ) : (
        <ScrollFrame label="Sites’ updates table">
          <table className="rd-table" data-testid="round-sites" aria-label={`Round ${d.round}: each site’s update`}>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col" className="num">
                  Arrived
                </th>
                <th scope="col" className="num">
                  Samples
                </th>
                <th scope="col" className="num">
                  Norm
                </th>
                <th scope="col">Clipping</th>
                <th scope="col">Weight share</th>
                {krum && <th scope="col">Krum</th>}
                <th scope="col" className="num" title="L2 distance to the combined update">
                  Distance
                </th>
              </tr>
            </thead>
            <tbody>
              {d.updates.map((u) => (
                <tr key={`${u.participantId}:${u.lateBy}`} data-testid="round-site" data-clipped={u.clipped} data-selected={u.selected ?? undefined}>
                  <th scope="row">
                    {u.siteName}
                    {u.lateBy > 0 && <span className="badge warn"> late ({u.lateBy})</span>}
                  </th>
                  <td className="num" title={clockTime(Date.parse(u.receivedAt))}>
                    {relativeTime(Date.parse(u.receivedAt) - opened)}
                  </td>
                  <td className="num">
                    {integer(u.numSamples)}
                    {u.capped && <span className="badge warn"> capped</span>}
                  </td>
                  <td className="num">{fmt(u.norm)}</td>
                  <td>{u.clipped ? <span className="badge warn">×{fixed(u.scale, 3)}</span> : <span className="muted">none</span>}</td>
                  <td>
                    {u.weight === null ? (
                      <span className="muted small">{d.status === 'open' ? 'after aggregation' : 'none (coordinate-wise rule)'}</span>
                    ) : (
                      <span className="rd-share">
                        <span className="rd-share-bar" aria-hidden="true">
                          <span style={{ width: `${Math.max(0, Math.min(1, u.weight)) * 100}%` }} />
                        </span>
                        {percent(u.weight)}
                      </span>
                    )}
                  </td>
                  {krum && (
                    <td>
                      {u.selected ? <span className="badge ok">selected</span> : <span className="badge">passed over</span>} <span className="muted small">score {fmt(u.score)}</span>
                    </td>
                  )}
                  <td className="num">{fmt(u.distance)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollFrame>
      )}
    </div>
  );
}

function RoundRefusals({ detail: d }: { detail: Detail }) {
  const opened = Date.parse(d.timeline.openedAt);
  return (
    <div className="rd-refused">
      <h4 className="rd-subtitle">Refused uploads</h4>
      <ScrollFrame label="Refused uploads table">
        <table className="rd-table" data-testid="round-refused">
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col" className="num">
                At
              </th>
              <th scope="col">Code</th>
              <th scope="col">Reason</th>
              <th scope="col" className="num">
                Bytes
              </th>
            </tr>
          </thead>
          <tbody>
            {d.refused.map((r, i) => (
              <tr key={i}>
                <th scope="row">{r.siteName}</th>
                <td className="num" title={clockTime(Date.parse(r.at))}>
                  {relativeTime(Date.parse(r.at) - opened)}
                </td>
                <td>
                  <code>{r.code}</code>
                </td>
                <td className="small">{r.reason}</td>
                <td className="num">{byteSize(r.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollFrame>
    </div>
  );
}
