import { median } from './normBound';
import type { StrategyConfig } from './registry';

/**
 * What a round checks, clips and sums every update by, fixed when the round opens: each update can
 * then be folded into the round's sum the moment it is accepted, and a replayed or crashed round
 * folds the same updates the same way.
 */
export interface RoundBounds {
  /** Updates longer than this (L2) are scaled down to it; null: no clipping in this round. */
  clipNorm: number | null;
  /** Updates longer than this are refused (the study's maxUpdateNorm); null: no limit. */
  maxNorm: number | null;
  /** Largest |value| an update may carry after clipping: the fixed-point sum's range. */
  valueBound: number;
  /** Largest weight (sample count × straggler weight) one update may carry. */
  maxWeight: number;
  /** Every weighted value is rounded to a multiple of 2^-scaleBits before it is summed (exactly). */
  scaleBits: number;
}

/**
 * Without a norm bound, an update value beyond ±1024 is refused: no trained network's weight moves
 * that far in one round, and an unbounded range would leave the fixed-point sum no precision.
 */
export const DEFAULT_VALUE_BOUND = 1024;
/** The most samples an update may declare (the upload schema's limit). */
export const MAX_UPDATE_SAMPLES = 100_000_000;

export interface BoundsInput {
  strategy: StrategyConfig;
  normBoundFactor: number | null;
  maxUpdateNorm: number | null;
}

/** The clipping factor a study sets, in either place it can be set. */
export function clipFactor(config: BoundsInput): number | null {
  const strategyBound = (config.strategy.options as { normBound?: { factor: number } | null }).normBound ?? null;
  return config.normBoundFactor ?? strategyBound?.factor ?? null;
}

/**
 * A round's bounds. A clipping factor applies to the median norm of the previous round's updates
 * (`previousNorms`); the first round, having none, clips nothing and is bounded by `maxUpdateNorm`
 * and the value range alone.
 */
export function roundBounds(config: BoundsInput, previousNorms: readonly number[]): RoundBounds {
  const factor = clipFactor(config);
  const reference = previousNorms.filter((n) => Number.isFinite(n) && n > 0);
  const clipNorm = factor !== null && reference.length > 0 ? factor * median(reference) : null;
  const maxNorm = config.maxUpdateNorm;
  const valueBound = Math.min(clipNorm ?? Infinity, maxNorm ?? Infinity, DEFAULT_VALUE_BOUND);
  return { clipNorm, maxNorm, valueBound, maxWeight: MAX_UPDATE_SAMPLES, scaleBits: scaleBitsFor(MAX_UPDATE_SAMPLES, valueBound) };
}

/**
 * The finest scale at which every weighted value stays below 2^61 in magnitude (see FixedPointSum):
 * weight × value × 2^scaleBits ≤ 2^61, with a bit to spare for the clip's last rounding.
 */
export function scaleBitsFor(maxWeight: number, valueBound: number): number {
  return Math.min(80, 60 - Math.ceil(Math.log2(maxWeight * valueBound)));
}
