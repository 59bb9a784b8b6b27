import type { StudyStatus, StudySummary } from '../../shared/protocol';
import { delta, epsilon, stoppedByBudget } from '../privacyFormat';

/**
 * What a differentially private study has spent of its privacy budget, as the hospital sees it: from
 * the join, then from each round's close. Nothing for a study without privacy.
 */
export function PrivacyLine({ study, status }: { study: StudySummary; status: StudyStatus | null }) {
  const config = study.config.privacy;
  if (!config) return null;
  const p = study.privacy ?? { epsilon: 0, delta: config.delta, budget: config.epsilonBudget, rounds: 0, exhausted: false };
  const stopped = stoppedByBudget(status ?? study.status, p);
  return (
    <p
      className={`privacy-line${stopped ? ' stopped' : ' muted'}`}
      data-testid="privacy-status"
      data-epsilon={p.epsilon}
      data-budget={p.budget}
      data-exhausted={p.exhausted ? 'true' : 'false'}
      role="status"
    >
      {stopped
        ? `Privacy: budget spent (ε ${epsilon(p.epsilon)} of ${epsilon(p.budget)}, δ ${delta(p.delta)}): the study stopped at its privacy budget.`
        : `Privacy: ε ${epsilon(p.epsilon)} of ${epsilon(p.budget)} spent (δ ${delta(p.delta)})${p.exhausted ? ': the budget allows no further round' : ''}.`}
      <span className="small">
        {study.config.secureAggregation
          ? ' Site-level differential privacy: this site’s updates are clipped, and this tab adds its share of the round’s noise before masking them.'
          : ' Site-level differential privacy: this site’s updates are clipped and the server adds noise to every round’s mean.'}
      </span>
    </p>
  );
}

/** A study under secure aggregation, as the hospital sees it: what leaves the tab, and what the server learns. */
export function SecureAggregationLine({ study }: { study: StudySummary }) {
  if (!study.config.secureAggregation) return null;
  const clip = study.config.clipping.mode === 'fixed' ? ` clipped to norm ${study.config.clipping.norm},` : '';
  return (
    <p className="privacy-line muted" data-testid="secure-aggregation-status">
      Secure aggregation: this tab sends its update{clip} masked with keys the other sites hold shares of; the coordinator learns only the sum of the
      round’s sites’ updates, never this site’s.
    </p>
  );
}
