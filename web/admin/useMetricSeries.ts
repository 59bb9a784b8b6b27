import { useQuery } from '@tanstack/react-query';
import type { Dashboard } from '../../shared/protocol';
import { getMetricSeries } from '../api/endpoints';

/**
 * The study's per-version, per-site metric series (the chart and the model warnings share one
 * request). Fetched again whenever the live dashboard shows a new version, another report, or a
 * report moved in or out of the pooled figures, or a private round spent ε.
 */
export function useMetricSeries(dashboard: Dashboard) {
  const { study, metrics } = dashboard;
  const reports = metrics.reduce((n, m) => n + m.reports, 0);
  const flagged = metrics.reduce((n, m) => n + m.flagged, 0);
  // Under differential privacy, every round spends ε, even one that made no version.
  const spent = study.privacy?.rounds ?? 0;
  return useQuery({
    queryKey: ['metric-series', study.id, `${study.currentVersion}:${reports}:${flagged}:${spent}`],
    queryFn: () => getMetricSeries(study.id),
    placeholderData: (previous) => (previous?.studyId === study.id ? previous : undefined),
  });
}
