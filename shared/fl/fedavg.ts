import { z } from 'zod';
import { WeightedMeanAccumulator } from './meanAccumulator';
import { defineMeanStrategy } from './meanStrategy';
import { normBoundOption } from './normBound';
import type { Strategy } from './strategy';
import { addStep } from './sums';
import { byParticipant } from './vectors';

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
  for (const u of ordered)
    global.forEach((g, t) => {
      if (!u.delta[t] || u.delta[t].length !== g.length) throw new Error(`update from ${u.participantId}: tensor ${t} has the wrong length`);
    });
  const acc = new WeightedMeanAccumulator(
    global.map((g) => g.length),
    total,
  );
  acc.addAll(
    ordered.map((u) => u.numSamples),
    ordered.map((u) => u.delta.slice(0, global.length)),
  );
  return acc.sum;
}

/**
 * FedAvg (McMahan et al. 2017) on deltas: `global + Σ nᵢ·Δᵢ / Σ nᵢ`.
 * Sums run in float64 in participant-id order, so the result does not depend on arrival order
 * and a replayed round reproduces the same model bit for bit.
 */
export function fedAvg(global: readonly Float32Array[], updates: readonly WeightedUpdate[]): Float32Array[] {
  return addStep(global, weightedMeanDelta(global, updates));
}

export const fedAvgOptionsSchema = z.strictObject({ normBound: normBoundOption });
export type FedAvgOptions = z.input<typeof fedAvgOptionsSchema>;

/** FedAvg as a `Strategy`: the same bits as `fedAvg`, plus the per-update report. */
export function fedAvgStrategy(options: FedAvgOptions = {}): Strategy {
  const o = fedAvgOptionsSchema.parse(options);
  return defineMeanStrategy({
    name: 'fedavg',
    normBound: o.normBound,
    step: (base, mean) => ({ weights: addStep(base, mean), state: null }),
  });
}
