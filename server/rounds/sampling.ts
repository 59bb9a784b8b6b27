import type { StudyConfig } from '../../shared/protocol/schemas';
import { deriveSeed, mulberry32, shuffledIndices } from '../../shared/synthetic/rng';

/** How many of `online` participants a round samples: the study's share, never fewer than its minimum. */
export function sampleSize(online: number, config: Pick<StudyConfig, 'participantFraction' | 'minParticipants'>): number {
  // The epsilon keeps 0.3 × 10 at 3, not 4.
  const share = Math.ceil(config.participantFraction * online - 1e-9);
  return Math.min(online, Math.max(config.minParticipants, share));
}

/**
 * The participants of round `round`: the online ids sorted, shuffled with a seed derived from the
 * study's seed and the round number, the first `sampleSize` of them, sorted again. The same study,
 * round and online set always give the same sample, on any server.
 */
export function sampleParticipants(
  online: readonly string[],
  config: Pick<StudyConfig, 'participantFraction' | 'minParticipants' | 'seed'>,
  round: number,
): string[] {
  const ids = [...online].sort();
  const n = sampleSize(ids.length, config);
  if (n >= ids.length) return ids;
  const order = shuffledIndices(ids.length, mulberry32(deriveSeed(config.seed, `round-sample:${round}`)));
  return Array.from(order.subarray(0, n), (i) => ids[i]).sort();
}
