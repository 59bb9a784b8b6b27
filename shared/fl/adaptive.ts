import { z } from 'zod';
import { defineMeanStrategy } from './meanStrategy';
import { normBoundOption } from './normBound';
import type { Strategy } from './strategy';
import type { ServerState } from './state';

/**
 * FedAdam, FedYogi and FedAdagrad (Reddi et al. 2021, "Adaptive Federated Optimization",
 * Algorithm 2): the sample-weighted mean delta Δ is a pseudo-gradient for a server optimiser,
 *
 *   m ← β₁·m + (1 − β₁)·Δ
 *   v ← v + Δ²                                  (FedAdagrad)
 *   v ← v − (1 − β₂)·Δ²·sign(v − Δ²)            (FedYogi)
 *   v ← β₂·v + (1 − β₂)·Δ²                       (FedAdam)
 *   x ← x + η·m / (√v + τ)
 *
 * without bias correction, as in the paper, starting from m = 0 and v = τ² (the paper asks for
 * v₋₁ ≥ τ²). m and v are stored as float32 in the returned state and read back as such, so a
 * round continued from stored state gives the same bits as one that never stopped.
 */
const shared = {
  normBound: normBoundOption,
  /** Adaptivity τ: bounds the step where v is small. */
  tau: z.number().positive().default(1e-3),
  /** First-moment decay β₁. */
  beta1: z.number().min(0).lt(1).default(0.9),
  /** Starting value of v; τ² when not given. */
  initialAccumulator: z.number().min(0).optional(),
};

export const fedAdamOptionsSchema = z.strictObject({
  ...shared,
  /** Server learning rate η. */
  serverLearningRate: z.number().positive().default(0.01),
  beta2: z.number().min(0).lt(1).default(0.99),
});
export const fedYogiOptionsSchema = fedAdamOptionsSchema;
export const fedAdagradOptionsSchema = z.strictObject({
  ...shared,
  serverLearningRate: z.number().positive().default(0.1),
});
export type FedAdamOptions = z.input<typeof fedAdamOptionsSchema>;
export type FedYogiOptions = z.input<typeof fedYogiOptionsSchema>;
export type FedAdagradOptions = z.input<typeof fedAdagradOptionsSchema>;

type Variant = 'fedadam' | 'fedyogi' | 'fedadagrad';
interface Resolved {
  serverLearningRate: number;
  tau: number;
  beta1: number;
  beta2: number;
  initialAccumulator: number;
  normBound: z.infer<typeof normBoundOption>;
}

export function fedAdamStrategy(options: FedAdamOptions = {}): Strategy {
  const o = fedAdamOptionsSchema.parse(options);
  return adaptive('fedadam', { ...o, initialAccumulator: o.initialAccumulator ?? o.tau * o.tau });
}

export function fedYogiStrategy(options: FedYogiOptions = {}): Strategy {
  const o = fedYogiOptionsSchema.parse(options);
  return adaptive('fedyogi', { ...o, initialAccumulator: o.initialAccumulator ?? o.tau * o.tau });
}

export function fedAdagradStrategy(options: FedAdagradOptions = {}): Strategy {
  const o = fedAdagradOptionsSchema.parse(options);
  return adaptive('fedadagrad', { ...o, beta2: 0, initialAccumulator: o.initialAccumulator ?? o.tau * o.tau });
}

function adaptive(name: Variant, o: Resolved): Strategy {
  const { serverLearningRate: eta, tau, beta1, beta2 } = o;
  return defineMeanStrategy({
    name,
    normBound: o.normBound,
    step(base, delta, state) {
      const mPrev = state?.slots.m;
      const vPrev = state?.slots.v;
      const m = base.map((b) => new Float32Array(b.length));
      const v = base.map((b) => new Float32Array(b.length));
      let stepSquares = 0;
      const weights = base.map((b, t) => {
        const out = new Float32Array(b.length);
        const d = delta[t];
        const m0 = mPrev?.[t];
        const v0 = vPrev?.[t];
        const mt = m[t];
        const vt = v[t];
        for (let i = 0; i < out.length; i++) {
          const g = d[i];
          const g2 = g * g;
          const vp = v0 ? v0[i] : o.initialAccumulator;
          mt[i] = beta1 * (m0 ? m0[i] : 0) + (1 - beta1) * g;
          vt[i] = name === 'fedadam' ? beta2 * vp + (1 - beta2) * g2 : name === 'fedyogi' ? vp - (1 - beta2) * g2 * Math.sign(vp - g2) : vp + g2;
          const s = (eta * mt[i]) / (Math.sqrt(vt[i]) + tau);
          stepSquares += s * s;
          out[i] = b[i] + s;
        }
        return out;
      });
      const step = (state?.step ?? 0) + 1;
      const next: ServerState = { strategy: name, step, slots: { m, v } };
      return { weights, state: next, details: { step, stepNorm: Math.sqrt(stepSquares) } };
    },
  });
}
