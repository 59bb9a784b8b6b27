import { epsilonFromRdp, type PrivacySpent } from '../privacy/rdp';
import type { SitePrivacy } from '../privacy/sitePrivacy';
import { encodeFixed, lanes, type RingBits } from './ring';

/**
 * Distributed differential privacy under secure aggregation: the Skellam mechanism (Agarwal, Kairouz
 * and Liu 2021, "The Skellam mechanism for differentially private federated learning", NeurIPS).
 *
 * Sk(μ) here is X − Y with X, Y independent Poisson(μ): symmetric, integer, variance 2μ (the paper's
 * Sk_{μ,μ}; its μ is this μ, NOT the variance). Sums of independent Skellams are Skellam with the
 * parameters added, so t survivors each adding Sk(μ / t) to their ring input before masking put exactly
 * Sk(μ) in the sum — integer noise, so it survives the modular arithmetic of the ring unchanged, and
 * neither a site nor the server can take it out of the unmasked sum. Each site adds its share for t
 * survivors (the round's threshold): with more survivors the sum carries more noise than the accountant
 * counts, never less; a site that drops out adds no noise but also no input.
 *
 * Under distributed DP a site's ring input is round(w · clip(Δ) · 2^f) with w = min(n / n_cap, 1) ≤ 1
 * (./../privacy/sitePrivacy.ts), WITHOUT the count coordinate the plain secure sum carries: the server
 * divides by the fixed q·W exactly as central DP-FedAvg does, so the sum needs no weight, and a count
 * coordinate would only add to the sensitivity (one more coordinate of up to 2^f).
 *
 * The accountant (below): the Skellam mechanism's RDP, amplified by Poisson sampling of sites with
 * Zhu and Wang's general upper bound (2019), composed over rounds and read off as (ε, δ) by ../privacy/rdp.ts.
 */

// ---------------------------------------------------------------------------------------------------
// Randomness: the OS's CSPRNG (crypto.getRandomValues), in blocks.

/** Fills `out` with uniformly random 32-bit words. */
export type RandomWords = (out: Uint32Array) => void;

/** crypto.getRandomValues, at most 64 KiB a call (its limit). */
export const cryptoWords: RandomWords = (out) => {
  for (let at = 0; at < out.length; at += 16_384) globalThis.crypto.getRandomValues(out.subarray(at, Math.min(out.length, at + 16_384)));
};

/** Uniform draws in (0, 1) with 53 random bits each (0 excluded: the sampler takes logarithms). */
export function uniformSource(words: RandomWords = cryptoWords): () => number {
  const buf = new Uint32Array(8_192);
  let at = buf.length;
  return () => {
    for (;;) {
      if (at + 2 > buf.length) {
        words(buf);
        at = 0;
      }
      const hi = buf[at] >>> 5; // 27 bits
      const lo = buf[at + 1] >>> 6; // 26 bits
      at += 2;
      const u = (hi * 67108864 + lo) / 9007199254740992;
      if (u > 0) return u;
    }
  };
}

// ---------------------------------------------------------------------------------------------------
// Poisson and Skellam sampling.

/** log k! for k < 16, exactly as doubles hold them. */
const LOG_FACT: number[] = [];
for (let k = 0, f = 0; k < 16; k++) {
  if (k > 0) f += Math.log(k);
  LOG_FACT.push(f);
}

/**
 * (1 + t)·log(1 + t) − t, without the cancellation near t = 0: its series Σ_{n≥2} (−t)^n / (n(n − 1))
 * for |t| < 0.1 (to double precision in 16 terms).
 */
function bd(t: number): number {
  if (Math.abs(t) >= 0.1) return (1 + t) * Math.log1p(t) - t;
  let s = 0;
  let p = -t;
  for (let n = 2; n < 18; n++) {
    p *= -t;
    s += p / (n * (n - 1));
  }
  return s;
}

/**
 * log P(Poisson(λ) = k) for k ≥ 0, accurate to about 1e-13 absolute however large λ (to 2^52): written
 * as −λ·bd((k − λ)/λ) − ½·log(2πk) − (Stirling's series' remainder), never as k·log λ − log k! − λ,
 * whose terms are each about k·log k and cancel.
 */
