import { describe, expect, it } from 'vitest';
import { canOpenRound, decideRound } from './roundPolicy';

const base = { sampled: 3, minParticipants: 2, deadline: 1000 };

describe('round policy', () => {
  it('closes as soon as every sampled participant has reported, before the deadline', () => {
    expect(decideRound({ ...base, received: 3, now: 10 })).toEqual({ action: 'aggregate', reason: 'all_reported' });
  });
  it('waits while updates are missing and the deadline has not passed', () => {
    expect(decideRound({ ...base, received: 2, now: 999 }).action).toBe('wait');
  });
  it('aggregates at the deadline when the minimum was reached', () => {
    expect(decideRound({ ...base, received: 2, now: 1000 })).toEqual({ action: 'aggregate', reason: 'deadline_quorum' });
  });
  it('abandons at the deadline below the minimum', () => {
    expect(decideRound({ ...base, received: 1, now: 1500 })).toEqual({ action: 'abandon', reason: 'deadline_no_quorum' });
    expect(decideRound({ ...base, received: 0, now: 1500 }).action).toBe('abandon');
  });
  it('opens a round only with enough participants online', () => {
    expect(canOpenRound(2, 3)).toBe(false);
    expect(canOpenRound(3, 3)).toBe(true);
    expect(canOpenRound(0, 0)).toBe(false);
  });
});
