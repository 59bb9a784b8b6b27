import { z } from 'zod';
import { coordinateMedian } from './coordinateWise';
import { normBoundOption } from './normBound';
import { defineStrategy, type Strategy } from './strategy';
import { addStep } from './sums';

/**
 * Coordinate-wise median (Yin et al. 2018): each parameter moves by the median of the updates'
 * values for it (the mean of the two middle ones for an even count). Sample counts are ignored,
 * since a hostile client could claim any count.
 */
export const medianOptionsSchema = z.strictObject({ normBound: normBoundOption });
export type MedianOptions = z.input<typeof medianOptionsSchema>;

export function medianStrategy(options: MedianOptions = {}): Strategy {
  const o = medianOptionsSchema.parse(options);
  return defineStrategy({
    name: 'median',
    minUpdates: 1,
    weighted: false,
    normBound: o.normBound,
    rule(base, ordered) {
      const agg = coordinateMedian(base, ordered);
      return { weights: addStep(base, agg), aggregate: agg, state: null };
    },
  });
}
