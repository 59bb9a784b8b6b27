import { stepsWithinBudget, type RecordPrivacy, type RecordRun } from './recordLevel';

/**
 * How a record-level DP-SGD study's budget turns into each site's work, the same on the server (which
 * assigns and counts the steps) and on the study form (which shows the plan before the study starts).
 */

/** The training settings a site's steps follow. */
export interface LocalWork {
  batchSize: number;
  localEpochs: number;
  /** Absent or null: epochs. */
  localSteps?: number | null;
}

/** The steps a round's local work means at a site of `records`: the study's steps, or its epochs in batches of the expected size. */
export function plannedSteps(work: LocalWork, records: number): number {
  if (work.localSteps != null) return work.localSteps;
  return work.localEpochs * Math.max(1, Math.ceil(records / work.batchSize));
}

/** q = batch size / records: each record's chance to be in a step's Poisson sample (the expected batch is the batch size). */
export const sampleRateFor = (work: Pick<LocalWork, 'batchSize'>, records: number): number => Math.min(1, work.batchSize / records);

/** A site's assignment for one round. */
export interface SiteAssignment {
  sampleRate: number;
  steps: number;
}

/**
 * One site's assignment for its next round: the study's local work, or what is left of its budget if
 * less; null when its budget allows no further step (or it reported no records).
 *
 * q needs no trust in the record count: the tab samples each record with probability q, and the
 * accountant's bound holds per record for that q whatever the site's size.
 */
export function assignSite(privacy: Pick<RecordPrivacy, 'noiseMultiplier' | 'delta' | 'epsilonBudget'>, work: LocalWork, records: number | null, spent: readonly RecordRun[] = []): SiteAssignment | null {
  if (!records || records < 1) return null;
  const sampleRate = sampleRateFor(work, records);
  const left = stepsWithinBudget({ sampleRate, noiseMultiplier: privacy.noiseMultiplier, delta: privacy.delta, epsilonBudget: privacy.epsilonBudget, spent: [...spent] });
  const steps = Math.min(plannedSteps(work, records), left);
  return steps >= 1 ? { sampleRate, steps } : null;
}

/**
 * The fewest training records with which a site can take at least one DP-SGD step within the budget
 * (q = batch size / records); null when even a site of 10^9 records cannot. A smaller site never
 * trains: the study form says so before the study starts.
 */
export function smallestSiteThatTrains(privacy: Pick<RecordPrivacy, 'noiseMultiplier' | 'delta' | 'epsilonBudget'>, batchSize: number): number | null {
  const trains = (records: number) => stepsWithinBudget({ sampleRate: Math.min(1, batchSize / records), noiseMultiplier: privacy.noiseMultiplier, delta: privacy.delta, epsilonBudget: privacy.epsilonBudget }) >= 1;
  if (trains(1)) return 1;
  // trains(lo) is false, trains(hi) true: double until it trains, then bisect.
  let lo = 1;
  let hi = 2;
  while (!trains(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 1e9) return null;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (trains(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
