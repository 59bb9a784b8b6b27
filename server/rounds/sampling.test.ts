import { describe, expect, it } from 'vitest';
import { sampleParticipants, sampleSize } from './sampling';

const ids = Array.from({ length: 10 }, (_, i) => `p-${String(i).padStart(2, '0')}`);

describe('participant sampling', () => {
  it('samples the share of online sites, rounded up, never below the minimum nor above who is online', () => {
    expect(sampleSize(10, { participantFraction: 0.3, minParticipants: 1 })).toBe(3);
    expect(sampleSize(10, { participantFraction: 0.25, minParticipants: 1 })).toBe(3);
    expect(sampleSize(10, { participantFraction: 0.1, minParticipants: 4 })).toBe(4);
    expect(sampleSize(3, { participantFraction: 1, minParticipants: 5 })).toBe(3);
    expect(sampleSize(7, { participantFraction: 1, minParticipants: 1 })).toBe(7);
  });

  it('is deterministic per study seed and round, whatever order the ids come in, and varies across rounds', () => {
    const config = { participantFraction: 0.4, minParticipants: 2, seed: 2026 };
    const a = sampleParticipants(ids, config, 3);
    expect(a).toHaveLength(4);
    expect([...a].sort()).toEqual(a);
    expect(new Set(a).size).toBe(4);
    expect(sampleParticipants([...ids].reverse(), config, 3)).toEqual(a);
    const rounds = Array.from({ length: 8 }, (_, r) => sampleParticipants(ids, config, r + 1).join());
    expect(new Set(rounds).size).toBeGreaterThan(1);
    expect(sampleParticipants(ids, { ...config, seed: 7 }, 3)).not.toEqual(a);
  });

  it('takes everyone online when the fraction is 1', () => {
    expect(sampleParticipants(['b', 'a', 'c'], { participantFraction: 1, minParticipants: 1, seed: 1 }, 1)).toEqual(['a', 'b', 'c']);
  });
});
