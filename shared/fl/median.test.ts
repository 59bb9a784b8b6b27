import { describe, expect, it } from 'vitest';
import { medianStrategy } from './median';

const f = (...v: number[]) => Float32Array.from(v);
const ups = (...deltas: number[][]) => deltas.map((d, i) => ({ participantId: String.fromCharCode(97 + i), numSamples: 10 + i, delta: [f(...d)] }));

describe('coordinate-wise median', () => {
  it('follows a hand-computed sequence over three rounds (odd and even counts)', () => {
    const s = medianStrategy();
    // Five sites, e wild: columns sorted [1,2,3,4,100] [−100,2,3,4,5] [−1,0,1,2,3] → [3, 3, 1]
    const r1 = s.aggregate([f(0, 0, 0)], ups([1, 5, -1], [2, 4, 0], [3, 3, 1], [4, 2, 2], [100, -100, 3]));
    expect(Array.from(r1.weights[0])).toEqual([3, 3, 1]);
    // Four sites: the mean of the two middle values: [1,2,3,10] → 2.5, [−2,0,1,3] → 0.5, [−1,0,0,1] → 0
    const r2 = s.aggregate(r1.weights, ups([1, 1, 1], [2, -2, 0], [3, 3, -1], [10, 0, 0]));
    expect(Array.from(r2.weights[0])).toEqual([5.5, 3.5, 1]);
    // Three sites: [−7, .5, .5] → .5, [0, 1, 2] → 1, [0, 1, 2] → 1
    const r3 = s.aggregate(r2.weights, ups([0.5, 0, 0], [0.5, 1, 2], [-7, 2, 1]));
    expect(Array.from(r3.weights[0])).toEqual([6, 4.5, 2]);
  });

  it('returns the update itself when every update is the same', () => {
    const d = [f(0.123, -4.5e-7, 3e8), f(Math.PI)];
    const same = ['a', 'b', 'c', 'd'].map((p) => ({ participantId: p, numSamples: 1, delta: d }));
    const r = medianStrategy().aggregate([f(0, 0, 0), f(0)], same);
    expect(r.weights.map((t) => Array.from(t))).toEqual(d.map((t) => Array.from(t)));
  });

  it('ignores one wild outlier, where FedAvg would follow it', () => {
    const honest = ups([1, 1], [1.1, 0.9], [0.9, 1.1], [1.05, 0.95]);
    const wild = { participantId: 'z', numSamples: 1000, delta: [f(-1e6, 1e6)] };
    const r = medianStrategy().aggregate([f(0, 0)], [...honest, wild]);
    for (const x of r.weights[0]) expect(Math.abs(x - 1)).toBeLessThan(0.11);
    expect(r.report.updates.find((u) => u.participantId === 'z')!.distance).toBeGreaterThan(1e6);
    expect(r.report.updates.every((u) => u.weight === null && u.selected)).toBe(true);
  });

  it('sorts larger rounds too (beyond the insertion-sort size)', () => {
    const many = Array.from({ length: 31 }, (_, i) => ({ participantId: `p${String(i).padStart(2, '0')}`, numSamples: 1, delta: [f((i * 17) % 31, -i)] }));
    expect(Array.from(medianStrategy().aggregate([f(0, 0)], many).weights[0])).toEqual([15, -15]);
  });
});
