import { describe, expect, it } from 'vitest';
import { evenTicks, privacyChart } from './privacyChart';

describe('the privacy chart', () => {
  const series = { delta: 1e-5, budget: 3, points: [{ round: 2, epsilon: 1.1 }, { round: 1, epsilon: 0.7 }] };

  it('draws ε from round 0 (nothing spent), in round order, under a budget line with room above', () => {
    const c = privacyChart(series, null, 3)!;
    expect(c.rows).toEqual([{ round: 0, epsilon: 0 }, { round: 1, epsilon: 0.7 }, { round: 2, epsilon: 1.1 }]);
    expect(c.lastRound).toBe(2);
    expect(c.top).toBeGreaterThan(3);
    expect(c.top).toBeLessThanOrEqual(4);
    expect(c.current).toEqual({ epsilon: 1.1, budget: 3, delta: 1e-5, rounds: null });
  });

  it('says what the study has spent now, an open round included, from its live status', () => {
    const c = privacyChart(series, { epsilon: 1.4, delta: 1e-5, budget: 3, rounds: 3, exhausted: false }, 3)!;
    expect(c.current).toEqual({ epsilon: 1.4, budget: 3, delta: 1e-5, rounds: 3 });
    // Before the series arrives, the status alone still gives the figure and an empty chart.
    expect(privacyChart(null, { epsilon: 0, delta: 1e-5, budget: 3, rounds: 0, exhausted: false }, 3)).toMatchObject({ rows: [{ round: 0, epsilon: 0 }], lastRound: 1 });
  });

  it('is absent for a study without privacy', () => {
    expect(privacyChart(null, null, null)).toBeNull();
  });

  it('spaces the axis ticks evenly up to its top', () => {
    expect(evenTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(evenTicks(4)).toEqual([0, 1, 2, 3, 4]);
    expect(evenTicks(1.5)).toEqual([0, 0.5, 1, 1.5]);
    expect(evenTicks(12)).toEqual([0, 3, 6, 9, 12]);
    expect(evenTicks(0.25)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25]);
    for (const top of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 30, 0.06, 800]) {
      const t = evenTicks(top);
      expect(t[0]).toBe(0);
      expect(t.at(-1)).toBeCloseTo(top, 9);
      expect(t.length).toBeGreaterThanOrEqual(3);
      expect(t.length).toBeLessThanOrEqual(6);
    }
    expect(privacyChart({ delta: 1e-5, budget: 8, points: [{ round: 1, epsilon: 4.7 }] }, null, 8)!.ticks).toEqual([0, 2, 4, 6, 8, 10]);
  });
});
