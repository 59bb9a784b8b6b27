import type { VersionMetrics } from '../../shared/protocol';

export interface ConvergencePoint {
  round: number;
  loss: number | null;
  /** Percent, one decimal. */
  accuracy: number | null;
}

/**
 * One point per aggregated round: the version that round produced, as every reporting site
 * evaluated it. Version 0 (no round) is left out; rounds come in order whatever order they arrive in.
 */
export function toSeries(metrics: readonly VersionMetrics[]): ConvergencePoint[] {
  return metrics
    .filter((m): m is VersionMetrics & { round: number } => m.round !== null)
    .sort((a, b) => a.round - b.round)
    .map((m) => ({
      round: m.round,
      loss: m.loss,
      accuracy: m.accuracy === null ? null : Math.round(m.accuracy * 1000) / 10,
    }));
}
