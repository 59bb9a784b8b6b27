import { describe, expect, it } from 'vitest';
import { keyedUniform, secureUniform } from './noise';

describe('the randomness of differential privacy', () => {
  it('draws the same noise from the same round key (a replayed round adds the same), other noise from another', () => {
    const a = keyedUniform('11'.repeat(32));
    const b = keyedUniform('11'.repeat(32));
    const c = keyedUniform('12'.repeat(32));
    const first = Array.from({ length: 5000 }, a);
    expect(Array.from({ length: 5000 }, b)).toEqual(first);
    expect(Array.from({ length: 5000 }, c)).not.toEqual(first);
    expect(() => keyedUniform('11')).toThrow(/32 bytes/);
  });

  it('gives uniform draws in [0, 1) with 53 bits, keyed or from the OS', () => {
    for (const uniform of [keyedUniform('ab'.repeat(32)), secureUniform()]) {
      const n = 100_000;
      const draws = Array.from({ length: n }, uniform);
      expect(draws.every((u) => u >= 0 && u < 1)).toBe(true);
      const mean = draws.reduce((s, u) => s + u, 0) / n;
      // Uniform: mean 1/2 with standard error √(1/12n); deciles of n/10 each (6 standard errors: the OS draws are not seeded).
      expect(Math.abs(mean - 0.5)).toBeLessThan(6 * Math.sqrt(1 / 12 / n));
      const deciles = new Array(10).fill(0);
      for (const u of draws) deciles[Math.floor(u * 10)]++;
      for (const d of deciles) expect(Math.abs(d - n / 10)).toBeLessThan(6 * Math.sqrt(n * 0.09));
      // Draws are not all multiples of 2^-32: the low bits are random too.
      expect(draws.some((u) => (u * 2 ** 32) % 1 !== 0)).toBe(true);
    }
  });
});
