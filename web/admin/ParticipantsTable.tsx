import type { ParticipantView } from '../../shared/protocol';
import { shortFingerprint } from '../../shared/data/fingerprint';
import { DASH, fixed, integer } from '../format';
import { ScrollFrame } from '../layout/ScrollFrame';

/** Why a hospital that is not delivering is not counted as crashed. */
const STATE_HINT: Partial<Record<ParticipantView['state'], string>> = {
  suspended: 'The browser suspended this tab (hidden or asleep); it said so before going quiet.',
  straggler: 'Owes the open round an update but is away, or missed the last round’s deadline; rounds close without it and it rejoins the next.',
};

export function ParticipantsTable({ participants }: { participants: ParticipantView[] }) {
  const rows = [...participants].sort((a, b) => a.siteName.localeCompare(b.siteName));
  const connected = rows.filter((p) => p.connected).length;
  return (
    <section className="panel" aria-labelledby="participants-title">
      <div className="panel-head">
        <h2 id="participants-title">Participants</h2>
        <span className="muted small">
          {connected} of {rows.length} connected
        </span>
      </div>
      {rows.length === 0 ? (
        <p className="muted">No hospital has joined yet. Send each site its link.</p>
      ) : (
        <ScrollFrame label="Participants table">
          <table>
            <thead>
              <tr>
                <th scope="col">Hospital</th>
                <th scope="col">Connection</th>
                <th scope="col">State</th>
                <th scope="col">Backend</th>
                <th scope="col" className="num">
                  Round
                </th>
                <th scope="col" className="num">
                  Epoch
                </th>
                <th scope="col" className="num">
                  Loss
                </th>
                <th scope="col" className="num">
                  Samples
                </th>
                <th scope="col" className="num">
                  Last update
                </th>
                <th scope="col">Dataset</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.participantId} data-testid="participant-row" data-site={p.siteId}>
                  <th scope="row">{p.siteName}</th>
                  <td>
                    <span className={`badge ${p.connected ? 'ok' : 'muted-badge'}`}>{p.connected ? 'connected' : 'offline'}</span>
                  </td>
                  <td>
                    <span className={`badge pstate-${p.state}`} data-testid="participant-state" title={STATE_HINT[p.state]}>
                      {p.state}
                    </span>
                  </td>
                  <td data-testid="participant-backend">{p.backend ?? DASH}</td>
                  <td className="num">{integer(p.round)}</td>
                  <td className="num">{p.epoch !== null && p.epochs !== null ? `${p.epoch}/${p.epochs}` : DASH}</td>
                  <td className="num">{fixed(p.loss)}</td>
                  <td className="num">{integer(p.numSamples)}</td>
                  <td className="num">{p.lastUpdateRound !== null ? `round ${p.lastUpdateRound}` : DASH}</td>
                  <td data-testid="participant-fingerprint" data-fingerprint={p.datasetFingerprint ?? ''}>
                    {p.datasetFingerprint ? (
                      <code title={`SHA-256 of the site's records: ${p.datasetFingerprint}`}>{shortFingerprint(p.datasetFingerprint)}</code>
                    ) : (
                      DASH
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollFrame>
      )}
    </section>
  );
}
