import { normaliseName } from '../csv/names';
import { CsvRowReader, isBlankRow } from '../csv/rows';
import { detectDelimiter, detectNewline } from '../csv/sniff';
import type { TaskTemplate } from '../../tasks/spec';
import { baseName, imageTypeOfName, normalisePath } from './labels';

/**
 * A CSV that names each image's label: one row per file, a column with the file name (or its path
 * inside the chosen folder) and a column with the label. A header row is optional; columns are found
 * by their names, or, without a header, by which one holds image file names.
 */
export interface LabelCsv {
  header: boolean;
  /** Column titles (the header's, or `column 1`, `column 2`…). */
  columns: string[];
  fileColumn: number;
  labelColumn: number;
  rows: { line: number; file: string; value: string }[];
  /** Rows that could not be read: a missing file name or label. */
  problems: { line: number; message: string }[];
}

export class LabelCsvError extends Error {
  override name = 'LabelCsvError';
}

const FILE_NAMES = ['file', 'filename', 'files', 'image', 'imagename', 'imagefile', 'img', 'path', 'filepath', 'relativepath', 'name', 'scan', 'imageid', 'id'];
const LABEL_NAMES = ['label', 'labels', 'class', 'classname', 'target', 'diagnosis', 'category', 'outcome', 'y', 'truth', 'groundtruth'];

const looksLikeImage = (cell: string) => imageTypeOfName(cell.trim()) !== null;

export function parseLabelCsv(text: string, template: TaskTemplate): LabelCsv {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const newline = detectNewline(body);
  const delimiter = detectDelimiter(body, newline);
  const reader = new CsvRowReader({ delimiter, newline });
  const all = [...reader.push(body), ...reader.end()].filter((r) => !isBlankRow(r.fields));
  if (all.length === 0) throw new LabelCsvError('The label file is empty.');
  const width = Math.max(...all.map((r) => r.fields.length));
  if (width < 2) throw new LabelCsvError('The label file needs two columns: the image file name and its label.');

  const first = all[0].fields.map((f) => normaliseName(f));
  const labelNames = new Set([...LABEL_NAMES, normaliseName(template.label.name)]);
  let fileColumn = first.findIndex((c) => FILE_NAMES.includes(c));
  let labelColumn = first.findIndex((c, i) => i !== fileColumn && labelNames.has(c));
  const header = fileColumn >= 0 || labelColumn >= 0 || (!all[0].fields.some(looksLikeImage) && all.slice(1).some((r) => r.fields.some(looksLikeImage)));
  const data = header ? all.slice(1) : all;
  if (fileColumn < 0) {
    // The column most of whose cells are image file names.
    let best = -1;
    let bestCount = 0;
    for (let c = 0; c < width; c++) {
      if (c === labelColumn) continue;
      const n = data.reduce((s, r) => s + (looksLikeImage(r.fields[c] ?? '') ? 1 : 0), 0);
      if (n > bestCount) [best, bestCount] = [c, n];
    }
    fileColumn = best >= 0 ? best : labelColumn === 0 ? 1 : 0;
  }
  if (labelColumn < 0) labelColumn = Array.from({ length: width }, (_, i) => i).find((i) => i !== fileColumn)!;

  const columns = Array.from({ length: width }, (_, i) => (header ? (all[0].fields[i] ?? '').trim() : '') || `column ${i + 1}`);
  const rows: LabelCsv['rows'] = [];
  const problems: LabelCsv['problems'] = [];
  for (const r of data) {
    const file = (r.fields[fileColumn] ?? '').trim();
    const value = (r.fields[labelColumn] ?? '').trim();
    if (!file) problems.push({ line: r.line, message: 'no file name' });
    else if (!value) problems.push({ line: r.line, message: `no label for ${file}` });
    else rows.push({ line: r.line, file, value });
  }
  return { header, columns, fileColumn, labelColumn, rows, problems };
}

export interface CsvMatch {
  /** Per image path (in the order given): its raw label value from the CSV, or null. */
  values: (string | null)[];
  /** CSV rows naming no chosen image. */
  unmatched: { line: number; file: string }[];
  /** CSV rows naming a file name several chosen images share, in different folders. */
  ambiguous: { line: number; file: string }[];
  /** Images named by more than one row with different labels: the first row counts. */
  conflicts: { line: number; file: string }[];
}

/**
 * Which image each CSV row means: the image whose path (inside the chosen folder) ends with the row's
 * file name at a folder boundary, compared without regard to case; a bare name must be unique.
 */
export function matchLabelCsv(csv: Pick<LabelCsv, 'rows'>, paths: readonly string[]): CsvMatch {
  const byBase = new Map<string, number[]>();
  const lower = paths.map((p) => normalisePath(p).toLowerCase());
  lower.forEach((p, i) => {
    const b = baseName(p);
    const list = byBase.get(b);
    if (list) list.push(i);
    else byBase.set(b, [i]);
  });
  const values: (string | null)[] = paths.map(() => null);
  const out: CsvMatch = { values, unmatched: [], ambiguous: [], conflicts: [] };
  for (const row of csv.rows) {
    const want = normalisePath(row.file).toLowerCase();
    const candidates = (byBase.get(baseName(want)) ?? []).filter((i) => lower[i] === want || lower[i].endsWith(`/${want}`));
    if (candidates.length === 0) out.unmatched.push({ line: row.line, file: row.file });
    else if (candidates.length > 1) out.ambiguous.push({ line: row.line, file: row.file });
    else {
      const i = candidates[0];
      if (values[i] === null) values[i] = row.value;
      else if (values[i] !== row.value) out.conflicts.push({ line: row.line, file: row.file });
    }
  }
  return out;
}
