import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { DataQuality, DataQualityWarning } from '../../shared/protocol/dataQuality';
import { getDataQuality } from '../api/endpoints';
import { FIRST_ROWS, qualityCell } from './dataQualityView';
import './dataQuality.css';
import { ScrollFrame } from '../layout/ScrollFrame';

/**
 * Each site's data, feature by feature, from the aggregate statistics it sent when it joined: the
 * share of its training records without a value (imputed when it trains) and the values outside the
 * plausible range (kept, counted). A feature missing from most of a site's records is listed as a
 * warning above the table: imputed there, it mostly tells the model which site a record came from.
 */
export function DataQualityPanel(props: { studyId: string; enrolled: number; refreshKey: string }) {
  const { studyId, enrolled, refreshKey } = props;
  const quality = useQuery({
    queryKey: ['data-quality', studyId, refreshKey],
    queryFn: () => getDataQuality(studyId),
    placeholderData: (previous, previousQuery) => (previousQuery?.queryKey[1] === studyId ? previous : undefined),
  });
  const sites = quality.data?.sites ?? [];
  return (
    <section className="panel data-quality" aria-labelledby="data-quality-title" data-testid="data-quality">
      <div className="panel-head">
        <h2 id="data-quality-title">Data by site</h2>
        <span className="muted small" data-testid="data-quality-count">
          {sites.length} of {enrolled} site{enrolled === 1 ? '' : 's'} sent their statistics · training records, aggregates only
        </span>
      </div>
      {quality.isError && (
        <p role="alert" className="error-text">
          Could not load the sites’ data: {quality.error.message}
        </p>
      )}
      {quality.isPending && <p className="loading">Loading the sites’ data…</p>}
      {quality.data && <QualityWarnings warnings={quality.data.warnings} />}
      {quality.data && (sites.length === 0 ? <p className="muted">No site has sent its statistics yet.</p> : <QualityTable quality={quality.data} />)}
    </section>
  );
}

function QualityWarnings({ warnings }: { warnings: DataQualityWarning[] }) {
  const [all, setAll] = useState(false);
  if (warnings.length === 0) return null;
  const shown = all ? warnings : warnings.slice(0, FIRST_ROWS);
  return (
    <div className="data-warning" data-testid="data-quality-warnings">
      <p id="data-warning-title">
        <strong>
          {warnings.length === 1 ? 'A feature is' : `${warnings.length.toLocaleString('en')} features are`} missing from most of a site’s records
        </strong>
      </p>
      <ul aria-labelledby="data-warning-title">
        {shown.map((w) => (
          <li key={`${w.participantId}:${w.feature}`} data-testid="data-quality-warning">
            {w.message}
          </li>
        ))}
      </ul>
      {warnings.length > FIRST_ROWS && <ShowAll all={all} total={warnings.length} noun="warnings" onToggle={() => setAll(!all)} />}
    </div>
  );
}

function QualityTable({ quality }: { quality: DataQuality }) {
  const [all, setAll] = useState(false);
  const { features, sites } = quality;
  const shown = all ? sites : sites.slice(0, FIRST_ROWS);
  return (
    <>
      <ScrollFrame label="Missing values by site and feature">
        <table data-testid="data-quality-table">
          <caption className="visually-hidden">Missing values by site and feature, as a share of each site’s training records</caption>
          <thead>
            <tr>
              <th scope="col">Hospital</th>
              <th scope="col" className="num">
                Records
              </th>
              {features.map((f) => (
                <th key={f.name} scope="col" className="num feature-col" title={f.name}>
                  {f.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => (
              <tr key={s.participantId} data-testid="data-quality-row" data-site={s.siteId}>
                <th scope="row">{s.siteName}</th>
                <td className="num">{s.rows.toLocaleString('en')}</td>
                {features.map((f) => {
                  const cell = qualityCell(s, f.name);
                  return (
                    <td key={f.name} className={`num${cell.mostlyMissing ? ' mostly-missing' : cell.none ? ' none' : ''}`} title={cell.title} data-feature={f.name}>
                      {cell.text}
                      {cell.mostlyMissing && <span className="visually-hidden"> (mostly missing)</span>}
                      {cell.flagged > 0 && (
                        <span className="out-of-range" data-testid="out-of-range">
                          {cell.flagged.toLocaleString('en')} out of range
                        </span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollFrame>
      <p className="muted small data-quality-legend">
        Each cell: the share of the site’s training records without a value, imputed when it trains; over 50 % is highlighted. “Out of range”:
        values outside the feature’s plausible range, kept and counted.
      </p>
      {sites.length > FIRST_ROWS && <ShowAll all={all} total={sites.length} noun="sites" onToggle={() => setAll(!all)} />}
    </>
  );
}

function ShowAll(props: { all: boolean; total: number; noun: string; onToggle: () => void }) {
  return (
    <button type="button" className="button small" onClick={props.onToggle} aria-expanded={props.all}>
      {props.all ? `Show the first ${FIRST_ROWS}` : `Show all ${props.total.toLocaleString('en')} ${props.noun}`}
    </button>
  );
}
