import { useQuery } from '@tanstack/react-query';
import type { StudyStatus, StudySummary } from '../../shared/protocol';
import { getRecordPrivacy } from '../api/endpoints';
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

/**
 * Record-level DP-SGD, as the hospital sees it: the ε this site has spent of its own budget over
 * every step it ran, read again as rounds come and go; once no further step fits, that the site
 * trains no more for this study and the tab may be closed.
 */
export function RecordPrivacyLine({ study, token, round, version }: { study: StudySummary; token: string; round: number | null; version: number | null }) {
  const config = study.config.recordPrivacy;
  const query = useQuery({
    queryKey: ['record-privacy', study.id, token, round, version],
    queryFn: () => getRecordPrivacy(study.id, token),
    enabled: !!config,
    placeholderData: (previous) => previous,
  });
  if (!config) return null;
  const own = query.data?.sites[0];
  const spent = own?.epsilon ?? 0;
  const exhausted = own?.exhausted ?? false;
  return (
    <p
      className={`privacy-line${exhausted ? ' stopped' : ' muted'}`}
      data-testid="record-privacy-status"
      data-epsilon={spent}
      data-exhausted={exhausted ? 'true' : 'false'}
      role="status"
    >
      {exhausted && own?.steps === 0
        ? `Record-level privacy: this site’s budget (ε ${epsilon(config.epsilonBudget)}, δ ${delta(config.delta)}) does not allow a single training step with its number of records, so it does not train for this study; you can close this tab.`
        : exhausted
        ? `Record-level privacy budget reached (ε ${epsilon(spent)} of ${epsilon(config.epsilonBudget)}, δ ${delta(config.delta)}): this site trains no more for this study, and you can close this tab.`
        : `Record-level privacy: this site has spent ε ${epsilon(spent)} of its ${epsilon(config.epsilonBudget)} (δ ${delta(config.delta)})${own ? ` over ${own.steps.toLocaleString('en')} local steps` : ''}.`}
      <span className="small"> DP-SGD: this tab clips every patient record’s gradient and adds noise to each training step, so no single record can be singled out.</span>
    </p>
  );
}
