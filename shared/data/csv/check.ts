import type { TaskTemplate } from '../../tasks/spec';
import { analyseCsv, type CsvAnalysis, type ImportHooks } from './importer';
import { ROW_ERROR_TITLES } from './issues';
import { csvImportOptionsSchema, type ColumnMapping, type CsvImportOptions } from './mapping';
import { acceptMissingCode } from './proposals';
import type { TextSource } from './text';

/**
 * The options that read the file as analysed, with every proposal accepted: the positional mapping
 * (when there is one), then each proposed missing-value code. Null when nothing is proposed.
 */
export function acceptAllProposals(analysis: CsvAnalysis, options: CsvImportOptions = {}): CsvImportOptions | null {
  const { positional, missingCodes } = analysis.proposals;
  if (!positional && missingCodes.length === 0) return null;
  let mapping: ColumnMapping = positional ? positional.mapping : analysis.mapping;
  if (!positional) for (const code of missingCodes) mapping = acceptMissingCode(mapping, code);
  const { delimiter, hasHeader, decimal, encoding } = analysis.settings;
  return { ...options, delimiter, hasHeader, decimal, encoding, mapping };
}

export interface AcceptedAnalysis {
  /** The analysis of the file with every proposal accepted. */
  analysis: CsvAnalysis;
  /** Each analysis' proposals, in the order they were accepted (empty when none was made). */
  accepted: { positional: string | null; codes: string[] }[];
  /** The options that give `analysis`: what to apply on the page to import the same rows. */
  options: CsvImportOptions;
}

/**
 * Reads a file, accepting what the review proposes, as a person clicking every "accept" would: a
 * positional mapping first (its missing-value codes can only be seen once columns are mapped), then
 * the codes. At most three reads. `source` makes a fresh reader each time.
 */
export async function analyseAccepting(source: () => TextSource, template: TaskTemplate, options: CsvImportOptions = {}, hooks: ImportHooks = {}): Promise<AcceptedAnalysis> {
  let current = csvImportOptionsSchema.parse(options) as CsvImportOptions;
  const accepted: AcceptedAnalysis['accepted'] = [];
  let analysis = await analyseCsv(source(), template, current, hooks);
  for (let pass = 0; pass < 2; pass++) {
    const next = acceptAllProposals(analysis, current);
    if (!next) break;
    accepted.push({
      positional: analysis.proposals.positional?.reason ?? null,
      codes: analysis.proposals.positional ? [] : analysis.proposals.missingCodes.map((c) => `column ${c.column + 1} ("${c.columnName}", ${c.featureLabel}): ${c.code} as missing: ${c.reason}`),
    });
    current = next;
    analysis = await analyseCsv(source(), template, current, hooks);
  }
  return { analysis, accepted, options: current };
}

/** The numbers the last line of `import:check` prints; the page shows the same ones. */
export function checkCounts(template: TaskTemplate, analysis: CsvAnalysis) {
  const features = Object.values(analysis.mapping.features).filter((c) => c !== null && c !== undefined).length;
  return {
    rows: analysis.rows.data,
    kept: analysis.rows.accepted,
    flagged: analysis.flags.rows,
    refused: analysis.rows.rejected,
    mapped: features + (analysis.mapping.label ? 1 : 0),
    total: template.features.length + 1,
  };
}

export const checkSummaryLine = (c: ReturnType<typeof checkCounts>): string =>
  `import:check: rows=${c.rows} kept=${c.kept} flagged=${c.flagged} refused=${c.refused} mapped=${c.mapped}/${c.total}`;

const DELIMITER_NAMES: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'pipe' };

