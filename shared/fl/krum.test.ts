import { describe, expect, it } from 'vitest';
import { krumScores, krumStrategy, multiKrumStrategy } from './krum';
import { StrategyError } from './strategy';

const f = (...v: number[]) => Float32Array.from(v);
const ups = (...deltas: number[][]) => deltas.map((d, i) => ({ participantId: String.fromCharCode(97 + i), numSamples: 1 + i, delta: [f(...d)] }));

// Round 1, n = 5, f = 1: each score sums the 5 − 1 − 2 = 2 smallest squared distances.
// Squared distances: ab 1, ac 4, ad 8, ae 200, bc 5, bd 5, be 181, cd 4, ce 244, de 208.
// Scores: a 1+4 = 5, b 1+5 = 6, c 4+4 = 8, d 4+5 = 9, e 181+200 = 381.
const round1 = ups([1, 1], [2, 1], [1, 3], [3, 3], [11, -9]);
// Round 2, n = 6, f = 1 (3 neighbours): f sits in the middle of b..e at squared distance 0.5 from each
// (score 1.5); b..e score 0.5 + 1 + 1 = 2.5; a is far away.
const round2 = ups([5, 5], [0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5]);
// Round 3, n = 5: a, b, d, e all score 2; the tie goes to the earliest id, a.
const round3 = ups([2, 0], [2, 1], [-30, 40], [3, 0], [3, 1]);

describe('Krum', () => {
  it('scores by the sum of squared distances to the n − f − 2 nearest neighbours', () => {
    expect(krumScores(round1, 1)).toEqual([5, 6, 8, 9, 381]);
    expect(krumScores(round2, 1)).toEqual([113.5, 2.5, 2.5, 2.5, 2.5, 1.5]);
  });

  it('follows a hand-computed sequence over three rounds', () => {
    const s = krumStrategy({ byzantine: 1 });
    const r1 = s.aggregate([f(0, 0)], round1);
    expect(Array.from(r1.weights[0])).toEqual([1, 1]);
    expect(r1.report.updates.map((u) => u.selected)).toEqual([true, false, false, false, false]);
    expect(r1.report.updates.map((u) => u.score)).toEqual([5, 6, 8, 9, 381]);
    const r2 = s.aggregate(r1.weights, round2);
    expect(Array.from(r2.weights[0])).toEqual([1.5, 1.5]);
    expect(r2.report.updates.find((u) => u.selected)!.participantId).toBe('f');
    const r3 = s.aggregate(r2.weights, round3);
    expect(Array.from(r3.weights[0])).toEqual([3.5, 1.5]);
    expect(r3.report.details).toEqual({ byzantine: 1, neighbours: 2, selected: 1 });
  });

  it('with f = 1 picks a non-outlier whatever the outlier’s id or sample count', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = mulberry(seed);
      const honest = Array.from({ length: 6 }, () => [1 + 0.1 * rand(), -1 + 0.1 * rand(), 0.5 + 0.1 * rand()]);
      const outlierAt = seed % 7;
      const deltas = [...honest.slice(0, outlierAt), [-50 * rand(), 80, 3], ...honest.slice(outlierAt)];
      const updates = ups(...deltas).map((u, i) => (i === outlierAt ? { ...u, numSamples: 1e6 } : u));
      const r = krumStrategy({ byzantine: 1 }).aggregate([f(0, 0, 0)], updates);
      expect(r.report.updates[outlierAt].selected).toBe(false);
      expect(Math.abs(r.weights[0][1] + 1)).toBeLessThan(0.2);
    }
  });

  it('refuses rounds below 2f + 3 updates with a coded error', () => {
    const s = krumStrategy({ byzantine: 1 });
    expect(s.minUpdates).toBe(5);
    try {
      s.aggregate([f(0, 0)], round1.slice(0, 4));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(StrategyError);
      expect((err as StrategyError).code).toBe('too_few_updates');
    }
  });
});

describe('Multi-Krum', () => {
  it('averages the m best-scored updates over three rounds (m = 3)', () => {
    const s = multiKrumStrategy({ byzantine: 1, select: 3 });
    // a, b, c: ([1,1] + [2,1] + [1,3]) / 3 = [4/3, 5/3]
    const r1 = s.aggregate([f(0, 0)], round1);
    expect(r1.weights[0][0]).toBeCloseTo(4 / 3, 6);
    expect(r1.weights[0][1]).toBeCloseTo(5 / 3, 6);
    expect(r1.report.updates.map((u) => u.weight)).toEqual([1 / 3, 1 / 3, 1 / 3, 0, 0]);
    // f, then b and c (ties at 2.5 broken by id): ([0.5,0.5] + [0,0] + [0,1]) / 3 = [1/6, 1/2]
    const r2 = s.aggregate([f(0, 0)], round2);
    expect(r2.report.updates.filter((u) => u.selected).map((u) => u.participantId)).toEqual(['b', 'c', 'f']);
    expect(r2.weights[0][0]).toBeCloseTo(1 / 6, 6);
    expect(r2.weights[0][1]).toBeCloseTo(0.5, 6);
    // a, b, d: ([2,0] + [2,1] + [3,0]) / 3 = [7/3, 1/3]
    const r3 = s.aggregate([f(0, 0)], round3);
    expect(r3.weights[0][0]).toBeCloseTo(7 / 3, 6);
    expect(r3.weights[0][1]).toBeCloseTo(1 / 3, 6);
  });

  it('selects n − f by default, leaving the outlier out', () => {
    // a, b, c, d: ([1,1] + [2,1] + [1,3] + [3,3]) / 4 = [1.75, 2]
    const r = multiKrumStrategy({ byzantine: 1 }).aggregate([f(0, 0)], round1);
    expect(Array.from(r.weights[0])).toEqual([1.75, 2]);
    expect(r.report.updates[4].selected).toBe(false);
  });

  it('is Krum with m = 1', () => {
    const a = multiKrumStrategy({ byzantine: 1, select: 1 }).aggregate([f(0, 0)], round2);
    const b = krumStrategy({ byzantine: 1 }).aggregate([f(0, 0)], round2);
    expect(Array.from(a.weights[0])).toEqual(Array.from(b.weights[0]));
  });
});

function mulberry(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Krum report distances from the pairwise table', () => {
  it('equal the report pass measuring each update against the chosen one, bit for bit', async () => {
    const { squaredDistancesTo } = await import('./sums');
    let seed = 3;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5);
    const updates = Array.from({ length: 9 }, (_, i) => ({
      participantId: `p${i}`,
      numSamples: 1,
      delta: [Float32Array.from({ length: 3001 }, rand), Float32Array.from({ length: 7 }, () => (i % 3 ? rand() : -0))],
    }));
    const r = krumStrategy({ byzantine: 2 }).aggregate([new Float32Array(3001), new Float32Array(7)], updates);
    const k = r.report.updates.findIndex((u) => u.selected);
    const chosen = updates[k].delta.map((t) => Float64Array.from(t));
    const expected = Array.from(squaredDistancesTo(chosen, updates.map((u) => u.delta)), Math.sqrt);
    expect(r.report.updates.map((u) => u.distance)).toEqual(expected);
    expect(r.report.updates[k].distance).toBe(0);
  });
});
