import { describe, expect, it } from 'vitest';
import { boundsSummary } from './RoundsTable';

const round = { round: 1, status: 'closed' as const, baseVersion: 0, version: 1, sampled: 5, received: 5, openedAt: '', closedAt: null, deadline: '', epsilon: null, noiseStd: null, secure: null };

describe('a round’s clipping and weights, as the rounds table says them', () => {
  it('names the bound, each clipped update with its norm, and each capped one with what it declared', () => {
    expect(
      boundsSummary({ ...round, clipMode: 'adaptive', clipNorm: 1.5163, sampleCap: 1002, clipped: [{ participantId: 'hospital-a', norm: 1234.5 }], capped: [{ participantId: 'hospital-a', declared: 100_000_000 }] }),
    ).toMatch(/^bound 1\.516 \(adaptive\); clipped: hospital-a \(norm 1234\.500\); weight capped at 1,?002: hospital-a \(declared 100,?000,?000\)$/);
  });

  it('says plainly when a round had no clipping', () => {
    expect(boundsSummary({ ...round, clipMode: 'none', clipNorm: null, sampleCap: null, clipped: [], capped: [] })).toMatch(/no clipping: one site can move the model/);
  });

  it('under differential privacy, says a weight was capped at the record cap (a round has no sample cap of its own)', () => {
    expect(
      boundsSummary({ ...round, epsilon: 4.73, noiseStd: 0.333, clipMode: 'fixed', clipNorm: 1, sampleCap: null, clipped: [], capped: [{ participantId: 'hospital-a', declared: 480 }] }),
    ).toBe('bound 1.000 (fixed); weight capped at the record cap: hospital-a (declared 480)');
    expect(
      boundsSummary({ ...round, epsilon: 4.73, noiseStd: 0.333, clipMode: 'fixed', clipNorm: 1, sampleCap: 100, clipped: [], capped: [{ participantId: 'hospital-a', declared: 480 }] }),
    ).toBe('bound 1.000 (fixed); weight capped at the record cap (100): hospital-a (declared 480)');
  });

  it('under secure aggregation, says the bound is the sites’ own and how many sites are in the sum', () => {
    expect(
      boundsSummary({ ...round, sampled: 3, received: 2, secure: { threshold: 2, survivors: 2 }, clipMode: 'fixed', clipNorm: 2, sampleCap: 560, clipped: [], capped: [] }),
    ).toBe('bound 2.000, applied by each site: the server cannot check it; secure sum of 2 of 3 sites (threshold 2)');
  });
});
