import { describe, expect, it } from 'vitest';
import { pairwiseSquaredDistances } from './pairwise';
import { squaredDistancesTo, sumsOfSquares } from './sums';
import { squaredDistance, sumOfSquares } from './vectors';

const updates = (n: number) =>
  Array.from({ length: n }, (_, i) => [
    Float32Array.from({ length: 5000 }, (_, j) => Math.sin(i * 11 + j) * 10 ** ((j % 7) - 4)),
    Float32Array.from({ length: 3 }, (_, j) => i * j - 1.5),
  ]);

describe('pairwise squared distances', () => {
  it('are each pair’s one-loop distance bit for bit, across chunk and block boundaries', () => {
    for (const n of [1, 2, 5, 7, 9]) {
      const ds = updates(n);
      const table = pairwiseSquaredDistances(ds);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) expect(table[i * n + j]).toBe(i === j ? 0 : squaredDistance(ds[Math.min(i, j)], ds[Math.max(i, j)]));
    }
  });
});

describe('per-update sums', () => {
  it('norms and distances to a mean are the plain loops’ bit for bit', () => {
    const ds = updates(6);
    const mean = ds[0].map((t, k) => Float64Array.from(t, (_, i) => ds.reduce((s, d) => s + d[k][i], 0) / 6));
    expect(Array.from(sumsOfSquares(ds))).toEqual(ds.map((d) => sumOfSquares(d)));
    expect(Array.from(squaredDistancesTo(mean, ds))).toEqual(ds.map((d) => squaredDistance(d, mean)));
  });
});
