import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../synthetic/rng';
import { chooseRing, decodeFixed, encodeFixed, ringAdd, ringBudget, ringSub, type RingBits } from './ring';

describe('the fixed-point ring', () => {
  it('budgets the bits a sum needs and picks 2^32 or 2^64', () => {
    // 5 sites, weight 1, values within ±2.5, 16 fraction bits: log2(12.5) + 16 → 20 bits + sign.
    expect(ringBudget(5, 1, 2.5, 16)).toEqual({ needed: 21, bits: 32 });
    // 100 sites weighted up to 1,000 records, ±2.5, 24 fraction bits: 2^58 → the 64-bit ring.
    expect(ringBudget(100, 1000, 2.5, 24)).toEqual({ needed: 43, bits: 64 });
    expect(() => ringBudget(1e6, 1e6, 1e3, 40)).toThrow(/needs \d+ bits .* lower the fraction bits or the clip/);
  });

  for (const bits of [32, 64] as RingBits[]) {
    it(`sums signed fixed-point values exactly in 2^${bits}, within n · 2^-(f+1) of the real sum`, () => {
      const f = bits === 32 ? 16 : 30;
      const rand = mulberry32(bits);
      const sites = 20;
      const n = 500;
      const updates = Array.from({ length: sites }, () => Float32Array.from({ length: n }, () => (rand() - 0.5) * 5));
      const weights = updates.map(() => (bits === 32 ? 1 : 1 + Math.floor(rand() * 300)));
      const acc = new Uint32Array(n * (bits / 32));
      updates.forEach((u, k) => ringAdd(acc, encodeFixed(u, weights[k], f, bits), bits));
      const sum = decodeFixed(acc, f, bits);
      // Exact against the integer sum of the rounded values, and close to the real sum.
      for (let i = 0; i < n; i++) {
        const integer = updates.reduce((s, u, k) => s + Math.round(u[i] * weights[k] * 2 ** f), 0);
        expect(sum[i]).toBe(integer * 2 ** -f);
        const real = updates.reduce((s, u, k) => s + u[i] * weights[k], 0);
        expect(Math.abs(sum[i] - real)).toBeLessThanOrEqual(sites * 2 ** -(f + 1) * (1 + 1e-9));
      }
    });

    it(`lets uniform masks cancel in 2^${bits}: added by one party, subtracted by another`, () => {
      const rand = mulberry32(7 + bits);
      const words = 64 * (bits / 32);
      const mask = Uint32Array.from({ length: words }, () => Math.floor(rand() * 2 ** 32));
      const x = encodeFixed(Float32Array.from({ length: 64 }, (_, i) => i - 31.5), 1, 8, bits);
      const acc = new Uint32Array(words);
      ringAdd(acc, x, bits);
      ringAdd(acc, mask, bits);
      // Masked, the vector looks nothing like x.
      expect([...acc]).not.toEqual([...x]);
      ringSub(acc, mask, bits);
      expect([...decodeFixed(acc, 8, bits)]).toEqual(Array.from({ length: 64 }, (_, i) => i - 31.5));
    });
  }

  it('refuses values that no fixed-point integer holds', () => {
    expect(() => encodeFixed([1e10], 1, 50, 64)).toThrow(/does not fit/);
    expect(() => ringAdd(new Uint32Array(2), new Uint32Array(4), 32)).toThrow(/2 and 4 words/);
  });
});

describe('the ring a round gets when the study sets no precision', () => {
  it('keeps the 32-bit ring (the bytes of a float32 update) down to 12 fraction bits, then takes the 64-bit one', () => {
    // 100 sites × weight cap 1,000 × clip 1: 2^16.6, so the 32-bit ring leaves 14 fraction bits.
    expect(chooseRing(100, 1000, 1, null)).toMatchObject({ bits: 32, fractionBits: 14 });
    // 100 × 10,000: 2^19.9 leaves 11 < 12: the 64-bit ring, with as many as keep one weighted value exact in float64 (52 − log2 10,000).
    expect(chooseRing(100, 10_000, 1, null)).toMatchObject({ bits: 64, fractionBits: 38 });
    expect(chooseRing(5, 500, 1, null)).toMatchObject({ bits: 32, fractionBits: 19 });
  });
});
