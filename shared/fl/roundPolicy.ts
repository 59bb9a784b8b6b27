export interface RoundPolicyInput {
  /** Participants sampled for the round. */
  sampled: number;
  /** Accepted updates so far. */
  received: number;
  /** Fewest updates the round needs to be aggregated. */
  minParticipants: number;
  /** Epoch milliseconds. */
  deadline: number;
  now: number;
}

export type RoundDecision =
  | { action: 'wait'; reason: string }
  | { action: 'aggregate'; reason: 'all_reported' | 'deadline_quorum' }
  | { action: 'abandon'; reason: 'deadline_no_quorum' };

/**
 * When a round closes: as soon as every sampled participant has reported; at the deadline if the
 * minimum was reached; otherwise the round is abandoned and a new one is opened from the same version.
 */
export function decideRound(p: RoundPolicyInput): RoundDecision {
  const needed = Math.min(p.minParticipants, p.sampled);
  if (p.received >= p.sampled && p.sampled > 0) return { action: 'aggregate', reason: 'all_reported' };
  if (p.now < p.deadline) return { action: 'wait', reason: `${p.received} of ${p.sampled} updates received` };
  if (p.received >= needed && p.received > 0) return { action: 'aggregate', reason: 'deadline_quorum' };
  return { action: 'abandon', reason: 'deadline_no_quorum' };
}

/** A round opens only when enough participants are online to possibly meet its minimum. */
export function canOpenRound(online: number, minParticipants: number): boolean {
  return online >= minParticipants && online > 0;
}
