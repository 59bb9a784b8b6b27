import { and, asc, count, eq, sql } from 'drizzle-orm';
import { combineStatistics, type SiteStatistics } from '../../shared/fl/normalisation';
import type { Db } from '../db/client';
import { siteStatistics, studies } from '../db/schema';
import { templateOf } from '../studies/service';
import type { CoordinatorDeps, StudyRow } from './types';

/**
 * Before the first round: once every hospital online has sent its aggregate statistics (and at
 * least the study's minimum have), combine them, in participant-id order, into the study's global
 * statistics. They are fixed from then on, so every round encodes features the same way.
 */
export async function fixNormalisation(deps: Pick<CoordinatorDeps, 'db' | 'log'>, study: StudyRow, online: string[]) {
const { db, log } = deps;
  // How many have contributed, then who (ids only), then the reports: a thousand sites reporting one
  // by one must not each read every report, nor every id, before the last one is in.
  const [{ n }] = await db.select({ n: count() }).from(siteStatistics).where(eq(siteStatistics.studyId, study.id));
  if (n < Math.max(study.config.minParticipants, online.length)) return null;
  const ids = await db.select({ id: siteStatistics.participantId }).from(siteStatistics).where(eq(siteStatistics.studyId, study.id));
  const contributed = new Set(ids.map((r) => r.id));
  if (ids.length < study.config.minParticipants || !online.every((id) => contributed.has(id))) return null;
  const rows = await db
    .select()
    .from(siteStatistics)
    .where(eq(siteStatistics.studyId, study.id))
    .orderBy(asc(siteStatistics.participantId));
  const normalisation = combineStatistics(templateOf(study.templateId).features, rows.map((r) => r.statistics));
  await db.update(studies).set({ normalisation }).where(and(eq(studies.id, study.id), sql`${studies.normalisation} is null`));
  const [fixed] = await db.select({ n: studies.normalisation }).from(studies).where(eq(studies.id, study.id));
  log.info({ studyId: study.id, sites: normalisation.sites, rows: normalisation.rows }, 'global feature statistics fixed');
  return fixed.n;
}

/** Whether the study still waits for this participant's statistics. */
export async function statisticsNeeded(db: Db, studyId: string, participantId: string): Promise<boolean> {
  const [study] = await db.select({ n: studies.normalisation }).from(studies).where(eq(studies.id, studyId));
  if (!study || study.n) return false;
  const [row] = await db
    .select({ p: siteStatistics.participantId })
    .from(siteStatistics)
    .where(and(eq(siteStatistics.studyId, studyId), eq(siteStatistics.participantId, participantId)));
  return !row;
}

/** Counts that cannot come from `rows` records: a buggy or hostile client. */
export function implausibleStatistics(stats: SiteStatistics): string | null {
  for (const [name, s] of Object.entries(stats.numeric)) {
    if (s.count > stats.rows) return `${name}: ${s.count} values in ${stats.rows} rows`;
    if (s.count > 0 && s.sumSquares * s.count < s.sum * s.sum * (1 - 1e-9)) return `${name}: sum of squares below what the sum allows`;
  }
  for (const [name, counts] of Object.entries(stats.categorical)) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (total > stats.rows) return `${name}: ${total} values in ${stats.rows} rows`;
  }
  return null;
}
