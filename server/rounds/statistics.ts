import { and, asc, count, eq, sql } from 'drizzle-orm';
import { combineStatistics, type SiteStatistics } from '../../shared/fl/normalisation';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { Db } from '../db/client';
import { participants, siteStatistics, studies } from '../db/schema';
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

/**
 * Whether the study needs this participant's statistics: it has none from it yet, or they describe
 * other data than the site now trains on (it imported another file: the join reported a new dataset
 * fingerprint). Before the normalisation is fixed they go into it; after, a site that joins late or
 * changes its data sends them for the admins' view of each site's data (missing and out-of-range
 * values), and they change nothing else.
 */
export async function statisticsNeeded(db: Db, studyId: string, participantId: string): Promise<boolean> {
  const [row] = await db
    .select({ stored: siteStatistics.participantId, described: siteStatistics.datasetFingerprint, current: participants.datasetFingerprint })
    .from(participants)
    .leftJoin(siteStatistics, and(eq(siteStatistics.studyId, participants.studyId), eq(siteStatistics.participantId, participants.id)))
    .where(and(eq(participants.studyId, studyId), eq(participants.id, participantId)));
  if (!row) return false;
  return row.stored === null || (row.current !== null && row.described !== row.current);
}

/**
 * Store a site's statistics, replacing its earlier ones. Returns whether they count towards the
 * study's normalisation: only while it is not fixed. Run in the study's queue, so a report never
 * races the normalisation being fixed.
 */
export async function storeStatistics(
  deps: Pick<CoordinatorDeps, 'db' | 'clock'>,
  studyId: string,
  participantId: string,
  stats: SiteStatistics,
  datasetFingerprint: string | null = null,
): Promise<boolean> {
  const { db, clock } = deps;
  const [study] = await db.select({ normalisation: studies.normalisation }).from(studies).where(eq(studies.id, studyId));
  if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
  const values = { studyId, participantId, statistics: stats, datasetFingerprint, receivedAt: new Date(clock.now()) };
  await db
    .insert(siteStatistics)
    .values(values)
    .onConflictDoUpdate({ target: [siteStatistics.studyId, siteStatistics.participantId], set: values });
  return !study.normalisation;
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
  for (const [name, n] of Object.entries(stats.flagged ?? {})) {
    const present = stats.numeric[name]?.count ?? 0;
    if (n > present) return `${name}: ${n} values out of range among ${present} present`;
  }
  return null;
}
