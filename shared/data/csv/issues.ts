/** Why a row cannot be imported. Every kind is reported with the row's line in the file. */
export const ROW_ERROR_KINDS = [
  'unparseable-number',
  'not-integer',
  'out-of-range',
  'unknown-category',
  'invalid-binary',
  'missing-label',
  'invalid-label',
  'field-count',
  'unterminated-quote',
  'malformed-quote',
] as const;
export type RowErrorKind = (typeof ROW_ERROR_KINDS)[number];

export const ROW_ERROR_TITLES: Record<RowErrorKind, string> = {
  'unparseable-number': 'Not a number',
  'not-integer': 'Not a whole number',
  'out-of-range': 'Out of range',
  'unknown-category': 'Unknown category',
  'invalid-binary': 'Not 0/1',
  'missing-label': 'Label missing',
  'invalid-label': 'Label unreadable',
  'field-count': 'Wrong number of fields',
  'unterminated-quote': 'Unterminated quote',
  'malformed-quote': 'Malformed quote',
};

export interface RowProblem {
  kind: RowErrorKind;
  /** The file's column the problem is in, when it is in one. */
  column?: string;
  value?: string;
  message: string;
}

export interface RowError {
  /** 1-based line of the file the row starts on (header and blank lines counted). */
  line: number;
  problems: RowProblem[];
}

/** Findings about the file as a whole. An `error` stops the import; warnings and notes do not. */
export type FileIssueKind =
  | 'empty-file'
  | 'not-text'
  | 'duplicate-header'
  | 'missing-feature'
  | 'unused-columns'
  | 'no-label'
  | 'invalid-mapping'
  | 'no-rows'
  | 'no-valid-rows'
  /** The file has a column per feature and the label, but its values do not fit the template's order. */
  | 'positional-misfit';

export interface FileIssue {
  kind: FileIssueKind;
  severity: 'error' | 'warning' | 'info';
  line?: number;
  message: string;
}

export class ImportCancelledError extends Error {
  constructor() {
    super('The import was cancelled; nothing was stored.');
    this.name = 'ImportCancelledError';
  }
}
