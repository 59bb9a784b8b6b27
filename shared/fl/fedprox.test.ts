import { describe, expect, it } from 'vitest';
import { fedAvg } from './fedavg';
import { addProximalGradient, fedProxStrategy, proximalPenalty } from './fedprox';

const f = (...v: number[]) => Float32Array.from(v);

describe('FedProx', () => {
  it('adds μ·(w − w_global) to the local gradient, tensor by tensor', () => {
    const grads = [f(1, 1), f(0)];
    const local = [f(3, -1), f(2)];
    const global = [f(1, 1), f(0)];
    // μ = 0.5: [1 + 0.5·2, 1 + 0.5·(−2)] = [2, 0] and [0 + 0.5·2] = [1]
    const out = addProximalGradient(grads, local, global, 0.5);
    expect(out).toBe(grads);
    expect(grads.map((g) => Array.from(g))).toEqual([[2, 0], [1]]);
  });

  it('penalises μ/2·‖w − w_global‖², and its gradient matches the penalty’s slope', () => {
    const local = [f(3, -1), f(2)];
    const global = [f(1, 1), f(0)];
    // ‖w − w_g‖² = 4 + 4 + 4 = 12; μ = 0.5 → 3
    expect(proximalPenalty(local, global, 0.5)).toBe(3);
    const h = 1e-3;
    const bumped = [f(3 + h, -1), f(2)];
    const slope = (proximalPenalty(bumped, global, 0.5) - proximalPenalty(local, global, 0.5)) / h;
    const grad = addProximalGradient([f(0, 0), f(0)], local, global, 0.5);
    expect(slope).toBeCloseTo(grad[0][0], 2);
  });

  it('is no pull at all with μ = 0', () => {
    expect(Array.from(addProximalGradient([f(1.5)], [f(10)], [f(-10)], 0)[0])).toEqual([1.5]);
  });

  it('aggregates like FedAvg on the server over several rounds, and reports μ', () => {
    const s = fedProxStrategy({ mu: 0.1 });
    const rounds = [
      [
        { participantId: 'a', numSamples: 1, delta: [f(3, 0)] },
        { participantId: 'b', numSamples: 3, delta: [f(-1, 4)] },
      ],
      [
        { participantId: 'a', numSamples: 2, delta: [f(1, 1)] },
        { participantId: 'b', numSamples: 2, delta: [f(0, -2)] },
      ],
      [{ participantId: 'b', numSamples: 5, delta: [f(0.5, 0.5)] }],
    ];
    // [0,0] → + (3 − 3)/4, (0 + 12)/4 = [0, 3] → + [0.5, −0.5] = [0.5, 2.5] → + [0.5, 0.5] = [1, 3]
    const expected = [
      [0, 3],
      [0.5, 2.5],
      [1, 3],
    ];
    let w: Float32Array[] = [f(0, 0)];
    for (const [i, ups] of rounds.entries()) {
      const r = s.aggregate(w, ups);
      expect(Array.from(r.weights[0])).toEqual(expected[i]);
      expect(Array.from(r.weights[0])).toEqual(Array.from(fedAvg(w, ups)[0]));
      expect(r.report.details.mu).toBe(0.1);
      w = r.weights;
    }
  });

  it('refuses a negative μ', () => {
    expect(() => fedProxStrategy({ mu: -1 })).toThrow();
  });
});
