import { describe, expect, it } from 'vitest';
import { toSeries } from './convergence';

const m = (version: number, round: number | null, loss: number | null, accuracy: number | null) => ({
  version,
  round,
  loss,
  accuracy,
  numSamples: 100,
  reports: 3,
  flagged: 0,
});

describe('toSeries', () => {
  it('plots one point per round in round order, accuracy in percent, leaving out the initial model', () => {
    const series = toSeries([m(2, 2, 0.4, 0.81234), m(0, null, 0.7, 0.5), m(1, 1, 0.5, 0.75)]);
    expect(series).toEqual([
      { round: 1, loss: 0.5, accuracy: 75 },
      { round: 2, loss: 0.4, accuracy: 81.2 },
    ]);
  });

  it('keeps a round whose metrics have not arrived yet as a gap', () => {
    expect(toSeries([m(1, 1, null, null)])).toEqual([{ round: 1, loss: null, accuracy: null }]);
  });
});
