import { z } from 'zod';
import { coordinateTrimmedMean } from './coordinateWise';
import { normBoundOption } from './normBound';
import { defineStrategy, type Strategy } from './strategy';
import { addStep } from './sums';

/**
 * Coordinate-wise trimmed mean (Yin et al. 2018): for each parameter, drop the ⌊β·n⌋ largest and
 * ⌊β·n⌋ smallest values and average the rest (unweighted, like the median).
 */
export const trimmedMeanOptionsSchema = z.strictObject({
  normBound: normBoundOption,
  /** β: the fraction dropped at each end, below one half. */
  trimFraction: z.number().min(0).lt(0.5).default(0.2),
});
export type TrimmedMeanOptions = z.input<typeof trimmedMeanOptionsSchema>;

/** How many values a trimmed mean drops at each end for n updates. */
export function trimmedPerSide(n: number, trimFraction: number): number {
  return Math.floor(trimFraction * n + 1e-9);
}

export function trimmedMeanStrategy(options: TrimmedMeanOptions = {}): Strategy {
  const o = trimmedMeanOptionsSchema.parse(options);
  return defineStrategy({
    name: 'trimmed-mean',
    minUpdates: 1,
    weighted: false,
    normBound: o.normBound,
    rule(base, ordered) {
      const n = ordered.length;
      const k = trimmedPerSide(n, o.trimFraction);
      const kept = n - 2 * k;
      const agg = coordinateTrimmedMean(base, ordered, k);
      return { weights: addStep(base, agg), aggregate: agg, state: null, details: { trimmedPerSide: k, kept } };
    },
  });
}
