import { z } from 'zod';
import { normBoundOption } from './normBound';
import { defineStrategy, sampleWeights, type Strategy } from './strategy';
import { addScaled, byParticipant } from './vectors';

export interface WeightedUpdate {
  participantId: string;
  numSamples: number;
  delta: Float32Array[];
}

/**
 * `Σ nᵢ·Δᵢ / Σ nᵢ` in float64, accumulated in participant-id order so the result does not depend
 * on arrival order.
 */
export function weightedMeanDelta(global: readonly Float32Array[], updates: readonly WeightedUpdate[]): Float64Array[] {
  if (updates.length === 0) throw new Error('fedAvg needs at least one update');
  const ordered = byParticipant(updates);
  const total = ordered.reduce((s, u) => s + u.numSamples, 0);
  if (!(total > 0)) throw new Error('fedAvg needs a positive total sample count');
  return global.map((g, t) => {
    const acc = new Float64Array(g.length);
    for (const u of ordered) {
      const d = u.delta[t];
      if (!d || d.length !== g.length) throw new Error(`update from ${u.participantId}: tensor ${t} has the wrong length`);
      const w = u.numSamples / total;
      for (let i = 0; i < acc.length; i++) acc[i] += w * d[i];
    }
    return acc;
  });
}

/**
 * FedAvg (McMahan et al. 2017) on deltas: `global + Σ nᵢ·Δᵢ / Σ nᵢ`.
 * Sums run in float64 in participant-id order, so the result does not depend on arrival order
 * and a replayed round reproduces the same model bit for bit.
 */
export function fedAvg(global: readonly Float32Array[], updates: readonly WeightedUpdate[]): Float32Array[] {
  const mean = weightedMeanDelta(global, updates);
  return global.map((g, t) => {
    const acc = mean[t];
    const out = new Float32Array(g.length);
    for (let i = 0; i < out.length; i++) out[i] = g[i] + acc[i];
    return out;
  });
}

export const fedAvgOptionsSchema = z.strictObject({ normBound: normBoundOption });
export type FedAvgOptions = z.input<typeof fedAvgOptionsSchema>;

/** FedAvg as a `Strategy`: the same bits as `fedAvg`, plus the per-update report. */
export function fedAvgStrategy(options: FedAvgOptions = {}): Strategy {
  const o = fedAvgOptionsSchema.parse(options);
  return defineStrategy({
    name: 'fedavg',
    minUpdates: 1,
    weighted: true,
    normBound: o.normBound,
    rule(base, ordered) {
      const mean = weightedMeanDelta(base, ordered);
      return { weights: addScaled(base, mean), aggregate: mean, state: null, weight: sampleWeights(ordered) };
    },
  });
}
