/**
 * A Rényi-DP accountant for the Poisson-subsampled Gaussian mechanism: each round includes every
 * site independently with probability q, and the sum of the included sites' clipped updates gets
 * Gaussian noise of z times the clip (Mironov 2017, "Rényi differential privacy"; Mironov, Talwar and
 * Zhang 2019, "Rényi differential privacy of the sampled Gaussian mechanism"). RDP composes by
 * addition over rounds; the total is converted to (ε, δ) at the best of a dense set of orders.
 *
 * For one round, RDP at order α is log(A_α)/(α − 1), where A_α is the α-th moment of the privacy
 * loss: A_α = E_{x∼N(0,z²)}[((1 − q) + q·exp((2x − 1)/(2z²)))^α]. For whole α it is a finite binomial
 * sum; for fractional α, the series of Mironov, Talwar and Zhang (section 3.3), split at the point z0
 * where the two Gaussians' densities, weighted by the sampling, cross. Everything is summed in log
 * space, so no term overflows however large α or small z.
 */

/** Orders tried: every tenth from 1.1 to 11, quarters to 20, then whole orders to 256, and a few beyond. */
export const DEFAULT_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => 1.1 + i / 10),
  ...Array.from({ length: 36 }, (_, i) => 11.25 + i / 4),
  ...Array.from({ length: 236 }, (_, i) => 21 + i),
  320,
  512,
  1024,
].map((a) => Math.round(a * 1e6) / 1e6);

/** log(e^a + e^b), exact for a or b = −∞. */
function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

/** log(e^a − e^b) for a ≥ b. */
function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (b > a) throw new RangeError('logSub of a larger value');
  if (a === b) return -Infinity;
  return a + Math.log(-Math.expm1(b - a));
}

/**
 * log(erfc(x)), accurate to about 1e-7 relative for every x (no underflow for large x): the
 * Chebyshev-fitted form erfc(x) ≈ t·exp(−x² + P(t)), t = 1/(1 + x/2), for x ≥ 0 (W. H. Press et al.,
 * Numerical Recipes, "erfcc"), whose logarithm is taken term by term; erfc(−x) = 2 − erfc(x).
 */
export function logErfc(x: number): number {
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  const t = 1 / (1 + 0.5 * x);
  const p =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + p;
}

/** log A_α for a whole order α ≥ 2: Σ_k C(α,k) (1 − q)^(α−k) q^k exp((k² − k)/(2z²)). */
function logMomentWhole(q: number, z: number, alpha: number): number {
  let logA = -Infinity;
  let logBinom = 0;
  for (let k = 0; k <= alpha; k++) {
    if (k > 0) logBinom += Math.log(alpha - k + 1) - Math.log(k);
    const term = logBinom + k * Math.log(q) + (alpha - k) * Math.log1p(-q) + (k * k - k) / (2 * z * z);
    logA = logAdd(logA, term);
  }
  return logA;
}

/**
 * log A_α for a fractional order α > 1: two series over i = 0, 1, 2, …, one for the mass left of z0,
 * one for the mass right of it, with the generalised binomial coefficients C(α, i) (which change sign
 * past i = ⌈α⌉); summed until both terms are negligible.
 */
function logMomentFractional(q: number, z: number, alpha: number): number {
  const z0 = z * z * Math.log(1 / q - 1) + 0.5;
  const s2 = Math.SQRT2 * z;
  let left = -Infinity;
  let right = -Infinity;
  let logBinom = 0;
  let sign = 1;
  for (let i = 0; i < 10_000; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      if (factor < 0) sign = -sign;
      logBinom += Math.log(Math.abs(factor));
    }
    const j = alpha - i;
    const t0 = logBinom + i * Math.log(q) + j * Math.log1p(-q) + (i * i - i) / (2 * z * z) + Math.log(0.5) + logErfc((i - z0) / s2);
    const t1 = logBinom + j * Math.log(q) + i * Math.log1p(-q) + (j * j - j) / (2 * z * z) + Math.log(0.5) + logErfc((z0 - j) / s2);
    if (sign > 0) {
      left = logAdd(left, t0);
      right = logAdd(right, t1);
    } else {
      left = logSub(left, t0);
      right = logSub(right, t1);
    }
    if (i > alpha && Math.max(t0, t1) < -30 + Math.max(left, right)) break;
  }
  return logAdd(left, right);
}

