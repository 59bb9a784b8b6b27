import { useId, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Dashboard } from '../../shared/protocol';
import { availableMetrics, buildConvergence, formatMetric, metricInfo, tickDigits, type ChartRow, type MetricKey } from './convergence';
import { useMetricSeries } from './useMetricSeries';

/** Site curves, told apart from one another and kept quieter than the pooled one. */
const SITE_COLOURS = ['#5b7fa8', '#b07a4f', '#8467a8', '#4f9a78', '#a8577a', '#8c8c3e', '#3e8c8c', '#a86b3e', '#6b6bb0', '#7a7a7a'];
/** Past this many sites the per-site curves start hidden (the admin can still show them). */
const SITES_SHOWN_BY_DEFAULT = 12;

/**
 * The model's convergence on any metric: the pooled value per version (round 0 is the initial model),
 * each site's own curve beside it, the majority-class baseline, and the best version marked, on a
 * labelled y axis scaled to what is drawn.
 */
export function ConvergenceChart({ dashboard }: { dashboard: Dashboard }) {
  const series = useMetricSeries(dashboard);
  const [picked, setPicked] = useState<MetricKey>('accuracy');
  const [sitesChoice, setSitesChoice] = useState<boolean | null>(null);
  const name = useId();

  if (series.isError)
    return (
      <p role="alert" className="error-text">
        Could not load the metrics: {series.error.message}
      </p>
    );
  const data = series.data;
  const options = availableMetrics(data?.kind ?? 'binary');
  const metric = options.some((m) => m.key === picked) ? picked : 'accuracy';
  const info = metricInfo(metric);
  const showSites = sitesChoice ?? (data?.sites.length ?? 0) <= SITES_SHOWN_BY_DEFAULT;
  const chart = data ? buildConvergence(data, metric, { sites: showSites }) : null;
  const drawn = chart?.rows.some((r) => r.pooled !== null || chart.sites.some((s) => r[s.key] != null)) ?? false;
  const digits = chart && chart.ticks.length > 1 ? tickDigits(metric, chart.ticks[1] - chart.ticks[0]) : 1;
  const tick = (v: number) => (info.unit === 'percent' ? `${(v * 100).toFixed(digits)}` : v.toFixed(digits));
  const axisLabel = info.unit === 'percent' ? `${info.label} (%)` : info.unit === 'nats' ? `${info.label} (nats)` : info.label;
  const latest = chart?.rows.filter((r) => r.pooled !== null).at(-1) ?? null;

  return (
    <div className="convergence">
      <div className="convergence-controls">
        <div className="segmented" role="radiogroup" aria-label="Metric">
          {options.map((m) => (
            <label key={m.key} title={m.help} className={m.key === metric ? 'checked' : undefined}>
              <input type="radio" name={name} value={m.key} checked={m.key === metric} onChange={() => setPicked(m.key)} />
              {m.label}
            </label>
          ))}
        </div>
        {data && data.sites.length > 0 && (
          <label className="check small">
            <input type="checkbox" checked={showSites} onChange={(e) => setSitesChoice(e.target.checked)} /> Each site ({data.sites.length})
          </label>
        )}
      </div>
      <div className="chart" data-testid="convergence-chart" data-points={chart?.rounds ?? 0} data-metric={metric} data-domain={chart?.domain.join(' ')}>
        {!chart ? (
          <p className="chart-empty muted" aria-busy="true">
            Loading the metrics…
          </p>
        ) : !drawn ? (
          <p className="chart-empty muted">The chart fills in as sites evaluate each model version.</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%" minHeight={280}>
            <LineChart data={chart.rows} margin={{ top: 12, right: 36, bottom: 8, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis
                dataKey="round"
                type="number"
                domain={[0, 'dataMax']}
                allowDecimals={false}
                tickLine={false}
                label={{ value: 'Round (0 = initial model)', position: 'insideBottom', offset: -4 }}
                height={40}
              />
              <YAxis
                type="number"
                domain={chart.domain}
                ticks={chart.ticks}
                allowDataOverflow
                tickLine={false}
                width={64}
                tickFormatter={tick}
                label={{ value: axisLabel, angle: -90, position: 'insideLeft', offset: 4, className: 'y-axis-label', style: { textAnchor: 'middle' } }}
              />
              <Tooltip
                formatter={(value) => (typeof value === 'number' ? formatMetric(metric, value) : String(value ?? '—'))}
                labelFormatter={(round, payload) => {
                  const row = payload?.[0]?.payload as ChartRow | undefined;
                  const what = row ? `v${row.version}` : '';
                  const head = round === 0 ? `Initial model (${what})` : `Round ${round} (${what})`;
                  return row?.oneClass ? `${head}: every prediction “${row.oneClass}”` : head;
                }}
              />
              {/* The pooled curve first, then the sites in the order the server lists them. */}
              <Legend verticalAlign="top" height={28} itemSorter={(item) => (item.dataKey === 'pooled' ? -1 : Number(String(item.dataKey).slice('site'.length)))} />
              {chart.baseline && (
                <ReferenceLine
                  y={chart.baseline.value}
                  stroke="var(--muted)"
                  strokeDasharray="6 4"
                  ifOverflow="extendDomain"
                  label={{ value: `${chart.baseline.label}: ${formatMetric(metric, chart.baseline.value)}`, position: 'insideBottomRight', fill: 'var(--ink-soft)', fontSize: 12 }}
                />
              )}
              {chart.sites.map((s, i) => (
                <Line
                  key={s.key}
                  type="linear"
                  dataKey={s.key}
                  name={s.name}
                  stroke={SITE_COLOURS[i % SITE_COLOURS.length]}
                  strokeOpacity={0.75}
                  strokeWidth={1.25}
                  strokeDasharray="4 3"
                  dot={{ r: 2 }}
                  isAnimationActive={false}
                  connectNulls
                />
              ))}
              <Line
                type="linear"
                dataKey="pooled"
                name="Pooled (all sites)"
                stroke={metric === 'loss' ? 'var(--series-loss)' : 'var(--series-accuracy)'}
                strokeWidth={3}
                dot={(props: { cx?: number; cy?: number; index?: number; payload?: ChartRow }) => {
                  const { cx, cy, index, payload } = props;
                  if (cx === undefined || cy === undefined || payload?.pooled == null) return <g key={`dot-${index}`} />;
                  // A version whose predictions all fell in one class: a hollow red dot.
                  return payload.oneClass ? (
                    <circle key={`dot-${index}`} cx={cx} cy={cy} r={5} fill="var(--surface)" stroke="var(--danger)" strokeWidth={2} />
                  ) : (
                    <circle key={`dot-${index}`} cx={cx} cy={cy} r={3.5} fill={metric === 'loss' ? 'var(--series-loss)' : 'var(--series-accuracy)'} />
                  );
                }}
                isAnimationActive={false}
                connectNulls
              />
              {chart.best && (
                <ReferenceDot
                  x={chart.best.round}
                  y={chart.best.value}
                  r={9}
                  fill="none"
                  stroke="var(--ink)"
                  strokeWidth={2}
                  ifOverflow="extendDomain"
                  // Beside the dot at the first round, where above it would run into the y axis.
                  label={{ value: `Best v${chart.best.version}`, position: chart.best.round === chart.rows[0]?.round ? 'right' : 'top', fill: 'var(--ink)', fontSize: 12, fontWeight: 600 }}
                />
              )}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
      {chart && drawn && (
        <p className="convergence-summary muted small" data-testid="convergence-summary">
          {chart.best && (
            <span data-testid="convergence-best">
              Best {info.label}: <strong>v{chart.best.version}</strong>
              {chart.best.round === 0 ? ' (initial model)' : ` (round ${chart.best.round})`}, {formatMetric(metric, chart.best.value)}
            </span>
          )}
          {latest && (
            <span>
              Latest: v{latest.version}, {formatMetric(metric, latest.pooled)}
            </span>
          )}
          {chart.baseline && (
            <span>
              {chart.baseline.label}: {formatMetric(metric, chart.baseline.value)}
            </span>
          )}
          {chart.rows.some((r) => r.oneClass) && <span className="one-class-key">Hollow red dots: every prediction in one class</span>}
        </p>
      )}
    </div>
  );
}
