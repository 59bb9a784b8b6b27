import { describe, expect, it } from 'vitest';
import { privacySpent, roundRdp } from '../privacy/rdp';
import { mulberry32 } from '../../synthetic/rng';
import {
  addSkellamNoise,
  addToRing,
  distributedPlan,
  distributedRingInput,
  distributedStudySpent,
  logPoissonPmf,
  noisyRingBits,
  poissonSampler,
  ringSensitivity,
  skellamMu,
  skellamNoise,
  skellamRdp,
  skellamRoundRdp,
  skellamSpent,
  subsampledRdp,
  uniformSource,
  zhuWangBound,
  SKELLAM_ORDERS,
} from './distributedNoise';
import { decodeFixed, encodeFixed, lanes, ringAdd, type RingBits } from './ring';

/** A seeded word source, for repeatable statistics (the default is crypto.getRandomValues). */
function seededWords(seed: number) {
  const rand = mulberry32(seed);
  return (out: Uint32Array) => {
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(rand() * 4294967296) >>> 0;
  };
}

function moments(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  return { mean, variance: v / (xs.length - 1) };
}

/** log k! by summing logs: the slow, plain reference. */
function logFactorial(k: number): number {
  let s = 0;
  for (let i = 2; i <= k; i++) s += Math.log(i);
  return s;
}

