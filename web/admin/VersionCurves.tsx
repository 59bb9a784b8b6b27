import { useId, useState } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import type { VersionEvaluation } from '../../shared/protocol';
import { fixed } from '../format';
import { ConfusionMatrixFigure, SiteFlag, SiteSelect } from './ConfusionMatrix';
import {
  aurocNote,
  figuresOf,
  POOLED,
  reliabilityAxes,
  reliabilityBins,
  reliabilityCaption,
  reliabilityKinds,
  reliabilityPoints,
  rocCaption,
  rocClasses,
  rocLegendLabel,
  rocSeries,
  type ReliabilityKind,
  type RocSeries,
} from './versionCurves';

/** Site curves, told apart from one another and kept quieter than the pooled one (as on the convergence chart). */
const SITE_COLOURS = ['#5b7fa8', '#b07a4f', '#8467a8', '#4f9a78', '#a8577a', '#8c8c3e', '#3e8c8c', '#a86b3e', '#6b6bb0', '#7a7a7a'];
/** Past this many sites their ROC curves start hidden (the admin can still show them). */
const SITES_SHOWN_BY_DEFAULT = 12;
const POOLED_COLOUR = 'var(--brand-fg)';
const UNIT_TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];
const DIAGONAL = [
  { x: 0, y: 0 },
  { x: 1, y: 1 },
] as const;
const tick = (v: number) => v.toFixed(1);

/**
 * A version's ROC curve, reliability diagram and confusion matrix, pooled and per site, three across
 * on a wide screen. `classNames` by class index (binary: the negative, then the positive label).
 */
export function VersionFigures({ evaluation, classNames }: { evaluation: VersionEvaluation; classNames: readonly string[] }) {
  if (!evaluation.global && evaluation.sites.every((s) => !s.clinical)) return null;
  return (
    <div className="version-figures" data-testid="version-figures">
      <RocFigure evaluation={evaluation} classNames={classNames} />
      <ReliabilityFigure evaluation={evaluation} classNames={classNames} />
      <ConfusionMatrixFigure evaluation={evaluation} classNames={classNames} />
    </div>
  );
}

