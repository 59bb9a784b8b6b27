import { describe, expect, it } from 'vitest';
import { trimmedMeanStrategy, trimmedPerSide } from './trimmedMean';

const f = (...v: number[]) => Float32Array.from(v);
const ups = (...deltas: number[][]) => deltas.map((d, i) => ({ participantId: String.fromCharCode(97 + i), numSamples: 5, delta: [f(...d)] }));

describe('coordinate-wise trimmed mean', () => {
  it('drops ⌊β·n⌋ values at each end', () => {
    expect([3, 4, 5, 6, 9, 10].map((n) => trimmedPerSide(n, 0.2))).toEqual([0, 0, 1, 1, 1, 2]);
    expect(trimmedPerSide(100, 0.29)).toBe(29);
  });

  it('follows a hand-computed sequence over three rounds (β = 0.2)', () => {
    const s = trimmedMeanStrategy({ trimFraction: 0.2 });
    // n = 5, one dropped each side: [1,2,3,7,100] → (2+3+7)/3 = 4; [−100,2,3,4,5] → 3; [−1,0,1,2,3] → 1
    const r1 = s.aggregate([f(0, 0, 0)], ups([1, 5, -1], [2, 4, 0], [3, 3, 1], [7, 2, 2], [100, -100, 3]));
    expect(Array.from(r1.weights[0])).toEqual([4, 3, 1]);
    expect(r1.report.details).toEqual({ trimmedPerSide: 1, kept: 3 });
    // n = 4: ⌊0.8⌋ = 0, the plain mean: [2, 1, 0]
    const r2 = s.aggregate(r1.weights, ups([1, 2, 3], [3, 2, 1], [0, 0, 0], [4, 0, -4]));
    expect(Array.from(r2.weights[0])).toEqual([6, 4, 1]);
    expect(r2.report.details.trimmedPerSide).toBe(0);
    // n = 6, one each side: [−20,1,2,3,4,5] → 2.5; [0,0,0,0,1,9] → 0.25; [0,0,0,0,0,8] → 0
    const r3 = s.aggregate(r2.weights, ups([1, 0, 0], [2, 0, 0], [3, 0, 0], [4, 0, 0], [5, 1, 0], [-20, 9, 8]));
    expect(Array.from(r3.weights[0])).toEqual([8.5, 4.25, 1]);
  });

  it('ignores one wild outlier', () => {
    const r = trimmedMeanStrategy({ trimFraction: 0.2 }).aggregate(
      [f(0, 0)],
      [...ups([1, 1], [1.1, 0.9], [0.9, 1.1], [1.05, 0.95]), { participantId: 'z', numSamples: 1e6, delta: [f(1e9, -1e9)] }],
    );
    for (const x of r.weights[0]) expect(Math.abs(x - 1)).toBeLessThan(0.06);
  });

  it('is the plain (unweighted) mean with β = 0', () => {
    const r = trimmedMeanStrategy({ trimFraction: 0 }).aggregate([f(0)], ups([1], [2], [6]));
    expect(r.weights[0][0]).toBe(3);
  });

  it('refuses β of one half or more', () => {
    expect(() => trimmedMeanStrategy({ trimFraction: 0.5 })).toThrow();
  });
});
