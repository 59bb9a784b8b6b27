import { nextClipNorm, type ClipHistory, type Clipping } from './clipping';
import { median } from './normBound';
import { enrolledWeight, roundPrivacy, siteWeight, studySpent, type RoundPrivacy, type SitePrivacy } from './privacy/sitePrivacy';

/**
 * What a round checks, clips and sums every update by, fixed when the round opens: each update can
 * then be folded into the round's sum the moment it is accepted, and a replayed or crashed round
 * folds the same updates the same way.
 */
export interface RoundBounds {
  /** The study's clipping rule when the round opened (absent in rounds from before it was kept). */
  clipMode?: Clipping['mode'];
  /** Updates longer than this (L2) are scaled down to it; null: no clipping in this round. */
  clipNorm: number | null;
  /** Updates longer than this are refused (the study's maxUpdateNorm); null: no limit. */
  maxNorm: number | null;
  /** Largest |value| an update may carry after clipping: the fixed-point sum's range. */
  valueBound: number;
  /** No update is weighted by more samples than this; null (or absent in older rounds): uncapped. */
  sampleCap?: number | null;
  /** Largest weight (sample count × straggler weight) one update may carry. */
  maxWeight: number;
  /** Every weighted value is rounded to a multiple of 2^-scaleBits before it is summed (exactly). */
  scaleBits: number;
  /**
   * Under differential privacy: an update weighs min(samples / recordCap, 1), the sum is divided by
   * the fixed denominator, and the mean gets Gaussian noise (./privacy/sitePrivacy.ts).
   */
  privacy?: RoundPrivacy;
}

/**
 * Without a norm bound, an update value beyond ±1024 is refused: no trained network's weight moves
 * that far in one round, and an unbounded range would leave the fixed-point sum no precision.
 */
export const DEFAULT_VALUE_BOUND = 1024;
/** The most samples an update may declare (the upload schema's limit). */
export const MAX_UPDATE_SAMPLES = 100_000_000;

export interface BoundsInput {
  clipping: Clipping;
  maxUpdateNorm: number | null;
  weightCapFactor: number | null;
  privacy?: SitePrivacy | null;
}

/** What the round about to open is bounded from. */
export interface BoundsHistory extends ClipHistory {
  /** The adaptive rule's start when the study sets none: the template's, or an estimate from the model. */
  initialNorm: number;
  /** The training-record counts the sampled sites reported when they joined (null: none reported). */
  reportedCounts: readonly (number | null)[];
  /** Under differential privacy: the round's number (its step of the accountant) and every enrolled site's reported count. */
  round?: number;
  enrolledCounts?: readonly (number | null)[];
}

/**
 * A round's bounds: the clipping bound from the study's rule and the last round (see
 * shared/fl/clipping.ts), the study's hard limit, and the most samples one update may be weighted by:
 * `weightCapFactor` × the median count the sampled sites reported, so no one site's declaration can
 * outweigh the rest (a site declaring 10^8 samples weighs what two typical sites weigh).
 */
export function roundBounds(config: BoundsInput, history: BoundsHistory): RoundBounds {
  if (config.privacy) return privateBounds(config.privacy, config.maxUpdateNorm, history);
  const clipNorm = nextClipNorm(config.clipping, history, history.initialNorm);
  const maxNorm = config.maxUpdateNorm;
  const valueBound = Math.min(clipNorm ?? Infinity, maxNorm ?? Infinity, DEFAULT_VALUE_BOUND);
  const counts = history.reportedCounts.filter((n): n is number => n !== null && Number.isFinite(n) && n > 0);
  const sampleCap = config.weightCapFactor !== null && counts.length > 0 ? Math.max(1, Math.floor(config.weightCapFactor * median(counts))) : null;
  const maxWeight = Math.min(sampleCap ?? MAX_UPDATE_SAMPLES, MAX_UPDATE_SAMPLES);
  return { clipMode: config.clipping.mode, clipNorm, maxNorm, valueBound, sampleCap, maxWeight, scaleBits: scaleBitsFor(maxWeight, valueBound) };
}

/**
 * Under differential privacy every update is clipped to the privacy clip and weighs at most 1; the
 * round is the accountant's step `history.round`, and W is over every enrolled site.
 */
function privateBounds(p: SitePrivacy, maxUpdateNorm: number | null, history: BoundsHistory): RoundBounds {
  const valueBound = Math.min(p.clipNorm, maxUpdateNorm ?? Infinity, DEFAULT_VALUE_BOUND);
  const W = enrolledWeight(history.enrolledCounts ?? history.reportedCounts, p.recordCap);
  return {
    clipMode: 'fixed',
    clipNorm: p.clipNorm,
    maxNorm: maxUpdateNorm,
    valueBound,
    // A site with more records than the cap weighs what the cap does (1): its records are capped there.
    sampleCap: p.recordCap,
    maxWeight: 1,
    scaleBits: scaleBitsFor(1, valueBound),
    privacy: roundPrivacy(p, W, studySpent(p, history.round ?? 1)),
  };
}

/**
 * What an update weighs in its round's mean: its declared samples, capped, times its straggler
 * weight; under differential privacy, min(samples / recordCap, 1).
 */
export function updateWeight(numSamples: number, stragglerWeight: number, bounds: Pick<RoundBounds, 'sampleCap' | 'privacy'>): number {
  if (bounds.privacy) return siteWeight(numSamples, bounds.privacy.recordCap) * stragglerWeight;
  const cap = bounds.sampleCap ?? null;
  return (cap !== null && numSamples > cap ? cap : numSamples) * stragglerWeight;
}

/** The samples an update is counted with: its declared ones, capped at the round's cap. */
export function cappedSamples(numSamples: number, bounds: Pick<RoundBounds, 'sampleCap'>): number {
  const cap = bounds.sampleCap ?? null;
  return cap !== null && numSamples > cap ? cap : numSamples;
}

/** Whether the round's cap bit into this update's declared samples. */
export function weightCapped(numSamples: number, bounds: Pick<RoundBounds, 'sampleCap'>): boolean {
  const cap = bounds.sampleCap ?? null;
  return cap !== null && numSamples > cap;
}

/**
 * The finest scale at which every weighted value stays below 2^61 in magnitude (see FixedPointSum):
 * weight × value × 2^scaleBits ≤ 2^61, with a bit to spare for the clip's last rounding.
 */
export function scaleBitsFor(maxWeight: number, valueBound: number): number {
  return Math.min(80, 60 - Math.ceil(Math.log2(maxWeight * valueBound)));
}
