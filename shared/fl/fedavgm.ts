import { z } from 'zod';
import { defineMeanStrategy } from './meanStrategy';
import { normBoundOption } from './normBound';
import type { Strategy } from './strategy';
import { l2Norm } from './vectors';

/**
 * FedAvgM (Hsu, Qi & Brown 2019): server momentum on the averaged delta,
 * `v ← β·v + Δ`, `x ← x + η·v`. With β = 0 and η = 1 it is FedAvg.
 */
export const fedAvgMOptionsSchema = z.strictObject({
  normBound: normBoundOption,
  /** Server learning rate η. */
  serverLearningRate: z.number().positive().default(1),
  /** Momentum β. */
  momentum: z.number().min(0).lt(1).default(0.9),
});
export type FedAvgMOptions = z.input<typeof fedAvgMOptionsSchema>;

export function fedAvgMStrategy(options: FedAvgMOptions = {}): Strategy {
  const o = fedAvgMOptionsSchema.parse(options);
  return defineMeanStrategy({
    name: 'fedavgm',
    normBound: o.normBound,
    step(base, delta, state) {
      const previous = state?.slots.velocity;
      const velocity = base.map((b, t) => {
        const v = new Float32Array(b.length);
        const p = previous?.[t];
        const d = delta[t];
        for (let i = 0; i < v.length; i++) v[i] = (p ? o.momentum * p[i] : 0) + d[i];
        return v;
      });
      const weights = base.map((b, t) => {
        const out = new Float32Array(b.length);
        const v = velocity[t];
        for (let i = 0; i < out.length; i++) out[i] = b[i] + o.serverLearningRate * v[i];
        return out;
      });
      const step = (state?.step ?? 0) + 1;
      return {
        weights,
        state: { strategy: 'fedavgm', step, slots: { velocity } },
        details: { step, velocityNorm: l2Norm(velocity) },
      };
    },
  });
}