export function logPoissonPmf(k: number, lambda: number): number {
  if (k < 16) {
    if (k === 0) return -lambda;
    return k * Math.log(lambda) - lambda - LOG_FACT[k];
  }
  // log k! = k·log k − k + ½·log(2πk) + 1/(12k) − 1/(360k³) + 1/(1260k⁵) − … (error < 1/(1680k⁷)).
  const k2 = k * k;
  const stirling = 1 / (12 * k) - 1 / (360 * k * k2) + 1 / (1260 * k * k2 * k2);
  return -lambda * bd((k - lambda) / lambda) - 0.5 * Math.log(2 * Math.PI * k) - stirling;
}

/** Above this the PTRS rejection sampler, below it inversion by sequential search. */
const INVERSION_BELOW = 10;
/** The largest Poisson mean sampled: its samples stay exact integers (λ + 12·√λ < 2^53). */
export const MAX_POISSON_MEAN = 2 ** 52;

/**
 * One Poisson(λ) sampler. λ < 10: inversion by sequential search from 0 (Devroye 1986, "Non-uniform
 * random variate generation", X.3.3), on average λ + 1 steps. λ ≥ 10: Hörmann's transformed rejection
 * with squeeze, PTRS (W. Hörmann 1993, "The transformed rejection method for generating Poisson random
 * variables", Insurance: Mathematics and Economics 12), two uniforms and on average about 1.15 tries
 * a sample, most accepted by the squeeze. Both are exact methods: given exact uniforms and arithmetic,
 * the output is Poisson(λ) exactly, at any λ (no normal or other approximation for large λ); here the
 * uniforms carry 53 bits and the one non-trivial float computation, the rejection test's log-pmf, is
 * accurate to about 1e-13 (`logPoissonPmf`).
 */
export function poissonSampler(lambda: number, uniform: () => number): () => number {
  if (!(lambda >= 0) || lambda > MAX_POISSON_MEAN) throw new RangeError(`a Poisson mean must be in [0, 2^52], got ${lambda}`);
  if (lambda === 0) return () => 0;
  if (lambda < INVERSION_BELOW) {
    const p0 = Math.exp(-lambda);
    return () => {
      const u = uniform();
      let k = 0;
      let p = p0;
      let s = p0;
      while (u > s && k < 1000) {
        k++;
        p *= lambda / k;
        s += p;
      }
      return k;
    };
  }
  const slam = Math.sqrt(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const logInvAlpha = Math.log(1.1239 + 1.1328 / (b - 3.4));
  const vr = 0.9277 - 3.6224 / (b - 2);
  // k = ⌊x + λ + 0.43⌋ as L + ⌊x + (λ − L) + 0.43⌋, L = ⌊λ⌋: for large λ, x + λ would lose x's low bits.
  const whole = Math.floor(lambda);
  const frac = lambda - whole + 0.43;
  return () => {
    for (;;) {
      const u = uniform() - 0.5;
      const v = uniform();
      const us = 0.5 - Math.abs(u);
      const k = whole + Math.floor(((2 * a) / us + b) * u + frac);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + logInvAlpha - Math.log(a / (us * us) + b) <= logPoissonPmf(k, lambda)) return k;
    }
  };
}

/** `count` independent Sk(μ) = Poisson(μ) − Poisson(μ) samples (variance 2μ each). */
export function skellamNoise(count: number, mu: number, uniform: () => number = uniformSource()): Float64Array {
  const out = new Float64Array(count);
  if (mu === 0) return out;
  const draw = poissonSampler(mu, uniform);
  for (let i = 0; i < count; i++) out[i] = draw() - draw();
  return out;
}

const TWO32 = 4294967296;

/**
 * words += noise in the ring Z/2^bits, in place: one integer per value (`lanes(bits)` words each, low
 * word first, as ./ring.ts holds them); negative noise wraps to 2^bits − |x|, as the ring's arithmetic
 * requires. |noise| must stay below 2^53.
 */
export function addToRing(words: Uint32Array, noise: ArrayLike<number>, bits: RingBits): void {
  if (words.length !== noise.length * lanes(bits)) throw new RangeError(`${noise.length} noise values for ${words.length} words of a ${bits}-bit ring`);
  if (bits === 32) {
    // Exact: |words[i] + x| < 2^54 is a double integer, and >>> 0 reduces any such integer mod 2^32.
    for (let i = 0; i < noise.length; i++) words[i] = (words[i] + noise[i]) >>> 0;
    return;
  }
  for (let i = 0; i < noise.length; i++) {
    const x = noise[i];
    const lo = ((x % TWO32) + TWO32) % TWO32;
    const hi = (x - lo) / TWO32; // an integer, negative for negative x
    const sumLo = words[2 * i] + lo;
    words[2 * i] = sumLo >>> 0;
    words[2 * i + 1] = (words[2 * i + 1] + hi + (sumLo >= TWO32 ? 1 : 0)) >>> 0;
  }
}

