import type { CsvAnalysis } from '../../../shared/data/csv/importer';
import { ROW_ERROR_TITLES, type FileIssue, type RowErrorKind } from '../../../shared/data/csv/issues';
import { labelClasses, type FeatureStats } from '../../../shared/data/stats';
import type { TaskTemplate } from '../../../shared/tasks';
import { DASH } from '../../format';
import { LinesTable } from './LinesTable';
import { ScrollFrame } from '../../layout/ScrollFrame';

const LISTED_ERRORS = 100;

export const count = (n: number) => n.toLocaleString('en');

function num(x: number | null, digits = 1): string {
  if (x === null || !Number.isFinite(x)) return DASH;
  return Number.isInteger(x) ? count(x) : x.toFixed(digits);
}

const ISSUE_TONE: Record<FileIssue['severity'], string> = { error: 'error', warning: 'warn', info: 'info' };

export function IssueList({ issues }: { issues: FileIssue[] }) {
  if (issues.length === 0) return null;
  return (
    <ul className="issues" data-testid="import-issues">
      {issues.map((i, k) => (
        <li key={k} className={`issue tone-${ISSUE_TONE[i.severity]}`} data-kind={i.kind}>
          <span className="issue-tag">{i.severity === 'info' ? 'note' : i.severity}</span>
          <span>
            {i.line !== undefined && <strong>Line {i.line}: </strong>}
            {i.message}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function ImportSummary({ analysis }: { analysis: CsvAnalysis }) {
  const { rows } = analysis;
  return (
    <dl className="stats compact import-counts">
      <div>
        <dt>Rows read</dt>
        <dd data-testid="import-rows">{count(rows.data)}</dd>
      </div>
      <div className="ok-border">
        <dt>Can be imported</dt>
        <dd data-testid="import-accepted">{count(rows.accepted)}</dd>
      </div>
      <div className={rows.rejected ? 'bad-border' : ''}>
        <dt>With problems</dt>
        <dd data-testid="import-rejected">{count(rows.rejected)}</dd>
      </div>
      <div className={analysis.flags.rows ? 'warn-border' : ''}>
        <dt>Kept, flagged</dt>
        <dd data-testid="import-flagged">{count(analysis.flags.rows)}</dd>
      </div>
      <div>
        <dt>Blank lines skipped</dt>
        <dd>{count(rows.blank)}</dd>
      </div>
    </dl>
  );
}

export function LabelBalance({ template, counts }: { template: TaskTemplate; counts: number[] }) {
  const classes = labelClasses(template);
  const total = counts.reduce((a, b) => a + b, 0);
  return (
    <figure className="balance" aria-label="Label balance">
      <figcaption className="small muted">{template.label.description}, by class</figcaption>
      <div className="balance-bar" aria-hidden="true">
        {classes.map((_, k) =>
          counts[k] ? <span key={k} className={`balance-seg seg-${k % 5}`} style={{ width: `${(100 * counts[k]) / Math.max(1, total)}%` }} /> : null,
        )}
      </div>
      <ul className="balance-legend small" data-testid="label-balance">
        {classes.map((name, k) => (
          <li key={k}>
            <span className={`swatch seg-${k % 5}`} aria-hidden="true" />
            {name}: <strong>{count(counts[k] ?? 0)}</strong> <span className="muted">({total ? ((100 * (counts[k] ?? 0)) / total).toFixed(1) : '0.0'} %)</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

function categories(f: FeatureStats): string {
  if (!f.categories) return '';
  return f.categories.map((c) => `${c.code}: ${count(c.count)}`).join(' · ');
}

export function FeatureStatsTable({ stats }: { stats: FeatureStats[] }) {
  return (
    <ScrollFrame label="Feature summary">
      <table className="stats-table" data-testid="feature-stats">
        <caption className="muted small">Per feature, over the rows that can be imported.</caption>
        <thead>
          <tr>
            <th scope="col">Feature</th>
            <th scope="col" className="num">
              Present
            </th>
            <th scope="col" className="num">
              Missing
            </th>
            <th scope="col" className="num">
              Min
            </th>
            <th scope="col" className="num">
              Mean
            </th>
            <th scope="col" className="num">
              Max
            </th>
            <th scope="col">Categories (code: rows)</th>
          </tr>
        </thead>
        <tbody>
          {stats.map((f) => (
            <tr key={f.name} data-feature={f.name}>
              <th scope="row">
                {f.label} <code className="small">{f.name}</code>
              </th>
              <td className="num">{count(f.count)}</td>
              <td className={`num${f.missing > 0 ? ' warn-text' : ''}`} data-testid="feature-missing">
                {count(f.missing)}
              </td>
              <td className="num">{num(f.min)}</td>
              <td className="num">{num(f.mean, 2)}</td>
              <td className="num">{num(f.max)}</td>
              <td className="small">{categories(f) || <span className="muted">{DASH}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollFrame>
  );
}

export function PreviewTable({ template, analysis }: { template: TaskTemplate; analysis: CsvAnalysis }) {
  const classes = labelClasses(template);
  if (analysis.preview.length === 0) return <p className="muted">No row can be imported yet.</p>;
  return (
    <ScrollFrame label="Preview of the stored rows">
      <table className="preview-table" data-testid="import-preview">
        <caption className="muted small">The first {analysis.preview.length} rows as they will be stored (blank: missing).</caption>
        <thead>
          <tr>
            <th scope="col" className="num">
              Line
            </th>
            {template.features.map((f) => (
              <th scope="col" key={f.name} className="num" title={f.label}>
                {f.name}
              </th>
            ))}
            <th scope="col">{template.label.name}</th>
          </tr>
        </thead>
        <tbody>
          {analysis.preview.map((r) => (
            <tr key={r.line}>
              <td className="num muted">{r.line}</td>
              {r.values.map((v, j) => (
                <td key={j} className={`num${v === null ? ' missing-cell' : ''}`}>
                  {v === null ? '' : v}
                </td>
              ))}
              <td>
                {r.label} <span className="muted small">{classes[r.label]}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollFrame>
  );
}

export function RowErrors({ analysis }: { analysis: CsvAnalysis }) {
  const { errors, errorCounts, rows } = analysis;
  if (rows.rejected === 0) return <p className="ok-text small">Every row fits the study's features.</p>;
  const kinds = Object.entries(errorCounts) as [RowErrorKind, number][];
  const listed = errors.slice(0, LISTED_ERRORS);
  return (
    <div className="row-errors">
      <ul className="chips" aria-label="Problems by kind">
        {kinds.map(([kind, n]) => (
          <li key={kind} className="chip" data-kind={kind}>
            {ROW_ERROR_TITLES[kind]} <strong>{count(n)}</strong>
          </li>
        ))}
      </ul>
      <LinesTable
        testId="row-errors"
        rowTestId="row-error"
        caption={`Rows that will be dropped${rows.rejected > listed.length ? ` (the first ${listed.length} of ${count(rows.rejected)})` : ''}.`}
        what="Problem"
        rows={listed}
        cell={(e) =>
          e.problems.map((p, k) => (
            <span key={k} className="problem" data-kind={p.kind}>
              <span className="problem-kind">{ROW_ERROR_TITLES[p.kind]}</span>
              {p.column && <code>{p.column}</code>} {p.message}
            </span>
          ))
        }
      />
    </div>
  );
}
