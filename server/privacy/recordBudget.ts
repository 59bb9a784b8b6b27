import { and, asc, eq } from 'drizzle-orm';
import { recordSpent, type RecordPrivacy, type RecordRun } from '../../shared/fl/privacy/recordLevel';
import { assignSite, type SiteAssignment } from '../../shared/fl/privacy/recordPlan';
import type { StudyConfig, TrainingConfig } from '../../shared/protocol/studyConfig';
import type { RecordPrivacyStatus } from '../../shared/protocol/privacy';
import type { Db } from '../db/client';
import { participants, recordPrivacyRuns, sites } from '../db/schema';

/**
 * Record-level DP-SGD's per-site budget, kept by the server: each round, every site that may still
 * train is assigned its DP-SGD steps (shared/fl/privacy/recordPlan.ts `assignSite`) at sampling rate
 * q = batchSize / n, n its reported training records, and the assignment is stored before the round
 * opens. A site with no step left within its budget is not sampled again.
 */

/** Every site's runs in a study, oldest first. */
export async function runsOf(db: Pick<Db, 'select'>, studyId: string): Promise<Map<string, RecordRun[]>> {
  const rows = await db
    .select({ participantId: recordPrivacyRuns.participantId, sampleRate: recordPrivacyRuns.sampleRate, steps: recordPrivacyRuns.steps })
    .from(recordPrivacyRuns)
    .where(eq(recordPrivacyRuns.studyId, studyId))
    .orderBy(asc(recordPrivacyRuns.id));
  const out = new Map<string, RecordRun[]>();
  for (const r of rows) out.set(r.participantId, [...(out.get(r.participantId) ?? []), { sampleRate: r.sampleRate, steps: r.steps }]);
  return out;
}

/**
 * The assignments of the sites that may train in the next round, and whether the study can never
 * open another: fewer enrolled sites than it needs per round have budget left (a site that has not
 * said its record count yet still may; one whose budget allows not one step at its size never will).
 * Budgets never grow back, so only a new site could help.
 */
export async function assignments(db: Db, studyId: string, config: StudyConfig, privacy: RecordPrivacy): Promise<{ assigned: Map<string, SiteAssignment>; exhausted: boolean }> {
  const [enrolled, runs] = await Promise.all([
    db.select({ id: participants.id, records: participants.numSamples }).from(participants).where(eq(participants.studyId, studyId)),
    runsOf(db, studyId),
  ]);
  const assigned = new Map<string, SiteAssignment>();
  let undecided = 0;
  for (const p of enrolled) {
    const a = assignSite(privacy, config, p.records, runs.get(p.id) ?? []);
    if (a) assigned.set(p.id, a);
    else if (!p.records) undecided++;
  }
  return { assigned, exhausted: assigned.size + undecided < config.minParticipants };
}

/** Store the sampled sites' assignments for a round (in the transaction or connection given). */
export async function storeAssignments(db: Pick<Db, 'insert'>, studyId: string, roundId: number, sampled: readonly string[], assigned: ReadonlyMap<string, SiteAssignment>): Promise<void> {
  const rows = sampled.flatMap((participantId) => {
    const a = assigned.get(participantId);
    return a ? [{ studyId, roundId, participantId, sampleRate: a.sampleRate, steps: a.steps }] : [];
  });
  if (rows.length) await db.insert(recordPrivacyRuns).values(rows).onConflictDoNothing();
}

/** A site's stored assignment for a round, if it has one. */
export async function assignmentFor(db: Db, roundId: number, participantId: string): Promise<SiteAssignment | null> {
  const [row] = await db
    .select({ sampleRate: recordPrivacyRuns.sampleRate, steps: recordPrivacyRuns.steps })
    .from(recordPrivacyRuns)
    .where(and(eq(recordPrivacyRuns.roundId, roundId), eq(recordPrivacyRuns.participantId, participantId)));
  return row ?? null;
}

/** The round's training settings for one site: the study's, with its DP-SGD assignment. */
export function withAssignment(training: TrainingConfig, privacy: RecordPrivacy, a: SiteAssignment): TrainingConfig {
  return { ...training, localSteps: a.steps, dpSgd: { clipNorm: privacy.clipNorm, noiseMultiplier: privacy.noiseMultiplier, sampleRate: a.sampleRate, steps: a.steps } };
}

/** Each site's record-level ε (all of them, or the one participant given). */
export async function recordPrivacyStatus(db: Db, studyId: string, config: StudyConfig, privacy: RecordPrivacy, only?: string): Promise<RecordPrivacyStatus> {
  const [enrolled, runs] = await Promise.all([
    db
      .select({ id: participants.id, records: participants.numSamples, siteName: sites.name })
      .from(participants)
      .innerJoin(sites, eq(sites.id, participants.siteId))
      .where(eq(participants.studyId, studyId))
      .orderBy(asc(sites.name)),
    runsOf(db, studyId),
  ]);
  return {
    noiseMultiplier: privacy.noiseMultiplier,
    clipNorm: privacy.clipNorm,
    delta: privacy.delta,
    budget: privacy.epsilonBudget,
    sites: enrolled
      .filter((p) => !only || p.id === only)
      .map((p) => {
        const mine = runs.get(p.id) ?? [];
        return {
          participantId: p.id,
          siteName: p.siteName,
          rounds: mine.length,
          steps: mine.reduce((n, r) => n + r.steps, 0),
          epsilon: mine.length ? recordSpent(mine, privacy.noiseMultiplier, privacy.delta).epsilon : 0,
          exhausted: p.records !== null && assignSite(privacy, config, p.records, mine) === null,
        };
      }),
  };
}
