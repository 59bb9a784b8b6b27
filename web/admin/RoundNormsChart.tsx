import { CartesianGrid, ComposedChart, Legend, ReferenceLine, ResponsiveContainer, Scatter, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import type { RoundDetail } from '../../shared/protocol/roundDetail';
import { axisNumber, fmt, normChart, type NormPoint, type NormStatus } from './roundDetail';

const SERIES: { key: NormStatus; name: string; fill: string; shape: 'circle' | 'triangle' | 'diamond' | 'cross' }[] = [
  { key: 'within', name: 'within the bound', fill: 'var(--accent)', shape: 'circle' },
  { key: 'clipped', name: 'clipped to the bound', fill: 'var(--warn)', shape: 'triangle' },
  { key: 'passedOver', name: 'not selected (Krum)', fill: 'var(--muted)', shape: 'diamond' },
  { key: 'refused', name: 'refused', fill: 'var(--danger)', shape: 'cross' },
];

/** Each update's L2 norm as received, against the round's clipping bound (and refusal limit). */
export function RoundNormsChart({ detail }: { detail: RoundDetail }) {
  const c = normChart(detail);
  const present = SERIES.filter((s) => c.points.some((p) => p.status === s.key && p.norm !== null));
  const ticks = c.scale === 'log' ? powersOfTen(c.domain) : undefined;
  // Labels angled when they would not fit side by side (about 7 px a character, on a plot about 900 px wide).
  const longest = Math.max(0, ...c.points.map((p) => p.name.length));
  const crowded = c.points.length * longest * 7 > 900;
  const unplotted = c.points.filter((p) => p.norm === null);
  return (
    <figure className="round-norms" aria-labelledby={`round-${detail.round}-norms-title`}>
      <figcaption id={`round-${detail.round}-norms-title`} className="rd-subtitle">
        Update norms against the bound{' '}
        <span className="muted small">
          {c.clipNorm !== null ? `clipping bound ${fmt(c.clipNorm)} (${detail.bounds.clipMode ?? 'clipping'})` : 'no clipping bound'}
          {c.maxNormOffChart && ` · refusal limit ${fmt(detail.bounds.maxNorm)}, above the chart`}
          {c.scale === 'log' && ' · logarithmic scale'}
        </span>
      </figcaption>
      <div className="chart rd-chart" data-testid="round-norms-chart" data-points={c.points.length} data-scale={c.scale} style={crowded ? { height: 380 } : undefined}>
        {c.points.length === 0 ? (
          <p className="chart-empty muted">No update has arrived in this round yet.</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%" minHeight={260}>
            <ComposedChart data={c.points} margin={{ top: 8, right: 24, bottom: crowded ? 24 : 8, left: crowded ? 40 : 8 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis
                dataKey="name"
                type="category"
                // One band per update, each point in the middle of its own: none sits on the chart's edge.
                scale="band"
                interval={0}
                tickLine={false}
                angle={crowded ? -30 : 0}
                textAnchor={crowded ? 'end' : 'middle'}
                height={crowded ? Math.min(150, 36 + longest * 3.6) : 44}
                label={{ value: 'Update (site)', position: 'insideBottom', offset: crowded ? -20 : -2 }}
              />
              <YAxis
                scale={c.scale}
                domain={c.domain}
                ticks={ticks}
                allowDataOverflow
                tickLine={false}
                width={72}
                tickFormatter={axisNumber}
                label={{ value: c.scale === 'log' ? 'L2 norm (log)' : 'L2 norm', angle: -90, position: 'insideLeft', offset: 4, style: { textAnchor: 'middle' } }}
              />
              {/* Every point one size (its area in px²): big enough to tell the shapes apart. */}
              <ZAxis range={[120, 120]} />
              <Tooltip content={<NormTooltip />} />
              <Legend verticalAlign="top" height={28} itemSorter={(item) => SERIES.findIndex((s) => s.name === item.value)} />
              {c.clipNorm !== null && (
                <ReferenceLine
                  y={c.clipNorm}
                  stroke="var(--warn)"
                  strokeDasharray="6 4"
                  strokeWidth={1.5}
                  ifOverflow="extendDomain"
                  label={{ value: `clipping bound ${fmt(c.clipNorm)}`, position: 'insideTopRight', fill: 'var(--warn)', fontSize: 12 }}
                />
              )}
              {c.maxNorm !== null && (
                <ReferenceLine
                  y={c.maxNorm}
                  stroke="var(--danger)"
                  strokeDasharray="2 3"
                  strokeWidth={1.5}
                  label={{ value: `refusal limit ${fmt(c.maxNorm)}`, position: 'insideTopRight', fill: 'var(--danger)', fontSize: 12 }}
                />
              )}
              {present.map((s) => (
                <Scatter key={s.key} name={s.name} dataKey={s.key} fill={s.fill} shape={s.shape} legendType={s.shape} isAnimationActive={false} />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
      {unplotted.length > 0 && (
        <p className="muted small">Refused before a norm was measured, so not on the chart: {unplotted.map((p) => `${p.siteName} (${p.detail.replace(/^refused: /, '')})`).join(', ')}.</p>
      )}
    </figure>
  );
}

function NormTooltip({ active, payload }: { active?: boolean; payload?: readonly { payload?: NormPoint }[] }) {
  const p = active ? payload?.[0]?.payload : undefined;
  if (!p) return null;
  return (
    <div className="rd-tooltip">
      <strong>{p.name}</strong>
      <br />
      {p.detail}
    </div>
  );
}

function powersOfTen([lo, hi]: [number, number]): number[] {
  const out: number[] = [];
  for (let e = Math.round(Math.log10(lo)); e <= Math.round(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}
