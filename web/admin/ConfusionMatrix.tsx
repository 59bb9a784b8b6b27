import { useId, useState } from 'react';
import type { VersionEvaluation } from '../../shared/protocol';
import { integer, percent } from '../format';
import { cellLabel, cellShade, confusionCaption, confusionTable } from './confusionMatrix';
import { figuresOf, isLeftOut, POOLED, siteOptions } from './versionCurves';

/**
 * A version's confusion matrix, pooled or one site's: actual classes down, predicted across, each
 * cell's count and share of its row, shaded by that share (teal right, orange wrong).
 */
export function ConfusionMatrixFigure({ evaluation, classNames }: { evaluation: VersionEvaluation; classNames: readonly string[] }) {
  const [picked, setPicked] = useState(POOLED);
  const id = useId();
  const { whose, site, clinical } = figuresOf(evaluation, picked);
  const table = clinical ? confusionTable(clinical, classNames) : null;
  const caption = table ? confusionCaption(table, whose) : `Confusion matrix, ${whose}: no clinical metrics`;
  return (
    <figure className="version-figure" data-testid="confusion-matrix" aria-labelledby={`${id}-caption`}>
      <div className="figure-head">
        <div className="figure-title-row">
          <h3>Confusion matrix</h3>
        </div>
        <SiteSelect id={`${id}-site`} evaluation={evaluation} value={picked} onChange={setPicked} />
      </div>
      {site && <SiteFlag site={site} />}
      {table ? (
        <div className="confusion-wrap">
          <table className="confusion" aria-label={caption}>
            <thead>
              <tr>
                <th scope="col" className="confusion-corner">
                  <span className="block">actual ↓</span>
                  <span className="block">predicted →</span>
                </th>
                {table.classes.map((c, k) => (
                  <th key={k} scope="col">
                    {c}
                  </th>
                ))}
                <th scope="col" className="num">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {table.rows.map((row) => (
                <tr key={row.actual}>
                  <th scope="row">{table.classes[row.actual]}</th>
                  {row.cells.map((cell) => (
                    <td
                      key={cell.predicted}
                      className={`confusion-cell${cell.correct ? ' right' : ''}`}
                      style={{ background: cellShade(cell) }}
                      title={cellLabel(table, row, cell)}
                      data-testid="confusion-cell"
                    >
                      <span className="count">{integer(cell.count)}</span>
                      <span className="share">{percent(cell.share)}</span>
                    </td>
                  ))}
                  <td className="num muted">{integer(row.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="chart-empty-inline muted small">No confusion matrix: {whose} sent no clinical metrics.</p>
      )}
      <figcaption id={`${id}-caption`} className="small muted">
        {caption}. Rows: actual class; percentages: share of the row.
      </figcaption>
    </figure>
  );
}

/** Pooled, or one site's figures; a flagged site left out of the pooled ones says so in its name. */
export function SiteSelect(props: { id: string; evaluation: VersionEvaluation; value: string; onChange: (value: string) => void }) {
  const { id, evaluation, value, onChange } = props;
  return (
    <label className="figure-select small" htmlFor={id}>
      <span className="figure-sr-only">Whose figures</span>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {siteOptions(evaluation).map((o) => (
          <option key={o.value} value={o.value} disabled={o.disabled}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Why a site's figures are far from the rest, when they are. */
export function SiteFlag({ site }: { site: VersionEvaluation['sites'][number] }) {
  if (site.flag === null) return null;
  return (
    <p className="figure-flag small" data-testid="figure-flag">
      <span className={`badge ${isLeftOut(site) ? 'warn' : 'ok'}`}>{isLeftOut(site) ? 'flagged, left out' : `flagged, included by ${site.includedBy}`}</span> {site.flag}
    </p>
  );
}