/**
 * A site's share of the round's noise, added to its encoded ring input before masking: Sk(muShare) on
 * every value (muShare = μ / t, `distributedPlan`). Returns the noise added (for tests and simulations
 * that check the unmasked sum; a site keeps it to itself).
 */
export function addSkellamNoise(words: Uint32Array, muShare: number, bits: RingBits, uniform: () => number = uniformSource()): Float64Array {
  const noise = skellamNoise(words.length / lanes(bits), muShare, uniform);
  addToRing(words, noise, bits);
  return noise;
}

/**
 * A site's ring input under distributed noise (RoundOpen.secureAggregation.noise): its delta, already
 * clipped to the round's norm, weighted by w = min(records / recordCap, 1) (./../privacy/sitePrivacy.ts's
 * `siteWeight`), encoded at 2^f — the d values alone, no count coordinate — and its share Sk(muShare)
 * added to every value. What `ringInput` (./party.ts) makes when the round carries noise.
 */
export function distributedRingInput(
  clipped: readonly ArrayLike<number>[],
  records: number,
  noise: { muShare: number; recordCap: number },
  fractionBits: number,
  bits: RingBits,
  uniform: () => number = uniformSource(),
): { words: Uint32Array; weight: number; noise: Float64Array } {
  const weight = records > 0 ? Math.min(records / noise.recordCap, 1) : 0;
  const size = clipped.reduce((n, t) => n + t.length, 0);
  const values = new Float64Array(size);
  let at = 0;
  for (const t of clipped) {
    for (let i = 0; i < t.length; i++) values[at + i] = t[i];
    at += t.length;
  }
  const words = encodeFixed(values, weight, fractionBits, bits);
  return { words, weight, noise: addSkellamNoise(words, noise.muShare, bits, uniform) };
}

// ---------------------------------------------------------------------------------------------------
// The accountant.

/** Whole orders (Zhu and Wang's bound is for whole orders): 2 to 256, and a few beyond. */
export const SKELLAM_ORDERS: readonly number[] = [...Array.from({ length: 255 }, (_, i) => 2 + i), 320, 512, 1024];

/** The L2 and L1 sensitivities, in ring units, of one site's ring input. */
export interface RingSensitivity {
  l2: number;
  l1: number;
}

/**
 * One site's input is round(w · clip(Δ) · 2^f), w ≤ 1, d values (no count coordinate): the rounding
 * moves each value by at most ½, so Δ2 ≤ C·2^f + √d / 2; for an integer vector each nonzero |x_i| ≥ 1
 * gives ‖x‖1 ≤ ‖x‖2², and Cauchy–Schwarz ‖x‖1 ≤ √d·‖x‖2: Δ1 ≤ min(√d·Δ2, Δ2²). Adding or removing one
 * site moves the sum by its input, so these are the mechanism's sensitivities.
 */
export function ringSensitivity(clipNorm: number, fractionBits: number, parameters: number): RingSensitivity {
  const l2 = clipNorm * 2 ** fractionBits + Math.sqrt(parameters) / 2;
  return { l2, l1: Math.min(Math.sqrt(parameters) * l2, l2 * l2) };
}

/**
 * The RDP at order α of adding Sk(μ) to each coordinate of a sum with sensitivities Δ1, Δ2 (Agarwal,
 * Kairouz and Liu 2021, theorem 3.5, the multi-dimensional Skellam mechanism):
 *
 *   ε(α) = α·Δ2² / (4μ) + min( ((2α − 1)·Δ2² + 6·Δ1) / (16μ²), 3·Δ1 / (4μ) ).
 *
 * The first term is the Gaussian mechanism's α·Δ2² / (2σ²) at the same variance σ² = 2μ; the second
 * vanishes as μ grows against Δ2².
 */
export function skellamRdp(alpha: number, mu: number, s: RingSensitivity): number {
  if (!(mu > 0)) throw new RangeError(`the Skellam parameter must be above 0, got ${mu}`);
  if (!(alpha > 1)) throw new RangeError(`Rényi orders are above 1, got ${alpha}`);
  const { l1, l2 } = s;
  return (alpha * l2 * l2) / (4 * mu) + Math.min(((2 * alpha - 1) * l2 * l2 + 6 * l1) / (16 * mu * mu), (3 * l1) / (4 * mu));
}

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

