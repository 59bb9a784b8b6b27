import { z } from 'zod';
import type { WeightedUpdate } from './fedavg';
import { scaleTensors } from './vectors';

/**
 * Norm bounding before aggregation: every update longer than `factor × median norm of the round`
 * is scaled down to that length. Deriving the bound from the round itself needs no tuning per
 * model, and one client cannot move it far: the median ignores a few huge updates.
 */
export const normBoundOptionsSchema = z.strictObject({
  factor: z.number().positive().default(1),
});
export type NormBoundOptions = z.infer<typeof normBoundOptionsSchema>;

/** The median of the values (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface ClippedRound<U extends WeightedUpdate> {
  bound: number;
  /** Per update, in the given order: 1 for untouched ones, bound / norm for clipped ones. */
  scales: number[];
  /** The same updates, clipped ones replaced by scaled copies (the inputs are not modified). */
  updates: U[];
}

/** Clip `updates` (with their precomputed L2 `norms`, same order) to the round's bound. */
export function clipUpdates<U extends WeightedUpdate>(updates: readonly U[], norms: readonly number[], options: NormBoundOptions): ClippedRound<U> {
  const bound = options.factor * median(norms);
  const scales = norms.map((n) => (n > bound ? bound / n : 1));
  return {
    bound,
    scales,
    updates: updates.map((u, i) => (scales[i] < 1 ? { ...u, delta: scaleTensors(u.delta, scales[i]) } : u)),
  };
}

/** The `normBound` field every strategy's options carry: off unless a study turns it on. */
export const normBoundOption = normBoundOptionsSchema.nullable().default(null);