/** The import review as text, for a terminal: what the page shows, in the same words. */
export function formatReview(template: TaskTemplate, result: AcceptedAnalysis, { maxListed = 50 } = {}): string {
  const { analysis, accepted } = result;
  const out: string[] = [];
  const s = analysis.settings;
  const names = analysis.columns.map((c) => c.name);
  out.push(`Template: ${template.name} (${template.id}): ${template.features.length} features and the label.`);
  out.push(
    `File: ${DELIMITER_NAMES[s.delimiter]}-separated, ${s.encoding}, ${analysis.headerLine !== null ? `header on line ${analysis.headerLine}` : 'no header row'}${s.decimal === ',' ? ', decimal commas' : ''}; ${analysis.columns.length} columns.`,
  );
  out.push('');
  const left = analysis.proposals;
  const pending = left.positional !== null || left.missingCodes.length > 0;
  if (accepted.length === 0 && !pending) out.push('Proposals: none.');
  if (accepted.length > 0) {
    out.push('Proposals, accepted by default (the page asks for one click each):');
    for (const a of accepted) {
      if (a.positional) out.push(`  mapping: read the columns in the template's order: ${a.positional}`);
      for (const c of a.codes) out.push(`  code: ${c}`);
    }
  }
  if (pending) {
    out.push('Proposals, not accepted (the counts below are without them):');
    if (left.positional) out.push(`  mapping: read the columns in the template's order: ${left.positional.reason}`);
    for (const c of left.missingCodes) out.push(`  code: column ${c.column + 1} ("${c.columnName}", ${c.featureLabel}): ${c.code} as missing: ${c.reason}`);
  }
  out.push('');
  out.push('Mapping:');
  for (const f of template.features) {
    const c = analysis.mapping.features[f.name];
    const codes = [
      ...analysis.mapping.sentinels.filter((x) => x.column === c).flatMap((x) => x.values.map(String)),
      ...analysis.mapping.missingText.filter((x) => x.column === c).flatMap((x) => x.values.map((v) => `"${v}"`)),
    ];
    out.push(`  ${f.name.padEnd(10)} <- ${c === null || c === undefined ? '(no column: missing in every row)' : `column ${c + 1} "${names[c]}"`}${codes.length ? `; missing codes ${codes.join(', ')}` : ''}`);
  }
  out.push(`  ${'label'.padEnd(10)} <- ${analysis.labelRule ?? '(no label column)'}`);
  if (analysis.missingRead.length > 0) {
    out.push('');
    out.push('Read as missing without asking:');
    for (const m of analysis.missingRead) out.push(`  column ${m.column + 1} "${m.columnName}": ${m.token === '' ? '(blank)' : `"${m.token}"`} x${m.count}`);
  }
  if (analysis.issues.length > 0) {
    out.push('');
    out.push('File:');
    for (const i of analysis.issues) out.push(`  ${i.severity}: ${i.line !== undefined ? `line ${i.line}: ` : ''}${i.message}`);
  }
  out.push('');
  out.push(`Flagged rows (kept; a value outside its plausible range): ${analysis.flags.rows}`);
  for (const f of analysis.flags.listed.slice(0, maxListed)) out.push(`  line ${f.line}: ${f.flags.map((x) => `${x.column}: ${x.message}`).join('; ')}`);
  if (analysis.flags.rows > maxListed) out.push(`  ... and ${analysis.flags.rows - Math.min(maxListed, analysis.flags.listed.length)} more`);
  out.push(`Refused rows: ${analysis.rows.rejected}`);
  for (const e of analysis.errors.slice(0, maxListed))
    out.push(`  line ${e.line}: ${e.problems.map((p) => `${p.column ? `${p.column}: ` : ''}${p.message} (${ROW_ERROR_TITLES[p.kind].toLowerCase()})`).join('; ')}`);
  if (analysis.rows.rejected > maxListed) out.push(`  ... and ${analysis.rows.rejected - Math.min(maxListed, analysis.errors.length)} more`);
  out.push('');
  out.push(analysis.canImport ? `Can import: ${analysis.rows.accepted} rows.` : 'Cannot import this file as it is read now.');
  out.push(checkSummaryLine(checkCounts(template, analysis)));
  return out.join('\n');
}
