import { describe, expect, it } from 'vitest';
import { fedAvg } from './fedavg';
import { fedAvgMStrategy } from './fedavgm';
import { decodeServerState, encodeServerState } from './state';

const f = (...v: number[]) => Float32Array.from(v);
const up = (participantId: string, numSamples: number, ...delta: number[]) => ({ participantId, numSamples, delta: [f(...delta)] });

// The same three rounds as FedAvg's example: mean deltas [1.25, 1.25], [0, 0.75], [1, -2].
const rounds = [
  [up('a', 1, 3, 0), up('b', 1, 0, 3), up('c', 2, 1, 1)],
  [up('a', 2, -1, 2), up('b', 1, 2, -1), up('c', 1, 0, 0)],
  [up('a', 1, 4, 4), up('b', 3, 0, -4)],
];

describe('FedAvgM', () => {
  it('follows a hand-computed momentum sequence (β = 0.5, η = 2)', () => {
    const s = fedAvgMStrategy({ momentum: 0.5, serverLearningRate: 2 });
    // v1 = [1.25, 1.25]                       x1 = 0 + 2·v1 = [2.5, 2.5]
    // v2 = 0.5·v1 + [0, 0.75] = [0.625, 1.375]   x2 = [3.75, 5.25]
    // v3 = 0.5·v2 + [1, -2] = [1.3125, -1.3125]  x3 = [6.375, 2.625]
    const expected = [
      { v: [1.25, 1.25], x: [2.5, 2.5] },
      { v: [0.625, 1.375], x: [3.75, 5.25] },
      { v: [1.3125, -1.3125], x: [6.375, 2.625] },
    ];
    let weights: Float32Array[] = [f(0, 0)];
    let state = null;
    for (const [i, ups] of rounds.entries()) {
      const r = s.aggregate(weights, ups, state);
      expect(Array.from(r.weights[0])).toEqual(expected[i].x);
      expect(Array.from(r.state!.slots.velocity[0])).toEqual(expected[i].v);
      expect(r.state!.step).toBe(i + 1);
      weights = r.weights;
      state = r.state;
    }
  });

  it('is FedAvg when β = 0 and η = 1', () => {
    const s = fedAvgMStrategy({ momentum: 0, serverLearningRate: 1 });
    let a: Float32Array[] = [f(0.3, -0.7)];
    let b: Float32Array[] = [f(0.3, -0.7)];
    let state = null;
    for (const ups of rounds) {
      const r = s.aggregate(a, ups, state);
      a = r.weights;
      state = r.state;
      b = fedAvg(b, ups);
      expect(Array.from(a[0])).toEqual(Array.from(b[0]));
    }
  });

  it('continues from stored state exactly as if it had never stopped', () => {
    const s = fedAvgMStrategy();
    const r1 = s.aggregate([f(0.1, 0.2)], rounds[0]);
    const direct = s.aggregate(r1.weights, rounds[1], r1.state);
    const resumed = s.aggregate(r1.weights, rounds[1], decodeServerState(encodeServerState(r1.state!)));
    expect(Array.from(resumed.weights[0])).toEqual(Array.from(direct.weights[0]));
  });

  it('starts afresh, and says so, when the stored state belongs to another strategy', () => {
    const s = fedAvgMStrategy({ momentum: 0.5, serverLearningRate: 2 });
    const foreign = { strategy: 'fedadam' as const, step: 4, slots: { m: [f(9, 9)], v: [f(9, 9)] } };
    const r = s.aggregate([f(0, 0)], rounds[0], foreign);
    expect(Array.from(r.weights[0])).toEqual([2.5, 2.5]);
    expect(r.report.stateReset).toBe(true);
    expect(r.state!.step).toBe(1);
  });

  it('refuses stored state whose layout does not match the model', () => {
    const s = fedAvgMStrategy();
    const bad = { strategy: 'fedavgm' as const, step: 1, slots: { velocity: [f(1, 2, 3)] } };
    expect(() => s.aggregate([f(0, 0)], rounds[0], bad)).toThrow(/layout/);
  });
});
