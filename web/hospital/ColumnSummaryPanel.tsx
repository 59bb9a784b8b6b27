import { useEffect, useId, useRef, useState } from 'react';
import { columnSummarySchema, summariseColumns, type ColumnStats, type ColumnSummary, type ColumnType } from '../../shared/data/columns';
import { blobSource, type TextSource } from '../../shared/data/csv/text';
import { sendColumnSummary } from '../api/endpoints';
import { DASH } from '../format';
import { ScrollFrame } from '../layout/ScrollFrame';

/*
 * Issue 20: a site proposes a custom study from its own export. The summary is computed here, in the
 * tab (the file never leaves the browser), shown in full, and sent only when someone presses Send.
 */

type Phase =
  | { kind: 'idle' }
  | { kind: 'reading'; fileName: string; fraction: number }
  | { kind: 'ready'; summary: ColumnSummary; problem: string | null }
  | { kind: 'sending'; summary: ColumnSummary }
  | { kind: 'sent'; summary: ColumnSummary }
  | { kind: 'failed'; message: string; summary?: ColumnSummary };

const TYPE_WORDS: Record<ColumnType, string> = {
  numeric: 'number',
  integer: 'whole number',
  binary: 'two values',
  categorical: 'codes',
  text: 'free text (values not sent)',
  empty: 'empty',
};

class Cancelled extends Error {}

