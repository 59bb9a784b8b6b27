import { z } from 'zod';
import { composedRdp, DEFAULT_ORDERS, epsilonFromRdp, type PrivacySpent } from './rdp';

/**
 * Record-level differential privacy: DP-SGD (shared/training/dpsgd.ts) in every site's tab, each
 * patient protected against the other sites and the server. Each site has its own budget: its records
 * are touched only by its own steps, so a site's ε composes over every DP-SGD step it ran, in every
 * round, and nothing else. Each step is the Poisson-subsampled Gaussian mechanism at the site's
 * q = batch size / n (n its training records; ./recordPlan.ts) and the study's z, which ./rdp.ts
 * accounts for.
 *
 * Defaults are those of the Opacus plan this product follows (z 1.1, C 1.0, ε 1.0 per site).
 */
export const recordPrivacySchema = z.strictObject({
  /** z: the noise's standard deviation over the clip, on each step's summed clipped gradients. */
  noiseMultiplier: z.number().min(0.3, 'recordPrivacy.noiseMultiplier must be at least 0.3').max(1_000).default(1.1),
  /** C: every example's gradient (the whole model's) is clipped to this L2 norm. */
  clipNorm: z.number().positive('recordPrivacy.clipNorm must be above 0').max(1e6).default(1.0),
  /** The ε each site may spend; a site stops training for the study before a step would exceed it. */
  epsilonBudget: z.number().positive('recordPrivacy.epsilonBudget must be above 0').max(1_000).default(1.0),
  /** δ of each site's (ε, δ) guarantee: keep it well below 1 / (the site's records). */
  delta: z.number().gt(0, 'recordPrivacy.delta must be above 0').max(0.01, 'recordPrivacy.delta is at most 0.01').default(1e-5),
});
export type RecordPrivacy = z.infer<typeof recordPrivacySchema>;
export type RecordPrivacyInput = z.input<typeof recordPrivacySchema>;

/** One round's local training at one site: `steps` DP-SGD steps at sampling rate `sampleRate`. */
export interface RecordRun {
  sampleRate: number;
  steps: number;
}

/** Σ over the runs of their RDP at each order (runs at different q compose by addition too). */
function runsRdp(runs: readonly RecordRun[], noiseMultiplier: number): number[] {
  const total = DEFAULT_ORDERS.map(() => 0);
  for (const run of runs) {
    if (run.steps === 0) continue;
    composedRdp(run.sampleRate, noiseMultiplier, run.steps).forEach((r, i) => (total[i] += r));
  }
  return total;
}

/** What a site has spent over all its runs, at δ. */
export function recordSpent(runs: readonly RecordRun[], noiseMultiplier: number, delta: number): PrivacySpent {
  // No step touched a record: nothing spent (the RDP-to-ε conversion would still print a small ε).
  if (runs.every((r) => r.steps === 0)) return { epsilon: 0, delta, order: NaN };
  return epsilonFromRdp(runsRdp(runs, noiseMultiplier), DEFAULT_ORDERS, delta);
}

export interface StepsWithinBudgetInput {
  sampleRate: number;
  noiseMultiplier: number;
  delta: number;
  epsilonBudget: number;
  /** The site's runs so far. */
  spent?: readonly RecordRun[];
}

/** The most further steps at `sampleRate` that keep the site's ε within its budget (0: none). */
export function stepsWithinBudget(s: StepsWithinBudgetInput): number {
  const before = runsRdp(s.spent ?? [], s.noiseMultiplier);
  // One step's RDP, computed once: k more steps add k times it.
  const step = composedRdp(s.sampleRate, s.noiseMultiplier, 1);
  const fits = (k: number) => epsilonFromRdp(before.map((r, i) => r + k * step[i]), DEFAULT_ORDERS, s.delta).epsilon <= s.epsilonBudget;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = 2;
  while (fits(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 2 ** 40) return lo; // effectively unlimited (tiny q, huge z)
  }
  // fits(lo), not fits(hi): bisect to the last k that fits.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
