import { describe, expect, it } from 'vitest';
import { maxOf, selectInPlace, selectTwoInPlace } from './select';

describe('quickselect', () => {
  it('puts the k-th smallest at k, smaller before, larger after, for every k', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (const n of [1, 2, 3, 16, 17, 18, 31, 50, 101]) {
      for (const dupes of [false, true]) {
        const values = Array.from({ length: n }, () => (dupes ? Math.floor(rand() * 4) - 2 : rand() - 0.5));
        const sorted = [...values].sort((a, b) => a - b);
        for (let k = 0; k < n; k++) {
          const a = Float64Array.from(values);
          selectInPlace(a, 0, n - 1, k);
          expect(a[k]).toBe(sorted[k]);
          for (let i = 0; i < k; i++) expect(a[i]).toBeLessThanOrEqual(a[k]);
          for (let i = k + 1; i < n; i++) expect(a[i]).toBeGreaterThanOrEqual(a[k]);
          expect([...a].sort((x, y) => x - y)).toEqual(sorted);
          if (k > 0) expect(maxOf(a, 0, k - 1)).toBe(sorted[k - 1]);
        }
      }
    }
  });

  it('selects two ranks at once: the values between them are exactly the sorted ones', () => {
    let seed = 11;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (const n of [1, 5, 6, 7, 17, 50, 101, 300]) {
      for (const dupes of [0, 1, 2]) {
        // dupes 2: mostly one value (a coordinate few updates moved), the equal-run path
        const values = Array.from({ length: n }, () => (dupes === 2 ? (rand() < 0.9 ? 0 : rand()) : dupes ? Math.floor(rand() * 4) - 2 : rand() - 0.5));
        const sorted = [...values].sort((a, b) => a - b);
        for (const [k1, k2] of [[0, n - 1], [Math.floor(n / 5), n - 1 - Math.floor(n / 5)], [n >> 1, n >> 1], [0, 0], [n - 1, n - 1]]) {
          const a = Float64Array.from(values);
          selectTwoInPlace(a, 0, n - 1, k1, k2);
          expect([a[k1], a[k2]]).toEqual([sorted[k1], sorted[k2]]);
          for (let i = 0; i < k1; i++) expect(a[i]).toBeLessThanOrEqual(a[k1]);
          for (let i = k2 + 1; i < n; i++) expect(a[i]).toBeGreaterThanOrEqual(a[k2]);
          expect([...a.subarray(k1, k2 + 1)].sort((x, y) => x - y)).toEqual(sorted.slice(k1, k2 + 1));
        }
      }
    }
  });

  it('works within a sub-range and leaves the rest alone', () => {
    const a = Float64Array.from([9, 5, 4, 3, 2, 1, -9]);
    selectInPlace(a, 1, 5, 3);
    expect(a[3]).toBe(3);
    expect([a[0], a[6]]).toEqual([9, -9]);
  });
});

describe('coordinate-wise statistics by selection', () => {
  it('give the sorted-column median exactly, and its trimmed mean, across coordinate blocks', async () => {
    const { coordinateMedian, coordinateTrimmedMean } = await import('./coordinateWise');
    for (const n of [4, 31, 50]) {
      const ups = Array.from({ length: n }, (_, k) => ({
        participantId: `p${k}`,
        numSamples: 1,
        delta: [Float32Array.from({ length: 300 }, (_, i) => Math.sin(k * 7.3 + i * 1.7) * 10 ** ((i + k) % 5))],
      }));
      const median = coordinateMedian([new Float32Array(300)], ups)[0];
      const trimmed = coordinateTrimmedMean([new Float32Array(300)], ups, Math.floor(n / 5))[0];
      for (let i = 0; i < 300; i++) {
        const column = ups.map((u) => u.delta[0][i]).sort((a, b) => a - b);
        const m = n % 2 ? column[n >> 1] : (column[(n >> 1) - 1] + column[n >> 1]) / 2;
        expect(median[i]).toBe(m);
        const t = Math.floor(n / 5);
        const kept = column.slice(t, n - t);
        expect(trimmed[i]).toBeCloseTo(kept.reduce((s, x) => s + x, 0) / kept.length, 10);
      }
    }
  });
});
