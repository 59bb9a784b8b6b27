import type { TaskTemplate } from '../../tasks/spec';
import { BatchBuilder, featureNames, type RecordBatch } from '../columnar';
import { FingerprintBuilder } from '../fingerprint';
import { labelClasses, StatsAccumulator, type DatasetStats } from '../stats';
import {
  ImportCancelledError,
  type FileIssue,
  type RowError,
  type RowErrorKind,
  type RowProblem,
} from './issues';
import { compileLabelRule, describeLabelRule, type LabelOutcome } from './labelRule';
import { autoMapping, csvImportOptionsSchema, mappingSchemaFor, type ColumnMapping, type CsvImportOptions } from './mapping';
import { isKnownColumnName, normaliseName } from './names';
import { CsvRowReader, isBlankRow, lineBreaksIn, type CsvRow, type Delimiter, type Newline } from './rows';
import { detectDecimal, detectDelimiter, detectHeader, detectNewline, sampleRows } from './sniff';
import { NotTextError, type TextSource } from './text';
import { compileCell, isFlagged, isMissingToken, parseNumber, type CellResult } from './values';
import {
  ColumnProfile,
  detectMissingCodes,
  missingReadouts,
  positionalProposal,
  ValueCounts,
  type MissingCodeProposal,
  type MissingReadout,
  type PositionalProposal,
} from './proposals';

export interface CsvSettings {
  delimiter: Delimiter;
  newline: Newline;
  hasHeader: boolean;
  decimal: '.' | ',';
  encoding: 'utf-8' | 'windows-1252';
}

export interface CsvColumn {
  index: number;
  /** The header's name, or `Column N` in a file without a header. */
  name: string;
  /** The first few values, for the mapping editor. */
  samples: string[];
}

export interface PreviewRow {
  line: number;
  /** In template feature order; null when missing. */
  values: (number | null)[];
  label: number;
}

/** A kept row with values outside their feature's plausible range. */
export interface RowFlag {
  line: number;
  flags: { column: string; feature: string; value: number; message: string }[];
}

export interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  /** Data rows read so far (blank lines and the header not counted). */
  rows: number;
  accepted: number;
  rejected: number;
}

export interface CsvAnalysis {
  settings: CsvSettings;
  headerLine: number | null;
  columns: CsvColumn[];
  /** The mapping used: the caller's, or the one matched from the column names. */
  mapping: ColumnMapping;
  labelRule: string | null;
  rows: { data: number; blank: number; accepted: number; rejected: number };
  preview: PreviewRow[];
  stats: DatasetStats;
  /** Rows that cannot be imported, in file order; the first `MAX_LISTED_ERRORS` of them. */
  errors: RowError[];
  /** Rows rejected per kind (a row with two kinds of problem counts under both). */
  errorCounts: Partial<Record<RowErrorKind, number>>;
  issues: FileIssue[];
  /** SHA-256 of the accepted records; null when none was accepted. */
  fingerprint: string | null;
  /** True when the accepted rows can be imported: no file-level error and at least one row. */
  canImport: boolean;
  /** Kept rows with a value outside its feature's plausible range (inside the possible one). */
  flags: {
    /** Kept rows with at least one flagged value. */
    rows: number;
    /** Flagged values per feature. */
    byFeature: Record<string, number>;
    /** The first `MAX_LISTED_ERRORS` flagged rows, in file order. */
    listed: RowFlag[];
  };
  /** What the review proposes, for the person to accept: nothing here is applied yet. */
  proposals: {
    /** Reading the columns in the template's order, when names matched nothing but the values fit. */
    positional: PositionalProposal | null;
    /** Per-column codes for "missing", with the rows they would keep. */
    missingCodes: MissingCodeProposal[];
  };
  /** Cells read as missing without asking (blank, `?`, `NA`...), per column and token. */
  missingRead: MissingReadout[];
}