function RocFigure({ evaluation, classNames }: { evaluation: VersionEvaluation; classNames: readonly string[] }) {
  const id = useId();
  const classes = rocClasses(evaluation);
  const multi = classes.length > 1 || classes[0] !== 1;
  const [pickedClass, setPickedClass] = useState(classes[classes.length - 1]);
  const positiveClass = classes.includes(pickedClass) ? pickedClass : classes[classes.length - 1];
  const [sitesChoice, setSitesChoice] = useState<boolean | null>(null);
  const showSites = sitesChoice ?? evaluation.sites.length <= SITES_SHOWN_BY_DEFAULT;
  const { pooled, sites } = rocSeries(evaluation, positiveClass);
  const caption = rocCaption(evaluation, positiveClass, classNames);
  const note = aurocNote(evaluation);
  const colour = (i: number) => SITE_COLOURS[i % SITE_COLOURS.length];
  const drawn = pooled.points.length > 0 || (showSites && sites.some((s) => s.points.length > 0));
  return (
    <figure className="version-figure" data-testid="roc-chart" aria-labelledby={`${id}-caption`}>
      <div className="figure-head">
        <div className="figure-title-row">
          <h3>ROC curve</h3>
          {sites.length > 0 && (
            <label className="check small">
              <input type="checkbox" checked={showSites} onChange={(e) => setSitesChoice(e.target.checked)} /> Each site
            </label>
          )}
        </div>
        {multi && (
          <label className="figure-select small" htmlFor={`${id}-class`}>
            <span className="figure-sr-only">Class against the rest</span>
            <select id={`${id}-class`} value={positiveClass} onChange={(e) => setPickedClass(Number(e.target.value))}>
              {classes.map((k) => (
                <option key={k} value={k}>
                  {classNames[k] ?? `class ${k}`} vs rest
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <div className="figure-chart" role="img" aria-label={caption}>
        {!drawn ? (
          <p className="chart-empty muted small">No ROC curve to draw: {pooled.note ?? 'no score histograms'}.</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%" minWidth={0}>
            <LineChart margin={{ top: 8, right: 12, bottom: 8, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis
                type="number"
                dataKey="fpr"
                domain={[0, 1]}
                ticks={UNIT_TICKS}
                tickFormatter={tick}
                allowDataOverflow
                tickLine={false}
                height={40}
                label={{ value: 'False positive rate', position: 'insideBottom', offset: -2 }}
              />
              <YAxis
                type="number"
                dataKey="tpr"
                domain={[0, 1]}
                ticks={UNIT_TICKS}
                tickFormatter={tick}
                allowDataOverflow
                tickLine={false}
                width={52}
                label={{ value: 'True positive rate', angle: -90, position: 'insideLeft', offset: 10, style: { textAnchor: 'middle' } }}
              />
              <ReferenceLine segment={DIAGONAL} stroke="var(--muted)" strokeDasharray="6 4" ifOverflow="hidden" />
              {showSites &&
                sites.map((s, i) =>
                  s.points.length ? (
                    <Line
                      key={s.key}
                      data={s.points}
                      dataKey="tpr"
                      name={s.name}
                      type="linear"
                      stroke={colour(i)}
                      strokeWidth={1.25}
                      strokeOpacity={0.85}
                      strokeDasharray={s.leftOut ? '3 3' : undefined}
                      dot={false}
                      activeDot={false}
                      isAnimationActive={false}
                    />
                  ) : null,
                )}
              {pooled.points.length > 0 && (
                <Line data={pooled.points} dataKey="tpr" name={pooled.name} type="linear" stroke={POOLED_COLOUR} strokeWidth={3} dot={false} activeDot={false} isAnimationActive={false} />
              )}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
      <ul className="curve-legend small" data-testid="roc-legend">
        <LegendEntry series={pooled} colour={POOLED_COLOUR} />
        {showSites && sites.map((s, i) => <LegendEntry key={s.key} series={s} colour={colour(i)} />)}
        <li className="muted">
          <span className="swatch diagonal" aria-hidden="true" /> Chance (AUROC 0.5)
        </li>
      </ul>
      {note && (
        <p className="figure-note small" data-testid="auroc-note">
          {note}
        </p>
      )}
      <figcaption id={`${id}-caption`} className="small muted">
        {caption}.
      </figcaption>
    </figure>
  );
}

function LegendEntry({ series, colour }: { series: RocSeries; colour: string }) {
  return (
    <li className={series.pooled ? 'pooled' : series.leftOut ? 'left-out' : undefined} data-testid="roc-legend-entry">
      <span
        className={`swatch${series.pooled ? ' bold' : ''}${series.leftOut ? ' dashed' : ''}`}
        style={{ borderColor: series.points.length ? colour : 'var(--line)' }}
        aria-hidden="true"
      />
      {rocLegendLabel(series)}
    </li>
  );
}

const KIND_LABEL: Record<ReliabilityKind, string> = { risk: 'Risk', 'top-label': 'Top-label' };

function ReliabilityFigure({ evaluation, classNames }: { evaluation: VersionEvaluation; classNames: readonly string[] }) {
  const id = useId();
  const [picked, setPicked] = useState(POOLED);
  const [kindChoice, setKindChoice] = useState<ReliabilityKind>('risk');
  const { whose, site, curves } = figuresOf(evaluation, picked);
  const kinds = reliabilityKinds(curves);
  const kind = kinds.includes(kindChoice) ? kindChoice : (kinds[0] ?? 'top-label');
  const points = reliabilityPoints(reliabilityBins(curves, kind));
  // Beside a site's points, the pooled ones in grey, for comparison.
  const pooledPoints = site ? reliabilityPoints(reliabilityBins(evaluation.curves, kind)) : [];
  const positiveName = classNames[1] ?? 'label 1';
  const axes = reliabilityAxes(kind, positiveName);
  const caption = reliabilityCaption(points, whose, kind);
  const maxCount = Math.max(1, ...points.map((p) => p.count));
  const maxPooled = Math.max(1, ...pooledPoints.map((p) => p.count));
  return (
    <figure className="version-figure" data-testid="reliability-diagram" aria-labelledby={`${id}-caption`}>
      <div className="figure-head">
        <div className="figure-title-row">
          <h3>Reliability</h3>
          {kinds.length > 1 && (
            <div className="segmented" role="radiogroup" aria-label="Which probability">
              {kinds.map((k) => (
                <label
                  key={k}
                  className={k === kind ? 'checked' : undefined}
                  title={k === 'risk' ? `The predicted probability of “${positiveName}”` : 'The probability of the predicted class, against the share predicted right'}
                >
                  <input type="radio" name={`${id}-kind`} value={k} checked={k === kind} onChange={() => setKindChoice(k)} />
                  {KIND_LABEL[k]}
                </label>
              ))}
            </div>
          )}
        </div>
        <SiteSelect id={`${id}-site`} evaluation={evaluation} value={picked} onChange={setPicked} />
      </div>
      {site && <SiteFlag site={site} />}
      <div className="figure-chart" role="img" aria-label={caption}>
        {points.length === 0 ? (
          <p className="chart-empty muted small">No reliability diagram: {whose} has no samples.</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%" minWidth={0}>
            <ScatterChart margin={{ top: 8, right: 12, bottom: 8, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis
                type="number"
                dataKey="predicted"
                name="Mean predicted"
                domain={[0, 1]}
                ticks={UNIT_TICKS}
                tickFormatter={tick}
                allowDataOverflow
                tickLine={false}
                height={40}
                label={{ value: axes.x, position: 'insideBottom', offset: -2 }}
              />
              <YAxis
                type="number"
                dataKey="observed"
                name="Observed"
                domain={[0, 1]}
                ticks={UNIT_TICKS}
                tickFormatter={tick}
                allowDataOverflow
                tickLine={false}
                width={52}
                label={{ value: axes.y, angle: -90, position: 'insideLeft', offset: 10, style: { textAnchor: 'middle' } }}
              />
              <ZAxis zAxisId="site" type="number" dataKey="count" name="Samples" domain={[0, maxCount]} range={[16, 360]} />
              <ZAxis zAxisId="pooled" type="number" dataKey="count" name="Samples" domain={[0, maxPooled]} range={[16, 360]} />
              <ReferenceLine segment={DIAGONAL} stroke="var(--muted)" strokeDasharray="6 4" ifOverflow="hidden" />
              <Tooltip
                cursor={{ strokeDasharray: '3 3' }}
                formatter={(value, name) => (typeof value === 'number' ? (name === 'Samples' ? String(value) : fixed(value, 3)) : String(value ?? '—'))}
              />
              {site && pooledPoints.length > 0 && (
                <Scatter zAxisId="pooled" name="Pooled" data={pooledPoints} fill="var(--muted)" fillOpacity={0.3} line={{ stroke: 'var(--muted)', strokeOpacity: 0.4 }} isAnimationActive={false} />
              )}
              <Scatter
                zAxisId="site"
                name={whose}
                data={points}
                fill={site ? 'var(--info)' : 'var(--series-accuracy)'}
                fillOpacity={0.75}
                stroke="var(--surface)"
                line={{ stroke: site ? 'var(--info)' : 'var(--series-accuracy)', strokeWidth: 1.5 }}
                isAnimationActive={false}
              />
            </ScatterChart>
          </ResponsiveContainer>
        )}
      </div>
      <ul className="curve-legend small">
        <li>
          <span className="dot" style={{ background: site ? 'var(--info)' : 'var(--series-accuracy)' }} aria-hidden="true" /> {site ? whose : 'Pooled'}: one
          point per bin, its area by the samples in it
        </li>
        {site && pooledPoints.length > 0 && (
          <li className="muted">
            <span className="dot" style={{ background: 'var(--muted)', opacity: 0.4 }} aria-hidden="true" /> Pooled, for comparison
          </li>
        )}
        <li className="muted">
          <span className="swatch diagonal" aria-hidden="true" /> Perfect calibration
        </li>
      </ul>
      <figcaption id={`${id}-caption`} className="small muted">
        {caption}.
      </figcaption>
    </figure>
  );
}
