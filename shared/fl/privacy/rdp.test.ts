import { describe, expect, it } from 'vitest';
import { epsilonAtOrder, noiseFor, privacySpent, roundRdp } from './rdp';

/** The known answers, from the exact integer-order formula, δ = 1e-5: classic and Balle et al. 2020 conversions. */
const known = [
  { q: 0.01, z: 1.1, steps: 1000, classic: 2.0868, balle: 1.7253 },
  { q: 256 / 60000, z: 1.1, steps: 14062, classic: 3.0091, balle: 2.597 },
  { q: 0.1, z: 1.0, steps: 100, classic: 8.9277, balle: 7.9729 },
];

/** A_α by direct numerical integration (Simpson's rule) of E_{x∼N(0,z²)}[((1 − q) + q·exp((2x − 1)/(2z²)))^α]. */
function integratedLogMoment(q: number, z: number, alpha: number): number {
  const lo = -40 * z;
  const hi = 40 * z + 40;
  const n = 400_000;
  const h = (hi - lo) / n;
  const f = (x: number) => Math.exp(-(x * x) / (2 * z * z)) / (z * Math.sqrt(2 * Math.PI)) * ((1 - q) + q * Math.exp((2 * x - 1) / (2 * z * z))) ** alpha;
  let s = f(lo) + f(hi);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(lo + i * h);
  return Math.log((s * h) / 3);
}

describe('the Rényi-DP accountant of the Poisson-subsampled Gaussian mechanism', () => {
  it.each(known)('q $q, z $z, $steps steps: ε no more than the classic figure, at least 0.95 × the tighter one', ({ q, z, steps, classic, balle }) => {
    const eps = privacySpent({ sampleRate: q, noise: z, steps, delta: 1e-5 }).epsilon;
    expect(eps).toBeLessThanOrEqual(classic);
    expect(eps).toBeGreaterThanOrEqual(0.95 * balle);
    // Read off with the classic conversion, the whole orders give the classic figure itself.
    expect(privacySpent({ sampleRate: q, noise: z, steps, delta: 1e-5, conversion: 'classic' }).epsilon).toBeLessThanOrEqual(classic + 1e-4);
  });

  it('is the Gaussian mechanism’s closed form without subsampling: α/(2z²)', () => {
    for (const a of [1.5, 2, 7.25, 32]) expect(roundRdp(1, 1.3, a)).toBeCloseTo(a / (2 * 1.3 * 1.3), 12);
  });

  it.each([
    [0.01, 1.1, 1.5],
    [0.1, 1.0, 2.5],
    [0.05, 2.0, 7.25],
    [0.2, 0.8, 3.3],
  ])('at q %f, z %f and the fractional order %f agrees with a numerical integration of the Rényi divergence', (q, z, a) => {
    expect(roundRdp(q, z, a)).toBeCloseTo(integratedLogMoment(q, z, a) / (a - 1), 6);
  });

  it('agrees with the integration at whole orders too, and costs nothing without sampling', () => {
    expect(roundRdp(0.1, 1.0, 3)).toBeCloseTo(integratedLogMoment(0.1, 1.0, 3) / 2, 8);
    expect(roundRdp(0, 1.0, 3)).toBe(0);
  });

  it('finds the smallest noise multiplier that keeps a target ε, and spends no more than it', () => {
    const found = noiseFor({ sampleRate: 0.01, steps: 1000, delta: 1e-5, epsilon: 2 });
    expect(found.epsilon).toBeLessThanOrEqual(2);
    expect(privacySpent({ sampleRate: 0.01, noise: found.noise * 0.99, steps: 1000, delta: 1e-5 }).epsilon).toBeGreaterThan(2);
  });

  it('the Balle et al. conversion is never looser than the classic one', () => {
    for (const a of [1.1, 2, 9, 64]) expect(epsilonAtOrder(1, a, 1e-5, 'balle2020')).toBeLessThanOrEqual(epsilonAtOrder(1, a, 1e-5, 'classic'));
  });

  it('refuses settings that are not a mechanism', () => {
    expect(() => roundRdp(1.5, 1, 2)).toThrow(/sample rate/);
    expect(() => roundRdp(0.1, 0, 2)).toThrow(/noise multiplier/);
    expect(() => privacySpent({ sampleRate: 0.1, noise: 1, steps: 1, delta: 0 })).toThrow(/δ/);
  });
});
