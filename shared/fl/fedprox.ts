import { z } from 'zod';
import { defineMeanStrategy } from './meanStrategy';
import { normBoundOption } from './normBound';
import type { Strategy } from './strategy';
import { addStep } from './sums';
import { squaredDistance } from './vectors';

/**
 * FedProx (Li et al. 2020). The difference from FedAvg lives in each client's local objective,
 * `F(w) + μ/2·‖w − w_global‖²`, which keeps local training near the global model on non-IID data;
 * the server aggregates as FedAvg does. `mu` travels to the clients with the round.
 */
export const fedProxOptionsSchema = z.strictObject({
  normBound: normBoundOption,
  /** Proximal coefficient μ (Li et al. try 0.001 to 1). */
  mu: z.number().min(0).default(0.01),
});
export type FedProxOptions = z.input<typeof fedProxOptionsSchema>;

export function fedProxStrategy(options: FedProxOptions = {}): Strategy {
  const o = fedProxOptionsSchema.parse(options);
  return defineMeanStrategy({
    name: 'fedprox',
    normBound: o.normBound,
    step: (base, mean) => ({ weights: addStep(base, mean), state: null, details: { mu: o.mu } }),
  });
}

/** The proximal term `μ/2·‖w − w_global‖²`, to add to the local loss a client reports. */
export function proximalPenalty(local: readonly Float32Array[], global: readonly Float32Array[], mu: number): number {
  return (mu / 2) * squaredDistance(local, global);
}

/**
 * Adds the proximal term's gradient `μ·(w − w_global)` to `gradients` in place (same tensor
 * layout as the weights) and returns them, for a client's optimiser step.
 */
export function addProximalGradient(
  gradients: Float32Array[],
  local: readonly Float32Array[],
  global: readonly Float32Array[],
  mu: number,
): Float32Array[] {
  if (gradients.length !== local.length || local.length !== global.length) throw new Error('proximal gradient: tensor counts differ');
  for (let t = 0; t < gradients.length; t++) {
    const g = gradients[t];
    const w = local[t];
    const w0 = global[t];
    if (g.length !== w.length || w.length !== w0.length) throw new Error(`proximal gradient: tensor ${t} lengths differ`);
    for (let i = 0; i < g.length; i++) g[i] += mu * (w[i] - w0[i]);
  }
  return gradients;
}
