import { metricsExportFileName, metricsExportUrl } from './monitoringView';

/** Downloads of the study's per-round metrics history, from the same route monitoring tools read. */
export function MetricsExport({ studyId }: { studyId: string }) {
  return (
    <p className="head-actions" data-testid="metrics-export">
      <span className="muted small">Per-round metrics history:</span>
      <a className="button small" href={metricsExportUrl(studyId, 'csv')} download={metricsExportFileName(studyId, 'csv')}>
        Export metrics (CSV)
      </a>
      <a className="button small" href={metricsExportUrl(studyId, 'json')} download={metricsExportFileName(studyId, 'json')}>
        Export metrics (JSON)
      </a>
    </p>
  );
}