/** The file's chunks, reporting how far the reading got and giving the page a turn to paint between chunks. */
function withProgress(source: TextSource, signal: AbortSignal, onFraction: (f: number) => void): TextSource {
  return {
    totalBytes: source.totalBytes,
    async *chunks() {
      for await (const chunk of source.chunks()) {
        if (signal.aborted) throw new Cancelled();
        yield chunk;
        onFraction(source.totalBytes ? chunk.bytesRead / source.totalBytes : 1);
        // Parsing a chunk is synchronous: a macrotask between chunks lets the progress bar and Cancel respond.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    },
  };
}

const figure = (x: number | undefined) => (x === undefined ? DASH : String(Number(x.toPrecision(4))));

function rangeText(c: ColumnStats): string {
  if (c.p01 === undefined || c.p99 === undefined) return DASH;
  const spread = c.mean !== undefined ? ` (mean ${figure(c.mean)}${c.std !== undefined ? `, SD ${figure(c.std)}` : ''})` : '';
  return `${figure(c.p01)} – ${figure(c.p99)}${spread}`;
}

function codesText(c: ColumnStats): string {
  if (!c.codes) return DASH;
  return c.codes.length ? c.codes.join(', ') : 'none shared by 5 or more records';
}

function SummaryTable({ summary }: { summary: ColumnSummary }) {
  return (
    <>
      <p className="small">
        File <strong data-testid="column-summary-source">{summary.source}</strong> · {summary.rows} records (the count only) ·{' '}
        {summary.columns.length} columns
      </p>
      <ScrollFrame label="Column summary table">
        <table className="column-summary-table" data-testid="column-summary-table">
          <caption className="muted small">Per column. Ranges are the 1st to 99th percentile, never a lowest or highest value; codes are those at least 5 records share.</caption>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Type</th>
              <th scope="col" className="num">
                Present
              </th>
              <th scope="col" className="num">
                Missing
              </th>
              <th scope="col">Range</th>
              <th scope="col">Codes</th>
            </tr>
          </thead>
          <tbody>
            {summary.columns.map((c, i) => (
              <tr key={i} data-column={c.name}>
                <th scope="row">{c.name}</th>
                <td>{TYPE_WORDS[c.type]}</td>
                <td className="num">{c.present}</td>
                <td className="num">{c.missing}</td>
                <td className="small">{rangeText(c)}</td>
                <td className="small column-summary-codes">{codesText(c)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollFrame>
      <details className="column-summary-json">
        <summary className="small">The exact message that would be sent</summary>
        <pre data-testid="column-summary-json">{JSON.stringify(summary, null, 2)}</pre>
      </details>
    </>
  );
}

/** A collapsed section of the hospital page: describe a CSV export's columns and send that description to the consortium. */
export function ColumnSummaryPanel({ token }: { token?: string }) {
  const inputId = useId();
  const titleId = useId();
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const reading = useRef<AbortController | null>(null);
  useEffect(() => () => reading.current?.abort(), []);

  const describe = async (file: File) => {
    reading.current?.abort();
    const controller = new AbortController();
    reading.current = controller;
    setPhase({ kind: 'reading', fileName: file.name, fraction: 0 });
    try {
      const source = withProgress(blobSource(file), controller.signal, (fraction) => {
        if (!controller.signal.aborted) setPhase({ kind: 'reading', fileName: file.name, fraction });
      });
      const summary = await summariseColumns(source, file.name);
      if (controller.signal.aborted) return;
      const checked = columnSummarySchema.safeParse(summary);
      const problem = checked.success
        ? null
        : summary.columns.length === 0
          ? 'No columns were found: is the file empty?'
          : `This summary cannot be sent: ${checked.error.issues[0]?.path.join('.')} ${checked.error.issues[0]?.message}.`;
      setPhase({ kind: 'ready', summary, problem });
    } catch (e) {
      if (e instanceof Cancelled || controller.signal.aborted) return;
      setPhase({ kind: 'failed', message: `Could not read ${file.name}: ${(e as Error).message}` });
    } finally {
      if (reading.current === controller) reading.current = null;
    }
  };

  const cancel = () => {
    reading.current?.abort();
    reading.current = null;
    setPhase({ kind: 'idle' });
  };

  const send = async (summary: ColumnSummary) => {
    setPhase({ kind: 'sending', summary });
    try {
      await sendColumnSummary(summary, token);
      setPhase({ kind: 'sent', summary });
    } catch (e) {
      setPhase({ kind: 'failed', message: `Could not send the summary: ${(e as Error).message}`, summary });
    }
  };

  const busy = phase.kind === 'reading' || phase.kind === 'sending';
  const summary = 'summary' in phase ? phase.summary : undefined;
  const status =
    phase.kind === 'reading'
      ? `Reading ${phase.fileName}… ${Math.round(phase.fraction * 100)}%`
      : phase.kind === 'sending'
        ? 'Sending…'
        : phase.kind === 'sent'
          ? 'Sent: the platform admin can start a study definition from it.'
          : phase.kind === 'ready' && !phase.problem
            ? 'Nothing has been sent yet. Check the table, then send it or choose another file.'
            : '';

  return (
    <details className="panel column-summary" data-testid="column-summary-panel">
      <summary>
        <h2 id={titleId}>Propose a study from your columns</h2>
      </summary>
      <section aria-labelledby={titleId}>
        <p className="muted small">
          Describe one of your CSV exports so the consortium can define a study around the data you have. The file is read in this browser;
          what is sent is the table below.
        </p>
        <div className="field column-summary-file">
          <label htmlFor={inputId}>CSV export to describe</label>
          <input
            id={inputId}
            type="file"
            accept=".csv,.tsv,.txt,text/csv,text/plain,text/tab-separated-values"
            disabled={busy}
            data-testid="column-summary-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void describe(file);
            }}
          />
        </div>

        {phase.kind === 'reading' && (
          <div className="column-summary-reading">
            <div className="progress" role="progressbar" aria-label={`Reading ${phase.fileName}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(phase.fraction * 100)}>
              <span style={{ width: `${phase.fraction * 100}%` }} />
            </div>
            <button type="button" className="button" onClick={cancel}>
              Cancel
            </button>
          </div>
        )}

        <p role="status" aria-live="polite" className={phase.kind === 'sent' ? 'column-summary-sent' : 'muted small'} data-testid="column-summary-status">
          {status}
        </p>
        {phase.kind === 'failed' && (
          <p role="alert" className="error-text" data-testid="column-summary-error">
            {phase.message}
          </p>
        )}
        {phase.kind === 'ready' && phase.problem && (
          <p role="alert" className="error-text" data-testid="column-summary-error">
            {phase.problem}
          </p>
        )}

        {summary && summary.columns.length > 0 && (
          <>
            <p className="column-summary-promise">
              <strong>Only this leaves the hospital: no rows, no single patient's value.</strong>
            </p>
            <SummaryTable summary={summary} />
            <div className="actions">
              {phase.kind !== 'sent' && (
                <button
                  type="button"
                  className="button primary"
                  disabled={busy || (phase.kind === 'ready' && phase.problem !== null)}
                  onClick={() => void send(summary)}
                  data-testid="column-summary-send"
                >
                  {phase.kind === 'sending' ? 'Sending…' : phase.kind === 'failed' ? 'Try sending again' : 'Send to the consortium'}
                </button>
              )}
              <button type="button" className="button" disabled={busy} onClick={() => setPhase({ kind: 'idle' })}>
                {phase.kind === 'sent' ? 'Describe another file' : 'Discard'}
              </button>
            </div>
          </>
        )}
      </section>
    </details>
  );
}
