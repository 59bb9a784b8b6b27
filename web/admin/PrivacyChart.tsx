import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Dashboard } from '../../shared/protocol';
import { budgetStopText, epsilon, spentOfBudget, stoppedByBudget } from '../privacyFormat';
import { privacyChart } from './privacyChart';
import { useMetricSeries } from './useMetricSeries';

/**
 * A differentially private study's spent ε against rounds, with its budget dashed across: how much
 * of the budget is gone and how fast. The figure in words above it is the study's live status.
 */
export function PrivacyChart({ dashboard }: { dashboard: Dashboard }) {
  const series = useMetricSeries(dashboard);
  const { study } = dashboard;
  const privacy = series.data?.privacy ?? null;
  const chart = privacyChart(privacy, study.privacy, study.config.privacy?.epsilonBudget ?? null);
  if (!chart) return null;
  const stopped = stoppedByBudget(study.status, study.privacy);
  return (
    <section className="panel privacy-panel" aria-labelledby="privacy-title">
      <div className="panel-head">
        <h2 id="privacy-title">Privacy spent (ε)</h2>
        <span className="muted small">Site-level, by the Rényi accountant</span>
      </div>
      <p className={`privacy-spent${stopped ? ' stopped' : ''}`} data-testid="privacy-spent" data-epsilon={chart.current.epsilon} data-budget={chart.current.budget}>
        {stopped ? budgetStopText(chart.current) : spentOfBudget(chart.current)}
        {chart.current.rounds !== null && (
          <span className="muted small">
            {' '}
            · {chart.current.rounds} {chart.current.rounds === 1 ? 'round' : 'rounds'}
          </span>
        )}
      </p>
      {series.isError ? (
        <p role="alert" className="error-text">
          Could not load the privacy series: {series.error.message}
        </p>
      ) : (
        <div className="chart privacy-chart" data-testid="privacy-chart" data-points={chart.rows.length - 1} role="img" aria-label={`Privacy spent: ${spentOfBudget(chart.current)}`}>
          <ResponsiveContainer width="100%" height="100%" minHeight={220}>
            <LineChart data={chart.rows} margin={{ top: 12, right: 16, bottom: 8, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis
                dataKey="round"
                type="number"
                domain={[0, chart.lastRound]}
                allowDecimals={false}
                tickLine={false}
                label={{ value: 'Round', position: 'insideBottom', offset: -4 }}
                height={40}
              />
              <YAxis
                type="number"
                domain={[0, chart.top]}
                ticks={chart.ticks}
                tickLine={false}
                width={48}
                tickFormatter={(v: number) => epsilon(v)}
                label={{ value: 'ε spent', angle: -90, position: 'insideLeft', offset: 10, style: { textAnchor: 'middle' } }}
              />
              <Tooltip formatter={(v) => (typeof v === 'number' ? `ε ${epsilon(v)}` : String(v))} labelFormatter={(r) => `Round ${r}`} />
              <ReferenceLine
                y={chart.current.budget}
                stroke="var(--danger)"
                strokeDasharray="6 4"
                strokeWidth={1.5}
                // Above the line at the left, where the curve (from ε 0) never is.
                label={{ value: `budget ε ${epsilon(chart.current.budget)}`, position: 'insideBottomLeft', fill: 'var(--danger)', fontSize: 12 }}
              />
              <Line type="linear" dataKey="epsilon" name="ε spent" stroke="var(--series-accuracy)" strokeWidth={2.5} dot={{ r: 3 }} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </section>
  );
}
