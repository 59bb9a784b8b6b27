import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../synthetic/rng';
import { FIELD_SIZE, gfDiv, gfMul, generatorOrder } from './gf65536';
import { combine, split, type RandomWords } from './shamir';

const seeded = (seed: number): RandomWords => {
  const r = mulberry32(seed);
  return (n) => Uint16Array.from({ length: n }, () => Math.floor(r() * 65_536));
};

describe('GF(2^16)', () => {
  it('is a field: 2 generates every non-zero element, and division undoes multiplication', () => {
    expect(generatorOrder()).toBe(FIELD_SIZE - 1);
    const r = mulberry32(1);
    for (let i = 0; i < 2000; i++) {
      const a = 1 + Math.floor(r() * 65_535);
      const b = 1 + Math.floor(r() * 65_535);
      const c = Math.floor(r() * 65_536);
      expect(gfDiv(gfMul(a, b), b)).toBe(a);
      // Distributive over XOR, the field's addition.
      expect(gfMul(a, b ^ c)).toBe(gfMul(a, b) ^ gfMul(a, c));
    }
    expect(() => gfDiv(1, 0)).toThrow(/division by zero/);
  });
});

describe('Shamir t-of-n sharing', () => {
  const secret = crypto.getRandomValues(new Uint8Array(33));

  it('gives the secret back from any t of the n shares, and from more', () => {
    const shares = split(secret, 7, 4);
    expect(combine(shares.slice(0, 4), 33)).toEqual(secret);
    expect(combine([shares[6], shares[1], shares[4], shares[2]], 33)).toEqual(secret);
    expect(combine(shares, 33)).toEqual(secret);
    expect(combine(split(secret, 1, 1), 33)).toEqual(secret);
  });

  it('from t − 1 shares gives a value unrelated to the secret: any secret fits them', () => {
    const shares = split(secret, 5, 3, seeded(2));
    const guess = combine(shares.slice(0, 2), 33);
    expect(guess).not.toEqual(secret);
    // Two shares fit every candidate secret s': the polynomial through them and (0, s') gives a third
    // share with which the three combine to s'. So two shares rule out no secret at all.
    const words = (b: Uint8Array) => Uint16Array.from({ length: 17 }, (_, w) => b[2 * w] | ((b[2 * w + 1] ?? 0) << 8));
    const at = (points: { x: number; y: number }[], z: number) =>
      points.reduce((v, p, i) => v ^ gfMul(p.y, points.reduce((l, q, j) => (j === i ? l : gfMul(l, gfDiv(z ^ q.x, p.x ^ q.x))), 1)), 0);
    for (const candidate of [new Uint8Array(33), new Uint8Array(33).fill(7), secret]) {
      const c = words(candidate);
      const third = { x: 3, y: Uint16Array.from(c, (cw, w) => at([{ x: 0, y: cw }, ...shares.slice(0, 2).map((s) => ({ x: s.x, y: s.y[w] }))], 3)) };
      expect(combine([...shares.slice(0, 2), third], 33)).toEqual(candidate);
    }
  });

  it('scales to thousands of holders', () => {
    const shares = split(secret.subarray(0, 32), 3000, 1501, seeded(3));
    expect(combine(shares.slice(1499), 32)).toEqual(secret.subarray(0, 32));
  });

  it('refuses what cannot be shared or combined', () => {
    expect(() => split(secret, 0, 1)).toThrow(/1 to 65,535 holders/);
    expect(() => split(secret, 3, 4)).toThrow(/threshold must be 1 … 3/);
    const shares = split(secret, 3, 2);
    expect(() => combine([shares[0], shares[0]], 33)).toThrow(/same holder/);
    expect(() => combine([], 33)).toThrow(/no shares/);
  });
});
