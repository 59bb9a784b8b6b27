import { and, eq, inArray } from 'drizzle-orm';
import { studySpent, type SitePrivacy } from '../../shared/fl/privacy/sitePrivacy';
import type { Db } from '../db/client';
import { studies } from '../db/schema';
import type { CoordinatorEvents } from '../rounds/types';

/** Whether opening round `next` would take the study past its budget (ε after `next` rounds above it). */
export function pastBudget(privacy: SitePrivacy, next: number): boolean {
  return studySpent(privacy, next).epsilon > privacy.epsilonBudget;
}

/** What the audit entry and the log say when a study stops at its budget after `rounds` rounds. */
export function budgetStop(studyId: string, privacy: SitePrivacy, rounds: number) {
  return {
    studyId,
    epsilon: studySpent(privacy, rounds).epsilon,
    next: studySpent(privacy, rounds + 1).epsilon,
    budget: privacy.epsilonBudget,
    delta: privacy.delta,
    rounds,
  };
}

/**
 * Stop a study whose next round would pass its budget, before that round opens. Stopped is final:
 * no resume, restart or configuration change opens another round (privacy settings are fixed for the
 * study's life), so the budget can only be exceeded by a new study.
 */
export async function stopAtBudget(db: Db, events: CoordinatorEvents, studyId: string, privacy: SitePrivacy, roundsSoFar: number): Promise<boolean> {
  const stopped = await db
    .update(studies)
    .set({ status: 'stopped' })
    .where(and(eq(studies.id, studyId), inArray(studies.status, ['waiting', 'running', 'paused'])))
    .returning({ id: studies.id });
  if (stopped.length) {
    events.privacyBudgetSpent?.(budgetStop(studyId, privacy, roundsSoFar));
    events.changed(studyId);
  }
  return stopped.length > 0;
}

/**
 * Stop a record-level DP study once fewer of its sites than a round needs have budget left: no round
 * could ever open again. Final, like the site-level stop.
 */
export async function stopWhenBudgetsSpent(db: Db, events: CoordinatorEvents, studyId: string): Promise<boolean> {
  const stopped = await db
    .update(studies)
    .set({ status: 'stopped' })
    .where(and(eq(studies.id, studyId), inArray(studies.status, ['waiting', 'running', 'paused'])))
    .returning({ id: studies.id });
  if (stopped.length) events.changed(studyId);
  return stopped.length > 0;
}