/**
 * The RDP at whole order α ≥ 2 of a mechanism run on a Poisson sample at rate q, from the mechanism's
 * own RDP ε(·) at the orders 2…α: Zhu and Wang's general upper bound (Y. Zhu and Y.-X. Wang 2019,
 * "Poisson subsampled Rényi differential privacy", ICML, theorem 6), valid for any mechanism,
 *
 *   ε_q(α) ≤ 1/(α − 1) · log( (1 − q)^(α−1)·(αq − q + 1) + C(α, 2)·q²·(1 − q)^(α−2)·e^{ε(2)}
 *                             + 3·Σ_{ℓ=3..α} C(α, ℓ)·q^ℓ·(1 − q)^(α−ℓ)·e^{(ℓ−1)·ε(ℓ)} ),
 *
 * summed in log space; and never above ε(α) itself (sampling cannot weaken a mechanism's guarantee).
 */
export function subsampledRdp(q: number, alpha: number, eps: (order: number) => number): number {
  if (!(q > 0 && q <= 1)) throw new RangeError(`the sample rate must be in (0, 1], got ${q}`);
  if (!Number.isInteger(alpha) || alpha < 2) throw new RangeError(`the subsampled bound is for whole orders ≥ 2, got ${alpha}`);
  if (q === 1) return eps(alpha);
  return Math.min(eps(alpha), zhuWangBound(q, alpha, eps));
}

/** Zhu and Wang's bound as it stands (without the min with ε(α)): for the tests. */
export function zhuWangBound(q: number, alpha: number, eps: (order: number) => number): number {
  const lq = Math.log(q);
  const l1q = Math.log1p(-q);
  let logSum = (alpha - 1) * l1q + Math.log(alpha * q - q + 1);
  let logBinom = Math.log(alpha) + Math.log(alpha - 1) - Math.LN2; // C(α, 2)
  logSum = logAdd(logSum, logBinom + 2 * lq + (alpha - 2) * l1q + eps(2));
  for (let l = 3; l <= alpha; l++) {
    logBinom += Math.log(alpha - l + 1) - Math.log(l);
    logSum = logAdd(logSum, Math.log(3) + logBinom + l * lq + (alpha - l) * l1q + (l - 1) * eps(l));
  }
  return logSum / (alpha - 1);
}

export interface SkellamSettings {
  /** q: each site's chance to be in a round. */
  sampleRate: number;
  /** μ of the round's total noise Sk(μ), in ring units (variance 2μ). */
  mu: number;
  sensitivity: RingSensitivity;
  steps: number;
  delta: number;
  orders?: readonly number[];
}

/** The per-round RDP at each order, sampled at q. */
export function skellamRoundRdp(q: number, mu: number, s: RingSensitivity, orders: readonly number[] = SKELLAM_ORDERS): number[] {
  const cache = new Map<number, number>();
  const eps = (a: number) => {
    let e = cache.get(a);
    if (e === undefined) cache.set(a, (e = skellamRdp(a, mu, s)));
    return e;
  };
  return orders.map((a) => subsampledRdp(q, a, eps));
}

/** What `steps` rounds of the sampled Skellam mechanism spend (composition adds RDP; ../privacy/rdp.ts converts). */
export function skellamSpent(s: SkellamSettings): PrivacySpent {
  const orders = s.orders ?? SKELLAM_ORDERS;
  if (s.steps <= 0) return { epsilon: 0, delta: s.delta, order: Number.NaN };
  const perRound = skellamRoundRdp(s.sampleRate, s.mu, s.sensitivity, orders);
  return epsilonFromRdp(
    perRound.map((r) => r * s.steps),
    orders,
    s.delta,
  );
}

// ---------------------------------------------------------------------------------------------------
// The plan of a study's rounds under distributed noise.

/**
 * The study's noise in ring units: its noise multiplier z times the ring sensitivity, as a standard
 * deviation: 2μ = (z·Δ2)². The leading term of the Skellam RDP is then the Gaussian mechanism's at the
 * same z (α / (2z²)), and ε exceeds the central mechanism's only by the Skellam correction.
 */
