import { z } from 'zod';
import { distributedStudySpent } from '../secagg/distributedNoise';
import { privacySpent, type PrivacySpent } from './rdp';

/**
 * Site-level differential privacy: DP-FedAvg as McMahan, Ramage, Talwar and Zhang define it (2018,
 * "Learning differentially private recurrent language models"), with the server adding the noise.
 *
 * - Each round includes every online site independently with probability q (Poisson sampling: what
 *   the accountant in ./rdp.ts assumes), drawn from a secret random source, not the study's seed.
 * - Each site's delta is clipped to L2 norm C in its tab and again on the server.
 * - A site weighs w = min(n / n_cap, 1) (n its training records, n_cap the study's record cap), and the
 *   round's weighted sum is divided by the fixed denominator q·W (W the total weight of the enrolled
 *   sites), not by the realised sample's weight: their bounded-sensitivity estimator. Adding or
 *   removing one site then moves the mean by at most C / (q·W), whatever the sample.
 * - The mean gets Gaussian noise of standard deviation z·C / (q·W) on every coordinate.
 *
 * Every round the study opens is one step of the accountant; the study stops itself before a round
 * would take it past its budget.
 */
export const sitePrivacySchema = z.strictObject({
  /** C: every site's delta is clipped to this L2 norm, in its tab and on the server. */
  clipNorm: z.number().positive('privacy.clipNorm must be above 0').max(1e6),
  /** z: the noise's standard deviation over the clip (on the weighted sum). */
  noiseMultiplier: z.number().min(0.1, 'privacy.noiseMultiplier must be at least 0.1').max(10_000),
  /** q: each online site's chance to be included in a round. */
  sampleRate: z.number().gt(0, 'privacy.sampleRate must be above 0').max(1, 'privacy.sampleRate is at most 1'),
  /** δ of the (ε, δ) guarantee: keep it well below 1 / (number of sites). */
  delta: z.number().gt(0, 'privacy.delta must be above 0').max(0.01, 'privacy.delta is at most 0.01').default(1e-5),
  /** The ε the study may spend; no round opens that would take it past. */
  epsilonBudget: z.number().positive('privacy.epsilonBudget must be above 0').max(1_000),
  /** n_cap: a site with this many training records or more weighs 1; fewer, proportionally less. */
  recordCap: z.number().int().min(1, 'privacy.recordCap must be at least 1').max(100_000_000).default(100),
  /**
   * Not a setting: the study configuration sets it when secure aggregation is on (and drops it when
   * not). Then the sites add the noise, each its share of Skellam noise in the ring before masking
   * (shared/fl/secagg/distributedNoise.ts), and the Skellam accountant counts it.
   */
  distributed: z.literal(true).optional(),
});
export type SitePrivacy = z.infer<typeof sitePrivacySchema>;
export type SitePrivacyInput = z.input<typeof sitePrivacySchema>;

/** Why settings that the mechanism cannot account for are unavailable under differential privacy. */
export const UNAVAILABLE_UNDER_DP = {
  strategy:
    'robust rules (median, trimmed mean, Krum) pick or drop updates by their values, so one site can move their output by more than C / (q·W) and the noise would not cover it: under differential privacy only the mean rules (FedAvg, FedAvgM, FedProx, FedAdam, FedYogi, FedAdagrad) are available',
  straggler:
    'a late update would enter a round whose noise and sampling were fixed without it, outside the accountant: under differential privacy late updates are dropped',
  clipping: "under differential privacy every round clips to privacy.clipNorm (the noise is scaled to it): leave 'clipping' unset",
} as const;

/** A site's weight: min(n / n_cap, 1). */
export function siteWeight(records: number, recordCap: number): number {
  if (!(records > 0)) return 0;
  return Math.min(records / recordCap, 1);
}

/** W: the total weight of the enrolled sites (their reported training records; null: none reported). */
export function enrolledWeight(records: readonly (number | null)[], recordCap: number): number {
  let w = 0;
  for (const n of records) if (n !== null) w += siteWeight(n, recordCap);
  return w;
}

