import { describe, expect, it } from 'vitest';
import { fedAvgStrategy } from './fedavg';
import { krumStrategy } from './krum';
import { medianStrategy } from './median';
import { clipUpdates, median } from './normBound';
import { l2Norm } from './vectors';

const f = (...v: number[]) => Float32Array.from(v);
const up = (participantId: string, ...delta: number[]) => ({ participantId, numSamples: 1, delta: [f(...delta)] });

describe('norm bounding', () => {
  it('takes the median norm of the round (mean of the middle two for an even count)', () => {
    expect(median([10, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('scales every update longer than factor × median norm down to that length, and no other', () => {
    // norms 1, 2 (median), 10: with factor 1 the bound is 2, so c shrinks by 2/10
    const ups = [up('a', 0.6, 0.8), up('b', 0, 2), up('c', 6, 8)];
    const r = clipUpdates(ups, ups.map((u) => l2Norm(u.delta)), { factor: 1 });
    expect(r.bound).toBe(2);
    expect(r.scales).toEqual([1, 1, 0.2]);
    expect(r.updates[0]).toBe(ups[0]);
    expect(Array.from(r.updates[2].delta[0])).toEqual([f(1.2)[0], f(1.6)[0]]);
    expect(Array.from(ups[2].delta[0])).toEqual([6, 8]);
    const wide = clipUpdates(ups, [1, 2, 10], { factor: 2.5 });
    expect(wide.bound).toBe(5);
    expect(wide.scales).toEqual([1, 1, 0.5]);
  });

  it('runs before the strategy and shows in its report (FedAvg, two rounds)', () => {
    const s = fedAvgStrategy({ normBound: { factor: 1 } });
    // Round 1: c [6, 8] is clipped to [1.2, 1.6]; mean of [0.6,0.8], [0,2], [1.2,1.6] = [0.6, 4.4/3]
    const r1 = s.aggregate([f(0, 0)], [up('c', 6, 8), up('a', 0.6, 0.8), up('b', 0, 2)]);
    expect(r1.weights[0][0]).toBeCloseTo(0.6, 6);
    expect(r1.weights[0][1]).toBeCloseTo(4.4 / 3, 6);
    expect(r1.report.normBound).toBe(2);
    expect(r1.report.updates.map((u) => [u.participantId, u.norm, u.clipped, u.scale])).toEqual([
      ['a', expect.closeTo(1, 6), false, 1],
      ['b', 2, false, 1],
      ['c', 10, true, 0.2],
    ]);
    // Round 2: norms 3, 5, 4 → bound 4: b [0, 5] becomes [0, 4]; mean ([3,0] + [0,4] + [0,4]) / 3 = [1, 8/3]
    const r2 = s.aggregate(r1.weights, [up('a', 3, 0), up('b', 0, 5), up('c', 0, 4)]);
    expect(r2.report.updates.map((u) => u.clipped)).toEqual([false, true, false]);
    expect(r2.weights[0][0]).toBeCloseTo(0.6 + 1, 6);
    expect(r2.weights[0][1]).toBeCloseTo(4.4 / 3 + 8 / 3, 5);
  });

  it('applies before robust rules too', () => {
    const honest = [up('a', 1, 0), up('b', 0, 1), up('c', 1, 1), up('d', 0.5, 0.5)];
    const wild = up('e', 300, 400);
    const r = medianStrategy({ normBound: { factor: 1 } }).aggregate([f(0, 0)], [...honest, wild]);
    expect(r.report.updates[4]).toMatchObject({ clipped: true, norm: 500 });
    const k = krumStrategy({ normBound: { factor: 2 } }).aggregate([f(0, 0)], [...honest, wild]);
    expect(k.report.updates[4].clipped).toBe(true);
    expect(k.report.updates[4].selected).toBe(false);
  });

  it('is off unless configured', () => {
    const r = fedAvgStrategy().aggregate([f(0)], [up('a', 100), up('b', 1), up('c', 2)]);
    expect(r.report.normBound).toBeNull();
    expect(r.report.updates.some((u) => u.clipped)).toBe(false);
  });
});