export function skellamMu(noiseMultiplier: number, s: RingSensitivity): number {
  return (noiseMultiplier * s.l2) ** 2 / 2;
}

/** Standard deviations of the noisy sum's headroom in the ring. */
export const NOISE_HEADROOM_STD = 12;

/**
 * The bits the round's noisy sum needs, sign included: `sampled` inputs of at most C·2^f + ½ on any
 * value (w ≤ 1), plus 12 standard deviations of the noise if all of them survive, each adding Sk(μ / t).
 */
export function noisyRingBits(sampled: number, threshold: number, clipNorm: number, fractionBits: number, mu: number): number {
  const signal = sampled * (clipNorm * 2 ** fractionBits + 0.5);
  const noise = NOISE_HEADROOM_STD * Math.sqrt((2 * mu * sampled) / threshold);
  return Math.ceil(Math.log2(signal + noise)) + 1;
}

export interface DistributedPlanFor {
  /** Rounds the study plans. */
  rounds: number;
  /** t: the round's threshold; each site adds the noise for t survivors. */
  threshold: number;
  /** Sites sampled for the round (the ring must hold all of their inputs and noise). */
  sampled: number;
  /** d: the model's parameters. */
  parameters: number;
  /** f, or null: the most the ring allows (at least 16 in the 32-bit ring, else up to 40 in the 64-bit). */
  fractionBits: number | null;
}

export interface DistributedPlan {
  fractionBits: number;
  bits: RingBits;
  /** The bits the noisy sum needs (≤ bits). */
  neededBits: number;
  sensitivity: RingSensitivity;
  /** μ of the round's total noise Sk(μ), ring units. */
  mu: number;
  /** μ / t: what each site adds. */
  muShare: number;
  /** √(2μ) / 2^f: the noise's standard deviation on each coordinate of the sum, in model units. */
  sumNoiseStd: number;
  /** ε of one round, and of all the planned rounds, at the study's δ. */
  perRound: PrivacySpent;
  planned: PrivacySpent;
  /** Rounds the budget allows (≤ the planned rounds). */
  roundsAllowed: number;
}

/** The least fraction bits distributed noise is run with: below, the rounding would weigh in the sensitivity. */
export const MIN_DISTRIBUTED_FRACTION_BITS = 8;

/**
 * The least clip in ring units, C·2^f, a round under distributed noise may run with: what lets the
 * study's accountant (`distributedStudySpent` without a ring) hold for every round whatever its f and d.
 */
export const MIN_RING_CLIP = 2 ** 12;

/**
 * The fixed-point precision, ring, noise shares and privacy of a study's rounds under distributed noise:
 * the distributed counterpart of `privacyPlan` (../privacy/sitePrivacy.ts). Without fraction bits
 * given, the most the 32-bit ring holds if at least 16, else the 64-bit ring with as many as keep the
 * sum within 63 bits, the Poisson means within 2^52 and a site's value within 2^52, up to 40.
 */
