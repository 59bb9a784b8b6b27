import { useQuery } from '@tanstack/react-query';
import type { Dashboard } from '../../shared/protocol';
import { getRecordPrivacy } from '../api/endpoints';
import { delta, epsilon } from '../privacyFormat';
import { ScrollFrame } from '../layout/ScrollFrame';

/**
 * Record-level DP-SGD, per site: the ε each site has spent of its own budget over every step it ran,
 * and which sites have stopped training for the study. Read again whenever a round opens or closes.
 */
export function RecordPrivacyPanel({ dashboard }: { dashboard: Dashboard }) {
  const { study } = dashboard;
  const config = study.config.recordPrivacy;
  const roundsSeen = dashboard.rounds.map((r) => `${r.round}:${r.status}`).join(',');
  const query = useQuery({
    queryKey: ['record-privacy', study.id, roundsSeen],
    queryFn: () => getRecordPrivacy(study.id),
    enabled: !!config,
    placeholderData: (previous) => previous,
  });
  if (!config) return null;
  const data = query.data;
  return (
    <section className="panel" aria-labelledby="record-privacy-title" data-testid="record-privacy-panel">
      <div className="panel-head">
        <h2 id="record-privacy-title">Record-level privacy by site</h2>
        <span className="muted small">
          DP-SGD: noise z {config.noiseMultiplier}, per-record clip {config.clipNorm}, budget ε {epsilon(config.epsilonBudget)} per site (δ {delta(config.delta)})
        </span>
      </div>
      {query.isError ? (
        <p role="alert" className="error-text">
          Could not load each site’s privacy: {query.error.message}
        </p>
      ) : !data ? (
        <p className="loading">Loading…</p>
      ) : (
        <ScrollFrame label="Record-level privacy by site table">
          <table>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">ε spent</th>
                <th scope="col">Local steps</th>
                <th scope="col">Rounds</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {data.sites.map((s) => (
                <tr key={s.participantId} data-testid="record-privacy-site" data-site={s.siteName} data-epsilon={s.epsilon} data-exhausted={s.exhausted ? 'true' : 'false'}>
                  <th scope="row">{s.siteName}</th>
                  <td>
                    ε {epsilon(s.epsilon)} of {epsilon(data.budget)}
                  </td>
                  <td>{s.steps.toLocaleString('en')}</td>
                  <td>{s.rounds}</td>
                  <td>{s.exhausted ? (
                      <span className="badge warn">{s.steps ? 'budget reached: trains no more' : 'budget allows no step at its size'}</span>
                    ) : s.rounds ? <span className="badge ok">within budget</span> : <span className="muted">not trained yet</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollFrame>
      )}
    </section>
  );
}
