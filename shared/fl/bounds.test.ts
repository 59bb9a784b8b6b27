import { describe, expect, it } from 'vitest';
import { MAX_UPDATE_SAMPLES, roundBounds, scaleBitsFor, updateWeight, weightCapped } from './bounds';
import { defaultClipping } from './clipping';

const history = { previousBound: null, previousNorms: [], initialNorm: 2, reportedCounts: [200, 300, 100_000_000] };

describe('roundBounds', () => {
  it('caps a site’s weight at the factor × the median record count the sampled sites reported', () => {
    const b = roundBounds({ clipping: defaultClipping, maxUpdateNorm: null, weightCapFactor: 2 }, history);
    expect(b).toMatchObject({ clipMode: 'adaptive', clipNorm: 2, valueBound: 2, sampleCap: 600, maxWeight: 600 });
    expect(b.scaleBits).toBe(scaleBitsFor(600, 2));
    // The site that reported 10^8 records weighs what 600 samples weigh; the others as declared.
    expect(updateWeight(100_000_000, 1, b)).toBe(600);
    expect(weightCapped(100_000_000, b)).toBe(true);
    expect(updateWeight(200, 0.5, b)).toBe(100);
    expect(weightCapped(200, b)).toBe(false);
  });

  it('leaves weights uncapped when the study says so, or when no site reported a count', () => {
    const off = roundBounds({ clipping: { mode: 'none' }, maxUpdateNorm: 5, weightCapFactor: null }, history);
    expect(off).toMatchObject({ clipNorm: null, maxNorm: 5, valueBound: 5, sampleCap: null, maxWeight: MAX_UPDATE_SAMPLES });
    expect(updateWeight(1000, 1, off)).toBe(1000);
    expect(roundBounds({ clipping: defaultClipping, maxUpdateNorm: null, weightCapFactor: 2 }, { ...history, reportedCounts: [null, 0] }).sampleCap).toBeNull();
    // Rounds opened before caps were kept have none.
    expect(updateWeight(1000, 1, {})).toBe(1000);
  });
});
