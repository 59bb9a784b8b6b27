import { describe, expect, it } from 'vitest';
import { addScaled, byParticipant, l2Norm, parameterCount, scaleTensors, squaredDistance } from './vectors';

const f = (...v: number[]) => Float32Array.from(v);

describe('tensor-list arithmetic', () => {
  it('measures across every tensor of a model', () => {
    const a = [f(3, 0), f(4)];
    expect(parameterCount(a)).toBe(3);
    expect(l2Norm(a)).toBe(5);
    expect(squaredDistance(a, [f(0, 1), f(4)])).toBe(10);
  });

  it('scales into new arrays and adds in float64 before rounding once', () => {
    const a = [f(1, -2)];
    expect(Array.from(scaleTensors(a, 0.5)[0])).toEqual([0.5, -1]);
    expect(Array.from(a[0])).toEqual([1, -2]);
    // the step stays in float64 until the single rounding of 1 + 100·3e-8
    expect(addScaled([f(1)], [Float64Array.from([3e-8])], 100)[0][0]).toBe(Math.fround(1 + 3e-6));
  });

  it('orders by participant id, leaving the input alone', () => {
    const items = [{ participantId: 'b' }, { participantId: 'a10' }, { participantId: 'a2' }];
    expect(byParticipant(items).map((i) => i.participantId)).toEqual(['a10', 'a2', 'b']);
    expect(items[0].participantId).toBe('b');
  });
});
