// Imported file by file: the page must not pull the CSV parser, which runs in the worker.
import type { CsvAnalysis } from '../../../shared/data/csv/importer';
import type { ColumnMapping, CsvImportOptions } from '../../../shared/data/csv/mapping';
import { acceptMissingCode, type MissingCodeProposal } from '../../../shared/data/csv/proposals';
import { count } from './ImportReport';
import { LinesTable } from './LinesTable';

const codeText = (c: MissingCodeProposal) => (c.code === '' ? '(blank)' : c.code);

/**
 * What the review proposes and nothing applies until the person says so: reading the columns in the
 * template's order (one button), and each column's missing-value code (one button each). Accepting
 * reads the file again with the proposal in the mapping, so the counts shown are always the file's.
 */
export function ProposalList({ analysis, busy, onApply }: { analysis: CsvAnalysis; busy: boolean; onApply: (options: CsvImportOptions) => void }) {
  const { positional, missingCodes } = analysis.proposals;
  if (!positional && missingCodes.length === 0) return null;
  const { delimiter, hasHeader, decimal, encoding } = analysis.settings;
  const apply = (mapping: ColumnMapping) => onApply({ delimiter, hasHeader, decimal, encoding, mapping });
  return (
    <section className="section proposals" data-testid="import-proposals" aria-label="Proposed by the review">
      <h3>Proposed</h3>
      {positional && (
        <div className="proposal" data-testid="positional-proposal">
          <p>
            <strong>Read the columns in the template's order.</strong> {positional.reason}
          </p>
          <button type="button" className="button" disabled={busy} onClick={() => apply(positional.mapping)} data-testid="accept-positional">
            Use this mapping
          </button>
        </div>
      )}
      {missingCodes.length > 0 && (
        <>
          <p className="muted small">
            Values that look like codes for “missing”. Accepted, they are read as missing (and imputed) instead of refusing their rows.
          </p>
          <ul className="proposal-codes">
            {missingCodes.map((c) => (
              <li key={`${c.column}:${c.code}`} className="proposal" data-testid="code-proposal" data-column={c.column} data-code={c.code}>
                <span>
                  <code>{codeText(c)}</code> in <code>{c.columnName}</code> ({c.featureLabel}): <strong>{count(c.count)}</strong> row{c.count === 1 ? '' : 's'}.{' '}
                  <span className="muted small">{c.reason}</span>
                </span>
                <button type="button" className="button secondary" disabled={busy} onClick={() => apply(acceptMissingCode(analysis.mapping, c))} data-testid="accept-code">
                  Treat as missing
                </button>
              </li>
            ))}
          </ul>
          {missingCodes.length > 1 && (
            <button
              type="button"
              className="button secondary"
              disabled={busy}
              onClick={() => apply(missingCodes.reduce((m, c) => acceptMissingCode(m, c), analysis.mapping))}
              data-testid="accept-all-codes"
            >
              Treat all {missingCodes.length} as missing
            </button>
          )}
        </>
      )}
    </section>
  );
}

/** Cells read as missing without asking, and kept rows with a value outside its plausible range. */
export function MissingAndFlags({ analysis }: { analysis: CsvAnalysis }) {
  const { missingRead, flags } = analysis;
  return (
    <>
      {missingRead.length > 0 && (
        <p className="small muted" data-testid="missing-read">
          Read as missing:{' '}
          {missingRead.map((m, k) => (
            <span key={k}>
              {k > 0 && ' · '}
              <code>{m.token === '' ? '(blank)' : m.token}</code> in <code>{m.columnName}</code> × {count(m.count)}
            </span>
          ))}
        </p>
      )}
      {flags.rows > 0 && (
        <LinesTable
          testId="flagged-rows"
          rowTestId="flagged-row"
          caption={`Kept, but a value is outside its plausible range: check these${flags.rows > flags.listed.length ? ` (the first ${flags.listed.length} of ${count(flags.rows)})` : ''}.`}
          what="Value"
          rows={flags.listed.slice(0, 100)}
          cell={(f) =>
            f.flags.map((x, k) => (
              <span key={k} className="problem">
                <code>{x.column}</code> {x.message}
              </span>
            ))
          }
        />
      )}
    </>
  );
}
