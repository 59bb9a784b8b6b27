import { and, asc, eq, isNotNull, max } from 'drizzle-orm';
import { studySpent, type SitePrivacy } from '../../shared/fl/privacy/sitePrivacy';
import type { PrivacyPoint, PrivacyStatus } from '../../shared/protocol/privacy';
import type { Db } from '../db/client';
import { rounds } from '../db/schema';

/**
 * What a differentially private study has spent: every round it opened is one step of the
 * accountant (a round abandoned after its sample was drawn is counted too: never under-counted).
 */
export function privacyStatus(privacy: SitePrivacy, roundsOpened: number): PrivacyStatus {
  const spent = studySpent(privacy, roundsOpened);
  return {
    epsilon: spent.epsilon,
    delta: privacy.delta,
    budget: privacy.epsilonBudget,
    rounds: roundsOpened,
    exhausted: studySpent(privacy, roundsOpened + 1).epsilon > privacy.epsilonBudget,
  };
}

/** How many rounds a study has opened (its highest round number: rounds are numbered from 1 without gaps). */
export async function roundsOpened(db: Db, studyId: string): Promise<number> {
  const [{ last }] = await db.select({ last: max(rounds.number) }).from(rounds).where(eq(rounds.studyId, studyId));
  return last ?? 0;
}

export async function studyPrivacyStatus(db: Db, studyId: string, privacy: SitePrivacy | null): Promise<PrivacyStatus | null> {
  return privacy ? privacyStatus(privacy, await roundsOpened(db, studyId)) : null;
}

/** ε after each closed round, as its aggregation recorded it. */
export async function privacySeries(db: Db, studyId: string): Promise<PrivacyPoint[]> {
  const rows = await db
    .select({ round: rounds.number, report: rounds.aggregationReport })
    .from(rounds)
    .where(and(eq(rounds.studyId, studyId), eq(rounds.status, 'closed'), isNotNull(rounds.aggregationReport)))
    .orderBy(asc(rounds.number));
  return rows.flatMap((r) => (r.report?.privacy ? [{ round: r.round, epsilon: r.report.privacy.epsilon }] : []));
}
