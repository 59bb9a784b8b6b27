import { METRICS_CSV_COLUMNS, type RoundMetrics } from '../../shared/protocol/monitoring';

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; null is empty. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A study's metrics history as CSV: a header row of the columns, then a row per round (CRLF line ends). */
export function metricsCsv(rows: readonly RoundMetrics[]): string {
  const lines = [METRICS_CSV_COLUMNS.join(','), ...rows.map((r) => METRICS_CSV_COLUMNS.map((k) => csvField(r[k])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