export interface ImportHooks {
  /** Receives accepted records in batches of `batchSize`; awaited, so a slow store slows the reading. */
  onRecords?: (batch: RecordBatch) => Promise<void> | void;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  batchSize?: number;
}

export const MAX_LISTED_ERRORS = 500;
export const PREVIEW_ROWS = 10;
const SAMPLE_VALUES = 5;
/** Characters read before the delimiter, line break and header are guessed. */
const SNIFF_CHARS = 64 * 1024;

const mappingErrors = (error: { issues: { message: string }[] }) => [...new Set(error.issues.map((i) => i.message))];

/**
 * Reads a CSV file once, streaming: finds its delimiter, line breaks and header, maps its columns to
 * the template, checks every row, and hands accepted records on in batches while it counts,
 * summarises and fingerprints them. Memory does not grow with the file: rows are dropped once
 * checked, and only the first errors and preview rows are kept.
 */
export async function analyseCsv(
  source: TextSource,
  template: TaskTemplate,
  rawOptions: CsvImportOptions = {},
  hooks: ImportHooks = {},
): Promise<CsvAnalysis> {
  const options = csvImportOptionsSchema.parse(rawOptions);
  const features = template.features;
  const width = features.length;
  const stats = new StatsAccumulator(template);
  const fingerprint = new FingerprintBuilder(template);
  const builder = new BatchBuilder(featureNames(template), hooks.batchSize ?? 5000);
  const issues: FileIssue[] = [];
  const errors: RowError[] = [];
  const errorCounts: Partial<Record<RowErrorKind, number>> = {};
  const preview: PreviewRow[] = [];
  const counts = { data: 0, blank: 0, accepted: 0, rejected: 0 };

  const settings: CsvSettings = {
    delimiter: options.delimiter ?? ',',
    newline: '\n',
    hasHeader: options.hasHeader ?? true,
    decimal: options.decimal ?? '.',
    encoding: options.encoding ?? 'utf-8',
  };
  let samples: string[][] = [];
  let columns: CsvColumn[] | null = null;
  let headerLine: number | null = null;
  let mapping: ColumnMapping = options.mapping ?? { features: {}, label: null, sentinels: [], missingText: [] };
  let usable = false;
  const flags: CsvAnalysis['flags'] = { rows: 0, byFeature: {}, listed: [] };
  /** Per feature (template order): how the cells of its column read. */
  let profiles: (ColumnProfile | null)[] = [];
  /** A file whose names matched nothing, profiled in the template's order to see whether its values fit. */
  let positional: { cells: ((cell: string) => CellResult)[]; profiles: ColumnProfile[]; label: ValueCounts } | null = null;

  const result = (): CsvAnalysis => {
    const names = columns?.map((c) => c.name) ?? [];
    let proposed: PositionalProposal | null = null;
    if (positional && counts.data > 0) {
      const found = positionalProposal(template, names, positional.profiles, positional.label, settings.decimal);
      proposed = found.proposal;
      if (proposed)
        for (const i of issues) if (i.kind === 'no-label') i.message = `${i.message}, or use the proposed mapping: the columns in the template's order`;
      if (found.misfit) issues.push({ kind: 'positional-misfit', severity: 'warning', message: found.misfit });
    }
    const missingCodes: MissingCodeProposal[] = [];
    const missingRead: MissingReadout[] = [];
    features.forEach((f, j) => {
      const p = profiles[j];
      const c = featureColumn[j];
      if (!p || c === null || c === undefined) return;
      missingCodes.push(...detectMissingCodes(f, c, names[c], p, settings.decimal));
      missingRead.push(...missingReadouts(c, names[c], p));
    });
    if (columns && counts.data === 0 && !issues.some((i) => i.severity === 'error'))
      issues.push({ kind: 'no-rows', severity: 'error', message: settings.hasHeader ? 'The file has a header row but no data rows.' : 'The file has no data rows.' });
    else if (usable && counts.data > 0 && counts.accepted === 0)
      issues.push({ kind: 'no-valid-rows', severity: 'error', message: 'No row of the file can be imported: see the problems below.' });
    return {
      settings,
      headerLine,
      columns: columns ?? [],
      mapping,
      labelRule: mapping.label ? describeLabelRule(mapping.label, (i) => names[i] ?? `column ${i + 1}`) : null,
      rows: counts,
      preview,
      stats: stats.result(),
      errors,
      errorCounts,
      issues,
      fingerprint: null,
      canImport: usable && counts.accepted > 0 && !issues.some((i) => i.severity === 'error'),
      flags,
      proposals: { positional: proposed, missingCodes },
      missingRead,
    };
  };

  // Compiled once the columns are known.
  let featureColumn: (number | null)[] = [];
  let cells: ((cell: string) => CellResult)[] = [];
  let labelColumn = -1;
  let labelSentinels: number[] = [];
  let labelTexts = new Set<string>();
  let labelOf: (cell: string) => LabelOutcome = () => ({ invalid: 'no rule' });
  const values = new Float64Array(width);

  const establish = (row: CsvRow): void => {
    const width = row.fields.length;
    if (settings.hasHeader) {
      headerLine = row.line;
      const names = row.fields.map((f, i) => f.replace(/^\ufeff/, '').trim() || `Column ${i + 1}`);
      const seen = new Map<string, number>();
      names.forEach((name, i) => {
        const key = normaliseName(name) || name;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else
          issues.push({
            kind: 'duplicate-header',
            severity: 'warning',
            line: row.line,
            message: `Columns ${first + 1} and ${i + 1} are both called "${name}"; the mapping uses column ${first + 1} unless you choose otherwise.`,
          });
      });
      columns = names.map((name, index) => ({ index, name, samples: [] }));
    } else {
      columns = Array.from({ length: width }, (_, index) => ({ index, name: `Column ${index + 1}`, samples: [] }));
    }
    const dataSamples = settings.hasHeader ? samples.slice(1) : samples;
    for (const c of columns) c.samples = dataSamples.slice(0, SAMPLE_VALUES).map((r) => r[c.index] ?? '');
    const names = columns.map((c) => c.name);
    if (!options.mapping) {
      mapping = autoMapping(template, names, settings.hasHeader, dataSamples, settings.decimal);
      const named = mapping.label !== null || Object.values(mapping.features).some((c) => c !== null);
      if (!named && names.length === features.length + 1) {
        positional = {
          cells: features.map((f) => compileCell(f, [], settings.decimal)),
          profiles: features.map(() => new ColumnProfile()),
          label: new ValueCounts(),
        };
      }
    }

    const checked = mappingSchemaFor(template, names).safeParse(mapping);
    if (!checked.success) {
      const messages = mappingErrors(checked.error);
      for (const message of messages) {
        const noLabel = message.startsWith('Choose the column');
        issues.push({ kind: noLabel ? 'no-label' : 'invalid-mapping', severity: 'error', message });
      }
      return;
    }
    mapping = checked.data;
    const sentinelsOf = (column: number) => mapping.sentinels.filter((s) => s.column === column).flatMap((s) => s.values);
    const textsOf = (column: number) => new Set(mapping.missingText.filter((s) => s.column === column).flatMap((s) => s.values));
    featureColumn = features.map((f) => mapping.features[f.name] ?? null);
    cells = features.map((f, j) => {
      const c = featureColumn[j];
      const read = compileCell(f, c === null ? [] : sentinelsOf(c), settings.decimal);
      const texts = c === null ? new Set<string>() : textsOf(c);
      return texts.size === 0 ? read : (cell: string) => (texts.has(cell) ? NaN : read(cell));
    });
    profiles = featureColumn.map((c) => (c === null ? null : new ColumnProfile()));
    labelColumn = mapping.label!.column;
    labelSentinels = sentinelsOf(labelColumn);
    labelTexts = textsOf(labelColumn);
    labelOf = compileLabelRule(mapping.label!, (cell) => parseNumber(cell, settings.decimal), labelClasses(template).length);
    features.forEach((f, j) => {
      if (featureColumn[j] === null)
        issues.push({
          kind: 'missing-feature',
          severity: 'warning',
          message: `No column for ${f.label} (${f.name}): it will be missing for every row and imputed from the study's statistics.`,
        });
    });
    const mapped = new Set<number>([...featureColumn.filter((c): c is number => c !== null), labelColumn]);
    const unused = names.filter((_, i) => !mapped.has(i));
    if (unused.length > 0)
      issues.push({ kind: 'unused-columns', severity: 'info', message: `Not imported: ${unused.map((n) => `"${n}"`).join(', ')}.` });
    usable = true;
  };

  const reject = (line: number, problems: RowProblem[]): void => {
    counts.rejected++;
    const kinds = new Set(problems.map((p) => p.kind));
    for (const k of kinds) errorCounts[k] = (errorCounts[k] ?? 0) + 1;
    if (errors.length < MAX_LISTED_ERRORS) errors.push({ line, problems });
  };

  const checkRow = async (row: CsvRow): Promise<void> => {
    counts.data++;
    const { fields, line } = row;
    const expected = columns!.length;
    if (row.quoteProblem === 'unterminated') {
      const spans = lineBreaksIn(fields);
      return reject(line, [
        {
          kind: 'unterminated-quote',
          message: `A quoted field opens here and is never closed${spans > 0 ? `: lines ${line}–${line + spans} are all inside it` : ''}`,
        },
      ]);
    }
    if (row.quoteProblem === 'malformed') {
      return reject(line, [{ kind: 'malformed-quote', message: 'A quoted field has text after its closing quote' }]);
    }
    if (fields.length < expected || (fields.length > expected && !isBlankRow(fields.slice(expected)))) {
      return reject(line, [
        { kind: 'field-count', message: `${fields.length} field${fields.length === 1 ? '' : 's'} where the ${settings.hasHeader ? 'header has' : 'first row has'} ${expected}` },
      ]);
    }
    let problems: RowProblem[] | null = null;
    let flagged: RowFlag['flags'] | null = null;
    for (let j = 0; j < width; j++) {
      const c = featureColumn[j];
      if (c === null) {
        values[j] = NaN;
        continue;
      }
      const cell = fields[c].trim();
      const v = cells[j](cell);
      if (typeof v === 'number') {
        values[j] = v;
        if (Number.isNaN(v)) profiles[j]!.add(cell, v);
        else profiles[j]!.counts.ok++;
        continue;
      }
      profiles[j]!.add(cell, v);
      if (isFlagged(v)) {
        values[j] = v.flagged;
        (flagged ??= []).push({ column: columns![c].name, feature: features[j].name, value: v.flagged, message: v.message });
      } else (problems ??= []).push({ ...v, column: columns![c].name });
    }
    const labelCell = fields[labelColumn].trim();
    const labelName = columns![labelColumn].name;
    let label: number | null = null;
    if (isMissingToken(labelCell) || labelTexts.has(labelCell) || (labelSentinels.length > 0 && labelSentinels.includes(parseNumber(labelCell, settings.decimal)))) {
      (problems ??= []).push({ kind: 'missing-label', column: labelName, message: 'The label is missing' });
    } else {
      const outcome = labelOf(labelCell);
      if ('label' in outcome) label = outcome.label;
      else (problems ??= []).push({ kind: 'invalid-label', column: labelName, value: labelCell, message: `"${labelCell}" ${outcome.invalid}` });
    }
    if (problems) return reject(line, problems);

    counts.accepted++;
    if (flagged) {
      flags.rows++;
      for (const f of flagged) flags.byFeature[f.feature] = (flags.byFeature[f.feature] ?? 0) + 1;
      if (flags.listed.length < MAX_LISTED_ERRORS) flags.listed.push({ line, flags: flagged });
    }
    stats.add(values, label!);
    fingerprint.add(values, label!);
    if (preview.length < PREVIEW_ROWS) preview.push({ line, values: Array.from(values, (v) => (Number.isNaN(v) ? null : v)), label: label! });
    if (hooks.onRecords) {
      builder.add(`line-${line}`, values, label!);
      if (builder.full) {
        await hooks.onRecords(builder.take());
        if (hooks.signal?.aborted) throw new ImportCancelledError();
      }
    }
  };

  /** A row of a file being tried in the template's order: its cells counted, nothing imported. */
  const profileRow = (row: CsvRow): void => {
    const p = positional!;
    if (row.quoteProblem || row.fields.length < features.length + 1) return;
    for (let j = 0; j < features.length; j++) {
      const cell = row.fields[j].trim();
      p.profiles[j].add(cell, p.cells[j](cell));
    }
    p.label.add(row.fields[features.length].trim());
  };

  const handle = async (rows: CsvRow[]): Promise<void> => {
    for (const row of rows) {
      if (!row.quoteProblem && isBlankRow(row.fields)) {
        counts.blank++;
        continue;
      }
      if (!columns) {
        establish(row);
        if (settings.hasHeader) continue;
      }
      if (!usable) {
        counts.data++;
        if (positional) profileRow(row);
        continue;
      }
      await checkRow(row);
    }
  };

  if (width === 0) {
    issues.push({ kind: 'invalid-mapping', severity: 'error', message: `${template.name} learns from images, not from a table: import image files instead.` });
    return result();
  }

  let reader: CsvRowReader | null = null;
  // Text held back until there is enough of it to tell the delimiter, line break and header from.
  let pending = '';
  const start = (): CsvRowReader => {
    settings.newline = detectNewline(pending);
    settings.delimiter = options.delimiter ?? detectDelimiter(pending, settings.newline);
    samples = sampleRows(pending, settings.delimiter, settings.newline);
    settings.hasHeader = options.hasHeader ?? detectHeader(samples, (c) => isKnownColumnName(template, c));
    settings.decimal = options.decimal ?? detectDecimal(settings.hasHeader ? samples.slice(1) : samples, settings.delimiter);
    return new CsvRowReader({ delimiter: settings.delimiter, newline: settings.newline });
  };
  const progress = (bytesRead: number) =>
    hooks.onProgress?.({ bytesRead, totalBytes: source.totalBytes, rows: counts.data, accepted: counts.accepted, rejected: counts.rejected });

  try {
    for await (const chunk of source.chunks()) {
      if (hooks.signal?.aborted) throw new ImportCancelledError();
      if (!reader) {
        pending += chunk.text;
        if (pending.length < SNIFF_CHARS || pending.trim() === '') continue;
        reader = start();
        await handle(reader.push(pending));
        pending = '';
      } else {
        await handle(reader.push(chunk.text));
      }
      progress(chunk.bytesRead);
    }
  } catch (e) {
    if (e instanceof NotTextError) {
      issues.push({ kind: 'not-text', severity: 'error', message: e.message });
      return result();
    }
    throw e;
  }
  if (!reader) {
    if (pending.trim() === '') {
      issues.push({ kind: 'empty-file', severity: 'error', message: 'The file is empty.' });
      return result();
    }
    reader = start();
    await handle(reader.push(pending));
    pending = '';
  }
  await handle(reader.end());
  if (hooks.signal?.aborted) throw new ImportCancelledError();
  if (hooks.onRecords && builder.size > 0) await hooks.onRecords(builder.take());
  progress(source.totalBytes);

  const analysis = result();
  if (counts.accepted > 0) analysis.fingerprint = await fingerprint.digest();
  return analysis;
}