/** What a round's mean is divided by and the noise it gets, fixed when the round opens. */
export interface RoundPrivacy {
  /** q·W. */
  denominator: number;
  /** z·C / (q·W): the standard deviation of the noise on each coordinate of the mean. */
  noiseStd: number;
  /** n_cap: an update's weight is min(samples / recordCap, 1). */
  recordCap: number;
  /** W. */
  totalWeight: number;
  /** The ε the study will have spent once this round is released, at δ (and the order it was read at). */
  epsilon: number;
  delta: number;
  order: number;
}

/**
 * The round's denominator and noise. W is at least 1 (a federation whose sites reported no records
 * yet gets the noise of one full-weight site), so the denominator never makes the noise unbounded.
 */
export function roundPrivacy(p: SitePrivacy, totalWeight: number, spentAfter: PrivacySpent): RoundPrivacy {
  const W = Math.max(totalWeight, 1);
  const denominator = p.sampleRate * W;
  return {
    denominator,
    noiseStd: (p.noiseMultiplier * p.clipNorm) / denominator,
    recordCap: p.recordCap,
    totalWeight: W,
    epsilon: spentAfter.epsilon,
    delta: spentAfter.delta,
    order: spentAfter.order,
  };
}

const spentCache = new Map<string, PrivacySpent>();

/**
 * What `rounds` rounds of a study's mechanism spend (memoised: the dashboard asks often). Under secure
 * aggregation (`distributed`), the distributed Skellam mechanism's accountant (shared/fl/secagg/distributedNoise.ts).
 */
export function studySpent(p: Pick<SitePrivacy, 'sampleRate' | 'noiseMultiplier' | 'delta'> & { distributed?: true; clipNorm?: number }, rounds: number): PrivacySpent {
  if (rounds <= 0) return { epsilon: 0, delta: p.delta, order: Number.NaN };
  if (p.distributed) return distributedStudySpent({ clipNorm: p.clipNorm ?? 1, noiseMultiplier: p.noiseMultiplier, sampleRate: p.sampleRate, delta: p.delta }, rounds);
  const key = `${p.sampleRate}|${p.noiseMultiplier}|${p.delta}|${rounds}`;
  let spent = spentCache.get(key);
  if (!spent) {
    spent = privacySpent({ sampleRate: p.sampleRate, noise: p.noiseMultiplier, steps: rounds, delta: p.delta });
    if (spentCache.size > 2_000) spentCache.clear();
    spentCache.set(key, spent);
  }
  return spent;
}