describe('Poisson and Skellam sampling', () => {
  it('computes the Poisson log-pmf without cancellation, small and large λ', () => {
    for (const [k, lambda] of [
      [0, 3],
      [7, 3],
      [20, 15],
      [1000, 980],
      [50_000, 50_300],
    ])
      expect(logPoissonPmf(k, lambda)).toBeCloseTo(k * Math.log(lambda) - lambda - logFactorial(k), 8);
    // λ = 2^40: the pmf at the mode is 1/√(2πλ), the log-pmf 1 sd away is −½ lower (to O(1/√λ)).
    const lambda = 2 ** 40;
    expect(logPoissonPmf(lambda, lambda)).toBeCloseTo(-0.5 * Math.log(2 * Math.PI * lambda), 6);
    expect(logPoissonPmf(lambda + 2 ** 20, lambda) - logPoissonPmf(lambda, lambda)).toBeCloseTo(-0.5, 5);
  });

  it.each([0.05, 0.8, 4, 9.99, 10, 37.5, 1_000, 2 ** 20, 2 ** 40, 2 ** 51 + 0.3])('Poisson(%s): mean and variance within 5 standard errors (200,000 samples)', (lambda) => {
    const n = 200_000;
    const draw = poissonSampler(lambda, uniformSource(seededWords(Math.round(lambda * 1000) + 1)));
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = draw();
    const { mean, variance } = moments(xs);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    // The mean's standard error √(λ/n); the sample variance's about λ·√(2/n) (plus the excess kurtosis 1/λ).
    expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
    expect(Math.abs(variance - lambda)).toBeLessThan(5 * lambda * Math.sqrt((2 + 1 / lambda) / n));
  });

  it('matches the Poisson pmf bucket by bucket (chi-square) at λ = 12 and λ = 300', () => {
    for (const lambda of [12, 300]) {
      const n = 300_000;
      const draw = poissonSampler(lambda, uniformSource(seededWords(lambda)));
      const counts = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const k = draw();
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      let chi = 0;
      let cells = 0;
      const lo = Math.floor(lambda - 4 * Math.sqrt(lambda));
      const hi = Math.ceil(lambda + 4 * Math.sqrt(lambda));
      for (let k = Math.max(0, lo); k <= hi; k++) {
        const expected = n * Math.exp(logPoissonPmf(k, lambda));
        if (expected < 20) continue;
        chi += ((counts.get(k) ?? 0) - expected) ** 2 / expected;
        cells++;
      }
      // χ² with `cells` degrees of freedom: mean cells, sd √(2·cells); 5 sd is far in the tail.
      expect(chi).toBeLessThan(cells + 5 * Math.sqrt(2 * cells));
    }
  });

  it('Skellam: mean 0, variance 2μ; t sites each adding μ/t sum to variance 2μ', () => {
    const n = 200_000;
    for (const mu of [3, 5_000, 2 ** 30]) {
      const { mean, variance } = moments(skellamNoise(n, mu, uniformSource(seededWords(7))));
      expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt((2 * mu) / n));
      expect(Math.abs(variance / (2 * mu) - 1)).toBeLessThan(5 * Math.sqrt(2 / n) + 1 / mu);
    }
    const mu = 6_000;
    const t = 7;
    const total = new Float64Array(n);
    for (let s = 0; s < t; s++) {
      const share = skellamNoise(n, mu / t, uniformSource(seededWords(100 + s)));
      for (let i = 0; i < n; i++) total[i] += share[i];
    }
    const { mean, variance } = moments(total);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt((2 * mu) / n));
    expect(Math.abs(variance / (2 * mu) - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('draws from crypto.getRandomValues by default', () => {
    const a = skellamNoise(1_000, 100);
    const b = skellamNoise(1_000, 100);
    expect(a.some((x, i) => x !== b[i])).toBe(true);
  });

  for (const bits of [32, 64] as RingBits[]) {
    it(`adds noise in the ${bits}-bit ring with wrap-around: negative noise, a sum of sites, decoded exactly`, () => {
      const f = 16;
      // Values near 0 and at ±the range, noise of both signs and large enough to wrap the words.
      const values = Float64Array.from([0, 0, 0.25, -0.25, 1, -1, 0.5, -0.75]);
      const noise = Float64Array.from([-1, 1, -123_456, 123_456, -(2 ** 20) - 3, 2 ** 20 + 5, -(2 ** 30), 7]);
      const words = encodeFixed(values, 1, f, bits);
      addToRing(words, noise, bits);
      const decoded = decodeFixed(words, f, bits);
      values.forEach((v, i) => expect(decoded[i]).toBe(v + noise[i] * 2 ** -f));
      // Words of an all-zero input under negative noise: 2^bits − |x|.
      const zero = new Uint32Array(lanes(bits));
      addToRing(zero, [-5], bits);
      if (bits === 32) expect(zero[0]).toBe(4294967291);
      else expect([zero[0], zero[1]]).toEqual([4294967291, 4294967295]);
      // In the 64-bit ring noise above 2^32 carries into the high word.
      if (bits === 64) {
        const w = new Uint32Array(2);
        addToRing(w, [-(2 ** 40) - 1], 64);
        expect(decodeFixed(w, 0, 64)[0]).toBe(-(2 ** 40) - 1);
      }
      // Five sites' noisy inputs summed in the ring: the plain sum plus the sum of the noise, exactly.
      const rand = mulberry32(bits);
      const d = 300;
      const acc = new Uint32Array(d * lanes(bits));
      const plain = new Float64Array(d);
      const totalNoise = new Float64Array(d);
      for (let s = 0; s < 5; s++) {
        const v = Float64Array.from({ length: d }, () => (rand() - 0.5) * 2);
        const w = encodeFixed(v, 1, f, bits);
        for (let i = 0; i < d; i++) plain[i] += Math.round(v[i] * 2 ** f);
        const added = addSkellamNoise(w, 2 ** 16, bits, uniformSource(seededWords(s + 40)));
        for (let i = 0; i < d; i++) totalNoise[i] += added[i];
        ringAdd(acc, w, bits);
      }
      const sum = decodeFixed(acc, 0, bits);
      for (let i = 0; i < d; i++) expect(sum[i]).toBe(plain[i] + totalNoise[i]);
    });
  }

  it('makes a site’s private ring input: weight min(n / cap, 1), the d values alone, its noise share added', () => {
    const delta = [Float32Array.from([0.5, -0.25]), Float32Array.from([0.125])];
    for (const bits of [32, 64] as RingBits[]) {
      const input = distributedRingInput(delta, 50, { muShare: 1_000, recordCap: 100 }, 16, bits, uniformSource(seededWords(3)));
      expect(input.weight).toBe(0.5);
      expect(input.words.length).toBe(3 * lanes(bits));
      const decoded = decodeFixed(input.words, 0, bits);
      [0.5, -0.25, 0.125].forEach((v, i) => expect(decoded[i]).toBe(Math.round(v * 0.5 * 2 ** 16) + input.noise[i]));
      expect(input.noise.some((x) => x !== 0)).toBe(true);
    }
    expect(distributedRingInput(delta, 500, { muShare: 1, recordCap: 100 }, 8, 32).weight).toBe(1);
  });

  it('samples at least 1e6 Skellam values a second-ish (reported)', () => {
    const n = 1_000_000;
    const t0 = performance.now();
    skellamNoise(n, 2 ** 33);
    const large = n / ((performance.now() - t0) / 1000);
    const t1 = performance.now();
    skellamNoise(n, 0.5);
    const small = n / ((performance.now() - t1) / 1000);
    console.log(`Skellam samples/s (2 Poissons each, crypto.getRandomValues): μ = 2^33 ${large.toFixed(0)}, μ = 0.5 ${small.toFixed(0)}`);
    expect(large).toBeGreaterThan(2e5);
  });
});

describe('the Skellam accountant', () => {
  const d = 385;

  it('ring sensitivity: C·2^f plus the rounding, L1 by Cauchy–Schwarz or the integer bound', () => {
    const s = ringSensitivity(1, 16, 400);
    expect(s.l2).toBe(65_536 + 10);
    expect(s.l1).toBe(20 * s.l2);
    // A tiny ring norm: the integer bound ‖x‖1 ≤ ‖x‖2² is the smaller.
    const tiny = ringSensitivity(2 ** -10, 8, 10_000);
    expect(tiny.l1).toBe(tiny.l2 ** 2);
  });

  it('approaches the Gaussian mechanism’s RDP at the same z as μ grows', () => {
    const z = 1.3;
    for (const alpha of [2, 8, 64]) {
      const gauss = alpha / (2 * z * z);
      let last = Infinity;
      for (const f of [4, 8, 12, 16, 24]) {
        const s = ringSensitivity(1, f, d);
        const rdp = skellamRdp(alpha, skellamMu(z, s), s);
        expect(rdp).toBeGreaterThanOrEqual(gauss);
        expect(rdp).toBeLessThanOrEqual(last);
        last = rdp;
      }
      expect(last / gauss - 1).toBeLessThan(1e-6);
    }
  });

  it('subsampled: above the exact sampled Gaussian’s RDP at matching noise, below the unsampled', () => {
    for (const [q, z] of [
      [0.01, 1.1],
      [0.2, 4],
      [0.2, 0.9],
      [0.5, 2],
    ]) {
      const s = ringSensitivity(1, 16, d);
      const mu = skellamMu(z, s);
      const sk = (a: number) => skellamRdp(a, mu, s);
      // The matching Gaussian: σ² = 2μ over the L2 sensitivity.
      const zMatch = Math.sqrt(2 * mu) / s.l2;
      for (const alpha of [2, 3, 5, 10, 32, 100]) {
        const bound = zhuWangBound(q, alpha, sk);
        expect(bound).toBeGreaterThanOrEqual(roundRdp(q, zMatch, alpha) * (1 - 1e-9));
        expect(subsampledRdp(q, alpha, sk)).toBeLessThanOrEqual(sk(alpha));
        expect(subsampledRdp(q, alpha, sk)).toBeGreaterThanOrEqual(roundRdp(q, zMatch, alpha) * (1 - 1e-9));
      }
      // For small q and low orders the bound is well below the unsampled RDP (the amplification works).
      if (q <= 0.2) expect(zhuWangBound(q, 4, sk)).toBeLessThan(0.5 * sk(4));
    }
  });

  it('ε grows with rounds and is close to the central mechanism’s', () => {
    const p = { clipNorm: 1, noiseMultiplier: 4, sampleRate: 0.2, delta: 1e-5 };
    let last = 0;
    for (const rounds of [1, 5, 20, 100]) {
      const eps = distributedStudySpent(p, rounds, { fractionBits: 16, parameters: d }).epsilon;
      expect(eps).toBeGreaterThan(last);
      last = eps;
    }
    const central = privacySpent({ sampleRate: 0.2, noise: 4, steps: 20, delta: 1e-5 }).epsilon;
    const distributed = distributedStudySpent(p, 20, { fractionBits: 16, parameters: d }).epsilon;
    // Never below the exact central figure; Zhu–Wang's general bound (valid for any mechanism) is looser than
    // the sampled Gaussian's exact accountant: here about twice its ε at the same z.
    expect(distributed).toBeGreaterThanOrEqual(central);
    expect(distributed).toBeLessThan(2.5 * central);
    expect(skellamSpent({ sampleRate: 1, mu: 1, sensitivity: { l1: 1, l2: 1 }, steps: 0, delta: 1e-5 }).epsilon).toBe(0);
    expect(skellamRoundRdp(0.2, 1e9, ringSensitivity(1, 16, d))).toHaveLength(SKELLAM_ORDERS.length);
  });

  it('plans a study: shares for t survivors, the ring the noisy sum needs, rounds within budget', () => {
    const p = { clipNorm: 1, noiseMultiplier: 4, sampleRate: 0.2, delta: 1e-5, epsilonBudget: 1.2 };
    const plan = distributedPlan(p, { rounds: 20, threshold: 11, sampled: 20, parameters: d, fractionBits: null });
    expect(plan.bits).toBe(32);
    expect(plan.neededBits).toBeLessThanOrEqual(32);
    expect(plan.fractionBits).toBeGreaterThanOrEqual(16);
    expect(plan.muShare * 11).toBeCloseTo(plan.mu, 6);
    expect(Math.sqrt(2 * plan.mu)).toBeCloseTo(4 * plan.sensitivity.l2, 6);
    // One more fraction bit would overflow the 32-bit ring with 12 sd of noise from all 20 sites.
    const f1 = plan.fractionBits + 1;
    expect(noisyRingBits(20, 11, 1, f1, skellamMu(4, ringSensitivity(1, f1, d)))).toBeGreaterThan(32);
    expect(plan.planned.epsilon).toBeGreaterThan(plan.perRound.epsilon);
    expect(plan.roundsAllowed).toBeLessThanOrEqual(20);
    if (plan.roundsAllowed < 20) {
      expect(skellamSpent({ sampleRate: 0.2, mu: plan.mu, sensitivity: plan.sensitivity, steps: plan.roundsAllowed, delta: 1e-5 }).epsilon).toBeLessThanOrEqual(1.2);
      expect(skellamSpent({ sampleRate: 0.2, mu: plan.mu, sensitivity: plan.sensitivity, steps: plan.roundsAllowed + 1, delta: 1e-5 }).epsilon).toBeGreaterThan(1.2);
    }
    // A federation too large for 16 bits in 2^32 goes to the 64-bit ring.
    const big = distributedPlan({ ...p, clipNorm: 100 }, { rounds: 20, threshold: 600, sampled: 1000, parameters: d, fractionBits: null });
    expect(big.bits).toBe(64);
    expect(big.neededBits).toBeLessThanOrEqual(64);
    expect(() => distributedPlan(p, { rounds: 20, threshold: 0, sampled: 20, parameters: d, fractionBits: null })).toThrow(/threshold/);
  });
});
