import { Fragment, useState } from 'react';
import type { RoundView, VersionMetrics } from '../../shared/protocol';
import { DASH, fixed, integer, percent } from '../format';
import { epsilon } from '../privacyFormat';
import { RoundDetail } from './RoundDetail';
import { ScrollFrame } from '../layout/ScrollFrame';

const COLUMNS = 9;

export function RoundsTable({ studyId, rounds, metrics }: { studyId: string; rounds: RoundView[]; metrics: VersionMetrics[] }) {
  // Rounds opened to their detail (timeline, bytes, norms, weights): any number at once.
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const toggle = (round: number) =>
    setExpanded((prev) => {
      const next = new Set(prev);
      if (!next.delete(round)) next.add(round);
      return next;
    });
  const byRound = new Map<number, VersionMetrics>();
  for (const m of metrics) if (m.round !== null) byRound.set(m.round, m);
  const rows = [...rounds].sort((a, b) => a.round - b.round);
  // A differentially private study's rounds each spend ε: one more column.
  const spendsEpsilon = rows.some((r) => r.epsilon !== null);
  const columns = COLUMNS + (spendsEpsilon ? 1 : 0);
  return (
    <section className="panel" aria-labelledby="rounds-title">
      <h2 id="rounds-title">Rounds</h2>
      {rows.length === 0 ? (
        <p className="muted">No rounds yet.</p>
      ) : (
        <ScrollFrame label="Rounds table">
          <table>
            <thead>
              <tr>
                <th scope="col">Round</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Updates
                </th>
                <th scope="col" className="num">
                  Version
                </th>
                <th scope="col" className="num">
                  Val. loss
                </th>
                <th scope="col" className="num">
                  Accuracy
                </th>
                <th scope="col" className="num">
                  Reports
                </th>
                <th scope="col" className="num">
                  Samples
                </th>
                <th scope="col">Clipping and weights</th>
                {spendsEpsilon && (
                  <th scope="col" className="num" title="ε the study had spent once the round was released; σ: the noise on each coordinate of its mean">
                    ε spent
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const m = byRound.get(r.round);
                const hasMetrics = m !== undefined && (m.loss !== null || m.accuracy !== null);
                const open = expanded.has(r.round);
                return (
                  <Fragment key={r.round}>
                    <tr data-testid={hasMetrics ? 'metrics-row' : 'round-row'} data-round={r.round}>
                      <th scope="row">
                        <button
                          type="button"
                          className="link-button round-toggle"
                          aria-expanded={open}
                          aria-controls={open ? `round-${r.round}-detail` : undefined}
                          aria-label={`Round ${r.round} details`}
                          title={open ? 'Hide the round’s detail' : 'Timeline, bytes, update norms and weights'}
                          onClick={() => toggle(r.round)}
                        >
                          <span className="chevron" aria-hidden="true">
                            ▶
                          </span>
                          {r.round}
                        </button>
                      </th>
                      <td>
                        <span className={`badge round-${r.status}`}>{r.status}</span>
                      </td>
                      <td className="num">
                        {r.received}/{r.sampled}
                      </td>
                      <td className="num">{r.version !== null ? `v${r.version}` : DASH}</td>
                      <td className="num">{fixed(m?.loss)}</td>
                      <td className="num" data-testid={hasMetrics ? 'metrics-accuracy' : undefined}>
                        {percent(m?.accuracy)}
                      </td>
                      <td className="num">{integer(m?.reports)}</td>
                      <td className="num">{integer(m?.numSamples)}</td>
                      <td className="small" data-testid="round-bounds">
                        {boundsSummary(r)}
                      </td>
                      {spendsEpsilon && (
                        <td className="num" data-testid="round-epsilon" data-value={r.epsilon ?? ''}>
                          {r.epsilon !== null ? `ε ${epsilon(r.epsilon)}` : DASH}
                          {r.noiseStd !== null && <span className="block muted small">σ {Number(r.noiseStd.toPrecision(3))}</span>}
                        </td>
                      )}
                    </tr>
                    {open && (
                      <tr className="detail-row" id={`round-${r.round}-detail`}>
                        <td colSpan={columns}>
                          <RoundDetail studyId={studyId} round={r.round} refreshKey={`${r.status}:${r.received}:${r.version}:${r.closedAt}`} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        </ScrollFrame>
      )}
    </section>
  );
}

/** What the round's bounds did: its clipping bound, the updates scaled down to it (with their norms) and those weighed by fewer samples than declared. */
export function boundsSummary(r: RoundView): string {
  const parts: string[] = [];
  if (r.clipMode === 'none') parts.push('no clipping: one site can move the model as far as it likes');
  else if (r.secure && r.clipNorm !== null) parts.push(`bound ${fixed(r.clipNorm, 3)}, applied by each site: the server cannot check it`);
  else if (r.clipNorm !== null) parts.push(`bound ${fixed(r.clipNorm, 3)}${r.clipMode ? ` (${r.clipMode})` : ''}`);
  if (r.secure?.survivors != null) parts.push(`secure sum of ${r.secure.survivors} of ${r.sampled} sites (threshold ${r.secure.threshold})`);
  if (r.clipped.length) parts.push(`clipped: ${r.clipped.map((c) => `${c.participantId} (norm ${fixed(c.norm, 3)})`).join(', ')}`);
  // Under differential privacy the cap is the study's record cap (a site weighs min(records / cap, 1)), not a round's sample cap.
  const cap =
    r.epsilon !== null ? ` at the record cap${r.sampleCap !== null ? ` (${integer(r.sampleCap)})` : ''}` : r.sampleCap !== null ? ` at ${integer(r.sampleCap)}` : '';
  if (r.capped.length) parts.push(`weight capped${cap}: ${r.capped.map((c) => `${c.participantId} (declared ${integer(c.declared)})`).join(', ')}`);
  return parts.length ? parts.join('; ') : DASH;
}
