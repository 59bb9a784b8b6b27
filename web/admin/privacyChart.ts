import type { PrivacyStatus } from '../../shared/protocol';
import type { MetricSeries } from '../../shared/protocol/metricSeries';

export interface PrivacyChartData {
  /** ε spent after each released round, from round 0 (nothing spent). */
  rows: { round: number; epsilon: number }[];
  lastRound: number;
  /** The y axis' top: the budget or the most spent, with room above. */
  top: number;
  /** The y axis' ticks, evenly spaced from 0 to `top` (left to itself, the axis can space its last one apart). */
  ticks: number[];
  /** What the study has spent now (the live status, else the series' last point); rounds null when only the series is known. */
  current: { epsilon: number; budget: number; delta: number; rounds: number | null };
}

/**
 * The privacy chart's rows and figures, or null for a study without privacy. The live status counts
 * every opened round (an open round has spent already); the series only released ones.
 */
export function privacyChart(series: MetricSeries['privacy'] | null, status: PrivacyStatus | null, budget: number | null): PrivacyChartData | null {
  if (!series && !status) return null;
  const points = [...(series?.points ?? [])].sort((a, b) => a.round - b.round);
  const rows = [{ round: 0, epsilon: 0 }, ...points.map((p) => ({ round: p.round, epsilon: p.epsilon }))];
  const last = rows[rows.length - 1];
  const current = status
    ? { epsilon: status.epsilon, budget: status.budget, delta: status.delta, rounds: status.rounds }
    : { epsilon: last.epsilon, budget: series?.budget ?? budget ?? 0, delta: series?.delta ?? 0, rounds: null };
  const most = Math.max(current.budget, current.epsilon, ...rows.map((r) => r.epsilon));
  const top = niceTop(most * 1.1);
  return { rows, lastRound: Math.max(1, last.round), top, ticks: evenTicks(top), current };
}

/** 0 to `top` in at most 5 equal steps of 1, 2, 2.5, 3, 4 or 5 times a power of ten (`top` is one of niceTop's). */
export function evenTicks(top: number): number[] {
  const power = 10 ** Math.floor(Math.log10(top / 5));
  // 1, 2, 2.5 and 5 read best; 3 and 4 only where none of them divides the top (12, 1.2).
  for (const m of [1, 2, 2.5, 5, 10, 20, 25, 50, 100, 3, 4, 30, 40]) {
    const step = m * power;
    const n = Math.round(top / step);
    if (n <= 5 && Math.abs(n * step - top) < 1e-9 * top) return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
  }
  return [0, top];
}

/** A round number at or above x for the axis' top: 1, 2 or 5 times a power of ten, or a multiple of one. */
function niceTop(x: number): number {
  if (!(x > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * step >= x) return Number((m * step).toPrecision(3));
  return 10 * step;
}
