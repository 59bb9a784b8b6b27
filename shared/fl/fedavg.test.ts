import { describe, expect, it } from 'vitest';
import { fedAvg } from './fedavg';

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
