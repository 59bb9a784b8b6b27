import { METRICS_HISTORY_MAX_LIMIT, type ApiTokenView, type MetricsFormat } from '../../shared/protocol/monitoring';

/** The metrics history route as a download of every round the API gives in one answer. */
export function metricsExportUrl(studyId: string, format: MetricsFormat): string {
  const q = new URLSearchParams({ study: studyId, format, limit: String(METRICS_HISTORY_MAX_LIMIT) });
  return `/api/metrics/history?${q.toString()}`;
}

/** The file name a JSON export is saved as (the CSV's comes from the server's Content-Disposition). */
export const metricsExportFileName = (studyId: string, format: MetricsFormat) => `${studyId}-metrics.${format}`;

/** How a token's use is told in the list: never, or when, relative to `now` while recent. */
export function lastUsedText(lastUsedAt: string | null, now: number): string {
  if (!lastUsedAt) return 'never used';
  const seconds = Math.max(0, Math.round((now - Date.parse(lastUsedAt)) / 1000));
  // Use is recorded at most once a minute: anything closer is "within the last minute".
  if (seconds < 60) return 'used within the last minute';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `used ${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `used ${hours} h ago`;
  return `used ${new Date(lastUsedAt).toLocaleDateString()}`;
}

/** Active tokens first (newest first, as the server lists them), then revoked ones. */
export function sortTokens(tokens: readonly ApiTokenView[]): ApiTokenView[] {
  return [...tokens.filter((t) => !t.revokedAt), ...tokens.filter((t) => t.revokedAt)];
}