/** How many rounds the budget allows (ε after them within it), up to `atMost`. */
export function roundsWithinBudget(p: SitePrivacy, atMost: number): number {
  if (studySpent(p, atMost).epsilon <= p.epsilonBudget) return atMost;
  // ε grows with the rounds: bisect on the count.
  let lo = 0;
  let hi = atMost;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (studySpent(p, mid).epsilon <= p.epsilonBudget) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** z / (q·sites): the noise's standard deviation on each coordinate of a round's mean, over the clip, with `sites` full-weight sites. */
export function noiseToClip(p: Pick<SitePrivacy, 'noiseMultiplier' | 'sampleRate'>, sites: number): number {
  return p.noiseMultiplier / (p.sampleRate * Math.max(sites, 1));
}

/**
 * √d · z / (q·sites): the noise on a round's mean (d coordinates, each with the standard deviation
 * above) against the largest update one site may send (norm C). Measured on heart-risk (d = 385,
 * docs/benchmarks.md, site-level differential privacy): at 1.7 the model lost about a point, at 3.9
 * six points, at 11 it was barely above the majority class, and from 26 it stayed at chance.
 */
export function noiseToSignal(p: Pick<SitePrivacy, 'noiseMultiplier' | 'sampleRate'>, sites: number, parameters: number): number {
  return Math.sqrt(parameters) * noiseToClip(p, sites);
}

/** Above this noise-to-signal ratio the form warns that privacy will cost accuracy, above the second that the model stays near chance. */
export const NOISE_WARNING = { costly: 2, nearChance: 8 } as const;

/** What a study's privacy settings promise, for the study form and the console, before it starts. */
export interface PrivacyPlan {
  /** ε after every planned round. */
  planned: PrivacySpent;
  /** Rounds the budget allows (≤ the planned rounds). */
  roundsAllowed: number;
  /** `noiseToSignal` with `sites` full-weight sites. */
  noiseToSignal: number;
  /** Plain-language warnings: the budget stops the study early; the federation is too small. */
  warnings: string[];
}

export interface PlanFor {
  rounds: number;
  /** Sites enrolled (each counted at full weight: the plan's best case). */
  sites: number;
  /** The model's parameters. */
  parameters: number;
}

export function privacyPlan(p: SitePrivacy, { rounds, sites, parameters }: PlanFor): PrivacyPlan {
  const planned = studySpent(p, rounds);
  const roundsAllowed = roundsWithinBudget(p, rounds);
  const ratio = noiseToSignal(p, sites, parameters);
  const warnings: string[] = [];
  if (roundsAllowed === 0) warnings.push(`the budget ε ${fmt(p.epsilonBudget)} allows no round: one round spends ε ${fmt(studySpent(p, 1).epsilon)}`);
  else if (roundsAllowed < rounds)
    warnings.push(`the budget ε ${fmt(p.epsilonBudget)} allows ${roundsAllowed} of the ${rounds} rounds: the study stops itself after round ${roundsAllowed}`);
  const among = `${sites} site${sites === 1 ? '' : 's'}${p.sampleRate < 1 ? ` sampled at q = ${fmt(p.sampleRate)}` : ''}`;
  const noise = `each round’s noise is ${fmt(ratio)} × the largest update one site may send`;
  if (ratio > NOISE_WARNING.nearChance)
    warnings.push(
      `${among} ${sites === 1 ? 'is' : 'are'} too few for this privacy: ${noise}, and the model will stay near chance. Site-level privacy needs many sites (hundreds for ε near 1), a larger budget, or fewer rounds`,
    );
  else if (ratio > NOISE_WARNING.costly) warnings.push(`with ${among}, ${noise}: expect the model to lose accuracy (heart-risk lost about 6 points at 4 ×)`);
  if (p.delta * sites > 0.1) warnings.push(`δ ${p.delta} is not small against ${sites} sites: keep δ well below 1 / ${sites}`);
  return { planned, roundsAllowed, noiseToSignal: ratio, warnings };
}

function fmt(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

/**
 * Poisson sampling: each id independently with probability q, `uniform` a source of draws in [0, 1)
 * (the server's is cryptographically random). The sample is in the ids' sorted order.
 */
export function poissonSample(ids: readonly string[], q: number, uniform: () => number): string[] {
  return [...ids].sort().filter(() => uniform() < q);
}

/**
 * `mean` plus independent N(0, std²) noise on every coordinate, in place. `uniform` gives draws in
 * [0, 1); pairs of them become two normals by Box–Muller.
 */
export function addGaussianNoise(mean: Float64Array[], std: number, uniform: () => number): void {
  let spare: number | null = null;
  const draw = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = uniform();
    while (u === 0) u = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
  for (const t of mean) for (let i = 0; i < t.length; i++) t[i] += std * draw();
}

/** Scale `delta` down so its L2 norm is at most `clipNorm` (what a tab does before it uploads under DP); returns the factor. */
export function clipToNorm(delta: Float32Array[], clipNorm: number): number {
  let sq = 0;
  for (const t of delta) for (let i = 0; i < t.length; i++) sq += t[i] * t[i];
  const norm = Math.sqrt(sq);
  if (!(norm > clipNorm)) return 1;
  // A little inside the bound, so float32 rounding cannot leave it a hair above.
  const scale = (clipNorm / norm) * (1 - 1e-6);
  for (const t of delta) for (let i = 0; i < t.length; i++) t[i] *= scale;
  return scale;
}
