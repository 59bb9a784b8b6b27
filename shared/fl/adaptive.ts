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
 * without bias correction, as in the paper. By default round 1 is a warm start (issue 20): the plain
 * mean step x ← x + Δ₁, with m = Δ₁ and v = Δ₁², so the moments are unbiased from the start; with
 * `warmStart: false` it starts as the paper does, from m = 0 and v = τ² (the paper asks for
 * v₋₁ ≥ τ²). A round with no state (the first, or after a reset) warm-starts; a continued one never
 * does. By default (`relativeStep`) η and τ are in units of s, each tensor's RMS of the first round's
 * mean delta: x ← x + η·s·m / (√v + τ·s). m, v and s (slot `scale`, the model's layout) are stored as
 * float32 in the returned state and read back as such, so a round continued from stored state gives
 * the same bits as one that never stopped.
 */
/*
 * Why these defaults. The cold start's first step is η·(1 − β₁)·Δ / (√((1 − β₂)·Δ² + τ²) + τ) ≈ η·sign(Δ)
 * wherever |Δ| ≫ τ: every coordinate moves by about η, whatever the mean update says. With the paper's
 * η = 0.01, round 1 barely moved the tabular models (45–55 % pooled accuracy against FedAvg's 78–91 %,
 * docs/benchmarks.md, "Server optimisers: defaults"). So round 1 is FedAvg's step (the warm start) and
 * the moments start from it. From round 2 the adaptive step m / (√v + τ) is ≈ 1 per coordinate that
 * keeps its sign, so η sets the step's size outright, and an absolute η fits no template: the mean
 * deltas' RMS is ≈ 0.1–0.2 a coordinate on the tabular templates and ≈ 0.01 on the lesion CNN, and
 * absolute η 0.03 (0.1 Adagrad) was −5.5 (−15.6) on lesion-images with β₁ 0.9, or unstable with
 * β₁ 0.5 (FedYogi 62.5 %, FedAdagrad 53.1 % against FedAvg's 89.8 %, 1 seed). In units of the first
 * round's RMS mean delta (relativeStep; the step then scales with the deltas, as FedAvg's does) one η
 * holds on all three: η 1 for Adam and Yogi, 4 for Adagrad (whose v only grows, so its steps shrink
 * round by round), β₁ 0.5. On the tabular templates (4 seeds) relative η 0.3–2 (Adam/Yogi) and 1–6
 * (Adagrad) with β₁ 0.5 all stay within 0.7 points of FedAvg at round 10; β₁ 0.9 left FedAdagrad ≈ 2
 * points behind on hcv-stage at every η tried (0.3–2). The CNN needs the larger η: relative η 0.3
 * (≈ 0.003 absolute) never left the majority class in 10 rounds (1 seed). τ = 1e-3 keeps its meaning, in units of s (the
 * floor under √v). Chosen with `npm run bench:optimisers`: within 5 points of FedAvg at round 1 and at
 * least FedAvg − 1 point at round 10, mean of 4 seeds; met on all three templates, thinnest FedAdagrad
 * on lesion-images (+0.2) and heart-risk (−0.7). A study that stored its own values keeps them
 * (parsing fills every option, and the stored configuration is what runs): one stored before
 * relativeStep existed is read with relativeStep: false (below); one stored before warmStart existed
 * gets it filled as true, which matters only if its first round has not been aggregated yet.
 */
const WARM_START = true;
const RELATIVE_STEP = true;
/** η in units of the first round's per-tensor RMS mean delta (relativeStep: true). */
const FEDADAM_ETA = 1;
const FEDADAGRAD_ETA = 4;
/** η as an absolute step per coordinate (relativeStep: false), the defaults before relativeStep. */
const FEDADAM_ABS_ETA = 0.03;
const FEDADAGRAD_ABS_ETA = 0.1;
const BETA1 = 0.5;

const shared = {
  normBound: normBoundOption,
  /** Adaptivity τ: bounds the step where v is small (in units of the round-1 scale under relativeStep). */
  tau: z.number().positive().default(1e-3),
  /** First-moment decay β₁. */
  beta1: z.number().min(0).lt(1).default(BETA1),
  /** Starting value of v; τ² when not given. Ignored under the warm start (v starts at Δ₁²). */
  initialAccumulator: z.number().min(0).optional(),
  /**
   * Round 1 takes the plain mean step (x ← x + Δ₁, FedAvg's) and starts the moments from it
   * (m = Δ₁, v = Δ₁²: unbiased, so no bias correction is needed later). False: the paper's cold
   * start from m = 0, v = initialAccumulator.
   */
  warmStart: z.boolean().default(WARM_START),
  /**
   * η and τ are in units of s, the RMS of the first round's mean delta over each tensor (kept in the
   * state as slot `scale`, float32): the step is η·s·m / (√v + τ·s), so scaling every delta by c
   * scales every step by c. False: η and τ are absolute, as in the paper. A configuration that names
   * serverLearningRate, beta1 and tau but not relativeStep (every one stored before relativeStep
   * existed: parsing filled them) is read as relativeStep: false, so it runs as it did; so is a
   * study continued from state stored without a `scale` slot.
   */
  relativeStep: z.boolean().default(RELATIVE_STEP),
};

/**
 * Fills relativeStep: false where a configuration names η, β₁ and τ but not relativeStep (a stored
 * one from before relativeStep existed, whose η is absolute; one that changes only η, as the admin
 * form's patch does, stays relative), and the absolute default η where relativeStep: false is named
 * without an η.
 */
function absoluteUnlessSaid<T extends z.ZodType>(schema: T, absoluteEta: number) {
  return z.preprocess((input: z.input<T>) => {
    if (typeof input !== 'object' || input === null) return input;
    const o = input as Record<string, unknown>;
    if (o.relativeStep === undefined && o.serverLearningRate !== undefined && o.beta1 !== undefined && o.tau !== undefined) return { ...o, relativeStep: false };
    if (o.relativeStep === false && o.serverLearningRate === undefined) return { ...o, serverLearningRate: absoluteEta };
    return input;
  }, schema);
}

export const fedAdamOptionsSchema = absoluteUnlessSaid(
  z.strictObject({
    ...shared,
    /** Server learning rate η (relative to the round-1 scale under relativeStep, else absolute). */
    serverLearningRate: z.number().positive().default(FEDADAM_ETA),
    beta2: z.number().min(0).lt(1).default(0.99),
  }),
  FEDADAM_ABS_ETA,
);
export const fedYogiOptionsSchema = fedAdamOptionsSchema;
export const fedAdagradOptionsSchema = absoluteUnlessSaid(
  z.strictObject({
    ...shared,
    serverLearningRate: z.number().positive().default(FEDADAGRAD_ETA),
  }),
  FEDADAGRAD_ABS_ETA,
);
export type FedAdamOptions = z.input<typeof fedAdamOptionsSchema>;
export type FedYogiOptions = z.input<typeof fedYogiOptionsSchema>;
export type FedAdagradOptions = z.input<typeof fedAdagradOptionsSchema>;

type Variant = 'fedadam' | 'fedyogi' | 'fedadagrad';
interface Resolved {
  serverLearningRate: number;
  tau: number;
  beta1: number;
  beta2: number;
  initialAccumulator?: number;
  warmStart: boolean;
  relativeStep: boolean;
  normBound: z.infer<typeof normBoundOption>;
}

export function fedAdamStrategy(options: FedAdamOptions = {}): Strategy {
  const o = fedAdamOptionsSchema.parse(options);
  return adaptive('fedadam', o);
}

export function fedYogiStrategy(options: FedYogiOptions = {}): Strategy {
  const o = fedYogiOptionsSchema.parse(options);
  return adaptive('fedyogi', o);
}

export function fedAdagradStrategy(options: FedAdagradOptions = {}): Strategy {
  const o = fedAdagradOptionsSchema.parse(options);
  return adaptive('fedadagrad', { ...o, beta2: 0 });
}

function adaptive(name: Variant, o: Resolved): Strategy {
  const { serverLearningRate: eta, tau, beta1, beta2 } = o;
  return defineMeanStrategy({
    name,
    normBound: o.normBound,
    step(base, delta, state) {
      const mPrev = state?.slots.m;
      const vPrev = state?.slots.v;
      // No state yet: the first round of the study (or one whose state was reset).
      const warm = o.warmStart && !state;
      // The step's unit: measured now in the first round, else the stored one; none (absolute) for
      // a study continued from state stored without it.
      const scale = !o.relativeStep ? undefined : state ? state.slots.scale : tensorScales(delta);
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
        const unit = scale ? scale[t][0] : 1;
        const etaT = eta * unit;
        const tauT = tau * unit;
        const v00 = o.initialAccumulator ?? tauT * tauT;
        for (let i = 0; i < out.length; i++) {
          const g = d[i];
          const g2 = g * g;
          if (warm) {
            mt[i] = g;
            vt[i] = g2;
            stepSquares += g * g;
            out[i] = b[i] + g;
            continue;
          }
          const vp = v0 ? v0[i] : v00;
          mt[i] = beta1 * (m0 ? m0[i] : 0) + (1 - beta1) * g;
          vt[i] = name === 'fedadam' ? beta2 * vp + (1 - beta2) * g2 : name === 'fedyogi' ? vp - (1 - beta2) * g2 * Math.sign(vp - g2) : vp + g2;
          const s = (etaT * mt[i]) / (Math.sqrt(vt[i]) + tauT);
          stepSquares += s * s;
          out[i] = b[i] + s;
        }
        return out;
      });
      const step = (state?.step ?? 0) + 1;
      const next: ServerState = { strategy: name, step, slots: scale ? { m, v, scale } : { m, v } };
      return { weights, state: next, details: { step, stepNorm: Math.sqrt(stepSquares) } };
    },
  });
}

/**
 * Each tensor's RMS mean delta, float32 and repeated over the tensor (a state slot has the model's
 * layout); a tensor whose delta is all zero takes the whole model's RMS, or 1 if that is zero too.
 */
function tensorScales(delta: readonly Float64Array[]): Float32Array[] {
  let total = 0;
  let count = 0;
  const rms = delta.map((d) => {
    let sq = 0;
    for (let i = 0; i < d.length; i++) sq += d[i] * d[i];
    total += sq;
    count += d.length;
    return d.length ? Math.sqrt(sq / d.length) : 0;
  });
  const overall = count ? Math.sqrt(total / count) : 0;
  return delta.map((d, t) => new Float32Array(d.length).fill(rms[t] > 0 && Number.isFinite(rms[t]) ? rms[t] : overall > 0 && Number.isFinite(overall) ? overall : 1));
}