/** The RDP of one round at order α (> 1). */
export function roundRdp(q: number, z: number, alpha: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`the sample rate must be in [0, 1], got ${q}`);
  if (!(z > 0)) throw new RangeError(`the noise multiplier must be above 0, got ${z}`);
  if (!(alpha > 1)) throw new RangeError(`Rényi orders are above 1, got ${alpha}`);
  if (q === 0) return 0;
  // Without subsampling, the Gaussian mechanism's RDP in closed form.
  if (q === 1) return alpha / (2 * z * z);
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logMomentWhole(q, z, alpha) : logMomentFractional(q, z, alpha);
  return logA / (alpha - 1);
}

/** The RDP of `steps` rounds at each order (composition adds). */
export function composedRdp(q: number, z: number, steps: number, orders: readonly number[] = DEFAULT_ORDERS): number[] {
  return orders.map((a) => steps * roundRdp(q, z, a));
}

/**
 * How (ε, δ) is read off RDP at order α:
 * - `classic` (Mironov 2017, proposition 3): ε = RDP + log(1/δ)/(α − 1);
 * - `balle2020` (Balle, Barthe, Gaboardi, Hsu and Sato 2020, "Hypothesis testing interpretations and
 *   Rényi differential privacy", theorem 21): ε = RDP + log((α − 1)/α) − (log δ + log α)/(α − 1),
 *   never larger than the classic one and the default.
 */
export type Conversion = 'classic' | 'balle2020';

export function epsilonAtOrder(rdp: number, alpha: number, delta: number, conversion: Conversion = 'balle2020'): number {
  if (conversion === 'classic') return rdp + Math.log(1 / delta) / (alpha - 1);
  return Math.max(0, rdp + Math.log((alpha - 1) / alpha) - (Math.log(delta) + Math.log(alpha)) / (alpha - 1));
}

export interface PrivacySpent {
  epsilon: number;
  delta: number;
  /** The order the bound was taken at. */
  order: number;
}

/** The tightest ε over the orders, for δ. */
export function epsilonFromRdp(rdp: readonly number[], orders: readonly number[], delta: number, conversion: Conversion = 'balle2020'): PrivacySpent {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`δ must be in (0, 1), got ${delta}`);
  let best: PrivacySpent = { epsilon: Infinity, delta, order: NaN };
  orders.forEach((alpha, i) => {
    const eps = epsilonAtOrder(rdp[i], alpha, delta, conversion);
    if (eps < best.epsilon) best = { epsilon: eps, delta, order: alpha };
  });
  return best;
}

export interface MechanismSettings {
  /** Poisson sampling rate q of each round. */
  sampleRate: number;
  /** Noise multiplier z: the noise's standard deviation over the clip. */
  noise: number;
  /** Rounds. */
  steps: number;
  delta: number;
  conversion?: Conversion;
  orders?: readonly number[];
}

/** What `steps` rounds of the mechanism spend. */
export function privacySpent(s: MechanismSettings): PrivacySpent {
  const orders = s.orders ?? DEFAULT_ORDERS;
  return epsilonFromRdp(composedRdp(s.sampleRate, s.noise, s.steps, orders), orders, s.delta, s.conversion);
}

/**
 * The smallest noise multiplier (to 4 significant figures, rounded up) whose ε over `steps` rounds
 * stays within `epsilon`: bisection on z, ε falling as z grows.
 */
export function noiseFor(s: Omit<MechanismSettings, 'noise'> & { epsilon: number }): PrivacySpent & { noise: number } {
  if (!(s.epsilon > 0)) throw new RangeError(`the target ε must be above 0, got ${s.epsilon}`);
  const spent = (z: number) => privacySpent({ ...s, noise: z });
  let hi = 1;
  while (spent(hi).epsilon > s.epsilon) {
    hi *= 2;
    if (hi > 1e6) throw new RangeError(`no noise multiplier up to 10^6 keeps ε within ${s.epsilon}`);
  }
  let lo = hi / 2;
  while (lo > 1e-3 && spent(lo).epsilon <= s.epsilon) lo /= 2;
  for (let i = 0; i < 60 && hi - lo > 1e-7 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (spent(mid).epsilon <= s.epsilon) hi = mid;
    else lo = mid;
  }
  // Rounded up to 4 significant figures, the printed multiplier still meets the target.
  const magnitude = 10 ** (Math.floor(Math.log10(hi)) - 3);
  const noise = Math.ceil(hi / magnitude - 1e-9) * magnitude;
  return { noise, ...spent(noise) };
}
