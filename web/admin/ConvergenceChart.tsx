import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { VersionMetrics } from '../../shared/protocol';
import { toSeries } from './convergence';

export function ConvergenceChart({ metrics }: { metrics: VersionMetrics[] }) {
  const data = toSeries(metrics);
  return (
    <div className="chart" data-testid="convergence-chart" data-points={data.length}>
      {data.length === 0 ? (
        <p className="chart-empty muted">The chart fills in as sites evaluate each new model version.</p>
      ) : (
        <ResponsiveContainer width="100%" height="100%" minHeight={280}>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis
              dataKey="round"
              type="number"
              domain={[1, 'dataMax']}
              allowDecimals={false}
              tickLine={false}
              label={{ value: 'Round', position: 'insideBottom', offset: -4 }}
              height={40}
            />
            <YAxis yAxisId="loss" orientation="left" tickLine={false} width={56} domain={[0, 'auto']} tickFormatter={(v: number) => v.toFixed(2)} />
            <YAxis yAxisId="accuracy" orientation="right" tickLine={false} width={48} domain={[0, 100]} unit="%" />
            <Tooltip
              formatter={(value, name) =>
                typeof value === 'number' ? (name === 'Accuracy' ? `${value.toFixed(1)}%` : value.toFixed(4)) : String(value)
              }
              labelFormatter={(round) => `Round ${round}`}
            />
            <Legend verticalAlign="top" height={28} />
            <Line
              yAxisId="loss"
              type="monotone"
              dataKey="loss"
              name="Validation loss"
              stroke="var(--series-loss)"
              strokeWidth={2}
              dot={{ r: 3 }}
              isAnimationActive={false}
              connectNulls
            />
            <Line
              yAxisId="accuracy"
              type="monotone"
              dataKey="accuracy"
              name="Accuracy"
              stroke="var(--series-accuracy)"
              strokeWidth={2}
              dot={{ r: 3 }}
              isAnimationActive={false}
              connectNulls
            />
          </LineChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}
