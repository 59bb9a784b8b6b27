import type { TabularRecord, TaskTemplate } from '../../tasks/spec';

export interface CsvWriteOptions {
  delimiter?: string;
  newline?: string;
  header?: boolean;
  /** Written for a missing value. */
  missing?: string;
  /** Column name of the label. */
  labelColumn?: string;
  /** How a label is written (default: the number). */
  formatLabel?: (label: number, index: number) => string;
  /** Column names by feature (default: the feature's name). */
  columnNames?: Record<string, string>;
}

export function csvField(value: string, delimiter: string): string {
  return /["\r\n]/.test(value) || value.includes(delimiter) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Records as CSV text, the way a hospital export would write them; for samples, benchmarks and tests. */
export function recordsToCsv(template: TaskTemplate, records: readonly TabularRecord[], options: CsvWriteOptions = {}): string {
  const d = options.delimiter ?? ',';
  const nl = options.newline ?? '\n';
  const missing = options.missing ?? '';
  const lines: string[] = [];
  if (options.header !== false) {
    const names = template.features.map((f) => options.columnNames?.[f.name] ?? f.name);
    lines.push([...names, options.labelColumn ?? template.label.name].map((n) => csvField(n, d)).join(d));
  }
  records.forEach((r, i) => {
    const cells = template.features.map((f) => {
      const v = r.values[f.name];
      return v === null || v === undefined ? missing : String(v);
    });
    cells.push(options.formatLabel ? options.formatLabel(r.label, i) : String(r.label));
    lines.push(cells.map((c) => csvField(c, d)).join(d));
  });
  return lines.join(nl) + nl;
}