export function distributedPlan(p: Pick<SitePrivacy, 'clipNorm' | 'noiseMultiplier' | 'sampleRate' | 'delta' | 'epsilonBudget'>, plan: DistributedPlanFor): DistributedPlan {
  const { sampled, threshold, parameters } = plan;
  if (!(threshold >= 1 && threshold <= sampled)) throw new RangeError(`the threshold must be in [1, ${sampled}], got ${threshold}`);
  const at = (f: number) => {
    const sensitivity = ringSensitivity(p.clipNorm, f, parameters);
    const mu = skellamMu(p.noiseMultiplier, sensitivity);
    return { f, sensitivity, mu, needed: noisyRingBits(sampled, threshold, p.clipNorm, f, mu) };
  };
  const fits = (c: ReturnType<typeof at>, bits: RingBits) =>
    c.needed <= bits && c.mu / threshold <= MAX_POISSON_MEAN && p.clipNorm * 2 ** c.f < 2 ** 52 && p.clipNorm * 2 ** c.f >= MIN_RING_CLIP;
  const fits64 = (c: ReturnType<typeof at>) => fits(c, 64);
  let chosen: ReturnType<typeof at> | null = null;
  if (plan.fractionBits !== null) {
    chosen = at(plan.fractionBits);
    if (!fits64(chosen))
      throw new RangeError(
        `at ${plan.fractionBits} fraction bits the noisy sum needs ${chosen.needed} bits and each site's noise a Poisson mean of ${(chosen.mu / threshold).toPrecision(3)} (at most 2^52), the clip ${p.clipNorm}·2^f at least 2^12: change the fraction bits`,
      );
  } else {
    for (let f = 40; f >= 16 && !chosen; f--) if (fits(at(f), 32)) chosen = at(f);
    for (let f = 40; f >= MIN_DISTRIBUTED_FRACTION_BITS && !chosen; f--) if (fits64(at(f))) chosen = at(f);
    if (!chosen) throw new RangeError(`the noisy sum of ${sampled} sites (clip ${p.clipNorm}, noise ${p.noiseMultiplier}) leaves the 64-bit ring under ${MIN_DISTRIBUTED_FRACTION_BITS} bits of fraction`);
  }
  const { f, sensitivity, mu, needed } = chosen;
  const spent = (steps: number) => skellamSpent({ sampleRate: p.sampleRate, mu, sensitivity, steps, delta: p.delta });
  const planned = spent(plan.rounds);
  let roundsAllowed = plan.rounds;
  if (planned.epsilon > p.epsilonBudget) {
    // ε grows with the rounds: bisect; one round's RDP serves every count.
    const perRound = skellamRoundRdp(p.sampleRate, mu, sensitivity);
    const eps = (steps: number) => epsilonFromRdp(perRound.map((r) => r * steps), SKELLAM_ORDERS, p.delta).epsilon;
    let lo = 0;
    let hi = plan.rounds;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (eps(mid) <= p.epsilonBudget) lo = mid;
      else hi = mid;
    }
    roundsAllowed = lo;
  }
  return {
    fractionBits: f,
    bits: needed <= 32 ? 32 : 64,
    neededBits: needed,
    sensitivity,
    mu,
    muShare: mu / threshold,
    sumNoiseStd: Math.sqrt(2 * mu) / 2 ** f,
    perRound: spent(1),
    planned,
    roundsAllowed,
  };
}

const spentCache = new Map<string, PrivacySpent>();

/**
 * The sensitivity the study's accountant assumes when it is not told the ring: Δ2 = 2^12, Δ1 = Δ2².
 * With μ = (z·Δ2)²/2 the Skellam RDP is α/(2z²) + min((2α − 1)/(4z⁴Δ2²) + 3Δ1/(2z⁴Δ2⁴), 3Δ1/(2z²Δ2²)),
 * and with Δ1 ≤ Δ2² (always true of integer vectors) it is at most α/(2z²) + (2α + 5)/(4z⁴Δ2²): a bound
 * that only falls as Δ2 grows. Every round runs with Δ2 ≥ C·2^f ≥ 2^12 (`distributedPlan` enforces it),
 * so the RDP at this floor bounds every round's, whatever its fraction bits and parameter count.
 */
export const FLOOR_SENSITIVITY: RingSensitivity = { l2: MIN_RING_CLIP, l1: MIN_RING_CLIP * MIN_RING_CLIP };

/**
 * What `rounds` rounds of a study under distributed noise spend (memoised). Given the ring (its fraction
 * bits and the model's parameters), at that ring's sensitivity; without, at `FLOOR_SENSITIVITY`, which
 * bounds every round's (what the study's budget and status use: ε differs from the ring's in the 8th
 * significant figure or beyond). The accountant counts only the noise the threshold's worth of honest
 * survivors adds.
 */
export function distributedStudySpent(
  p: Pick<SitePrivacy, 'clipNorm' | 'noiseMultiplier' | 'sampleRate' | 'delta'>,
  rounds: number,
  ring?: { fractionBits: number; parameters: number },
): PrivacySpent {
  if (rounds <= 0) return { epsilon: 0, delta: p.delta, order: Number.NaN };
  const key = `${p.noiseMultiplier}|${p.sampleRate}|${p.delta}|${rounds}|${ring ? `${p.clipNorm}|${ring.fractionBits}|${ring.parameters}` : 'floor'}`;
  let spent = spentCache.get(key);
  if (!spent) {
    const sensitivity = ring ? ringSensitivity(p.clipNorm, ring.fractionBits, ring.parameters) : FLOOR_SENSITIVITY;
    spent = skellamSpent({ sampleRate: p.sampleRate, mu: skellamMu(p.noiseMultiplier, sensitivity), sensitivity, steps: rounds, delta: p.delta });
    if (spentCache.size > 2_000) spentCache.clear();
    spentCache.set(key, spent);
  }
  return spent;
}
