import { asc, eq } from 'drizzle-orm';
import { dataQuality } from '../../shared/fl/dataQuality';
import type { DataQuality } from '../../shared/protocol/dataQuality';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { Db } from '../db/client';
import { participants, siteStatistics, sites, studies } from '../db/schema';
import { templateOf } from './service';

/**
 * Each site's missing and out-of-range values, feature by feature, from the aggregate statistics the
 * sites sent (never a row). Two reads whatever the number of sites: the study, then every site's
 * statistics joined to its name.
 */
export async function buildDataQuality(db: Db, studyId: string): Promise<DataQuality> {
  const [study] = await db.select({ templateId: studies.templateId }).from(studies).where(eq(studies.id, studyId));
  if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
  const rows = await db
    .select({ participantId: siteStatistics.participantId, siteId: sites.id, siteName: sites.name, statistics: siteStatistics.statistics })
    .from(siteStatistics)
    .innerJoin(participants, eq(participants.id, siteStatistics.participantId))
    .innerJoin(sites, eq(sites.id, participants.siteId))
    .where(eq(siteStatistics.studyId, studyId))
    .orderBy(asc(siteStatistics.participantId));
  return dataQuality(templateOf(study.templateId).features, rows);
}
