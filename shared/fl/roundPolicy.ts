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
  /**
   * Differential privacy: the round is released whatever arrives (the fixed-denominator mean of no
   * update is the noise alone), at once when no site was sampled, and never abandoned.
   */
  noiseOnly?: boolean;
}

export type RoundDecision =
  | { action: 'wait'; reason: string }
  | { action: 'aggregate'; reason: 'all_reported' | 'deadline_quorum' | 'none_sampled' | 'deadline_private' }
  | { action: 'abandon'; reason: 'deadline_no_quorum' };

/**
 * When a round closes: as soon as every sampled participant has reported; at the deadline if the
 * minimum was reached; otherwise the round is abandoned and a new one is opened from the same version.
 */
export function decideRound(p: RoundPolicyInput): RoundDecision {
  if (p.noiseOnly) {
    if (p.sampled === 0) return { action: 'aggregate', reason: 'none_sampled' };
    if (p.received >= p.sampled) return { action: 'aggregate', reason: 'all_reported' };
    if (p.now < p.deadline) return { action: 'wait', reason: `${p.received} of ${p.sampled} updates received` };
    return { action: 'aggregate', reason: 'deadline_private' };
  }
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
