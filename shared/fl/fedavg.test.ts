import { describe, expect, it } from 'vitest';
import { fedAvg, fedAvgStrategy } from './fedavg';

const f = (...v: number[]) => Float32Array.from(v);

describe('fedAvg', () => {
  it('matches a hand-computed, sample-weighted example', () => {
    // global [1, 2] and [0.5]; A (100 samples) Δ [1, -1] [2]; B (300 samples) Δ [-1, 3] [-2]
    // Σ nΔ / Σ n = ([100-300, -100+900] / 400, [200-600] / 400) = ([-0.5, 2], [-1])
    const out = fedAvg([f(1, 2), f(0.5)], [
      { participantId: 'a', numSamples: 100, delta: [f(1, -1), f(2)] },
      { participantId: 'b', numSamples: 300, delta: [f(-1, 3), f(-2)] },
    ]);
    expect(Array.from(out[0])).toEqual([0.5, 4]);
    expect(Array.from(out[1])).toEqual([-0.5]);
  });

  it('weights by samples, not by participant (unlike plain averaging)', () => {
    const out = fedAvg([f(0)], [
      { participantId: 'big', numSamples: 900, delta: [f(1)] },
      { participantId: 'small', numSamples: 100, delta: [f(0)] },
    ]);
    expect(out[0][0]).toBeCloseTo(0.9, 6);
  });

  it('gives the same bits whatever order updates arrive in', () => {
    const ups = Array.from({ length: 7 }, (_, i) => ({
      participantId: `p${i}`,
      numSamples: 10 + i * 37,
      delta: [Float32Array.from({ length: 50 }, (_, j) => Math.sin(i * 13 + j) * 1e-3 * (i + 1))],
    }));
    const a = fedAvg([new Float32Array(50)], ups)[0];
    const b = fedAvg([new Float32Array(50)], [...ups].reverse())[0];
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  it('refuses no updates, zero samples and mismatched tensors', () => {
    expect(() => fedAvg([f(1)], [])).toThrow(/at least one/);
    expect(() => fedAvg([f(1)], [{ participantId: 'a', numSamples: 0, delta: [f(1)] }])).toThrow(/positive/);
    expect(() => fedAvg([f(1, 2)], [{ participantId: 'a', numSamples: 1, delta: [f(1)] }])).toThrow(/wrong length/);
  });
});

describe('fedAvgStrategy', () => {
  const up = (participantId: string, numSamples: number, ...delta: number[]) => ({ participantId, numSamples, delta: [f(...delta)] });

  it('follows a hand-computed sequence over three rounds', () => {
    const s = fedAvgStrategy();
    // Round 1: (1·[3,0] + 1·[0,3] + 2·[1,1]) / 4 = [1.25, 1.25]
    const r1 = s.aggregate([f(0, 0)], [up('c', 2, 1, 1), up('a', 1, 3, 0), up('b', 1, 0, 3)]);
    expect(Array.from(r1.weights[0])).toEqual([1.25, 1.25]);
    // Round 2: (2·[-1,2] + 1·[2,-1] + 1·[0,0]) / 4 = [0, 0.75]
    const r2 = s.aggregate(r1.weights, [up('a', 2, -1, 2), up('b', 1, 2, -1), up('c', 1, 0, 0)], r1.state);
    expect(Array.from(r2.weights[0])).toEqual([1.25, 2]);
    // Round 3: (1·[4,4] + 3·[0,-4]) / 4 = [1, -2]
    const r3 = s.aggregate(r2.weights, [up('b', 3, 0, -4), up('a', 1, 4, 4)], r2.state);
    expect(Array.from(r3.weights[0])).toEqual([2.25, 0]);
    expect(r3.state).toBeNull();
  });

  it('gives the same bits as fedAvg and reports each update’s share', () => {
    const base = [f(0.1, 0.2, 0.3), f(-1)];
    const ups = [
      { participantId: 'x', numSamples: 3, delta: [f(0.01, 0.02, 0.03), f(0.5)] },
      { participantId: 'w', numSamples: 7, delta: [f(-0.3, 0.1, 0.7), f(0.25)] },
    ];
    const r = fedAvgStrategy().aggregate(base, ups);
    expect(r.weights.map((t) => Array.from(t))).toEqual(fedAvg(base, ups).map((t) => Array.from(t)));
    expect(r.report.strategy).toBe('fedavg');
    expect(r.report.updates.map((u) => [u.participantId, u.weight, u.selected, u.clipped])).toEqual([
      ['w', 0.7, true, false],
      ['x', 0.3, true, false],
    ]);
    expect(r.report.updates[1].norm).toBeCloseTo(Math.sqrt(0.01 ** 2 + 0.02 ** 2 + 0.03 ** 2 + 0.25), 6);
  });
});
