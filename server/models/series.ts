import { withoutHistogram } from '../../shared/metrics/curves';
import { asc, eq } from 'drizzle-orm';
import { poolClinicalMetrics, type ClinicalMetrics } from '../../shared/metrics/clinical';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { MetricSeries, SiteSeries } from '../../shared/protocol/metricSeries';
import type { Db } from '../db/client';
import { evaluations, participants, sites, studies } from '../db/schema';
import { privacySeries } from '../privacy/status';
import { versionMetrics } from '../studies/dashboard';
import { templateOf } from '../studies/service';

/**
 * Every version's pooled figures beside every site's report, in one read: the convergence chart
 * draws any metric from them without a request per version.
 */
export async function metricSeries(db: Db, studyId: string): Promise<MetricSeries> {
  const [study] = await db.select({ templateId: studies.templateId, config: studies.config }).from(studies).where(eq(studies.id, studyId));
  if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
  const template = templateOf(study.templateId);
  const classes = template.label.classes;
  const pooledFigures = await versionMetrics(db, studyId);
  const rows = await db
    .select({ e: evaluations, siteName: sites.name })
    .from(evaluations)
    .innerJoin(participants, eq(participants.id, evaluations.participantId))
    .innerJoin(sites, eq(sites.id, participants.siteId))
    .where(eq(evaluations.studyId, studyId))
    .orderBy(asc(sites.name), asc(evaluations.participantId), asc(evaluations.version));

  const clinicalBy = new Map<number, ClinicalMetrics[]>();
  const bySite = new Map<string, SiteSeries>();
  for (const { e, siteName } of rows) {
    const pooled = e.flag === null || e.includedBy !== null;
    if (pooled && e.clinical) clinicalBy.set(e.version, [...(clinicalBy.get(e.version) ?? []), e.clinical]);
    let site = bySite.get(e.participantId);
    if (!site) bySite.set(e.participantId, (site = { participantId: e.participantId, siteName, points: [] }));
    site.points.push({ version: e.version, numSamples: e.numSamples, loss: e.loss, accuracy: e.accuracy, clinical: e.clinical ? withoutHistogram(e.clinical) : null, pooled });
  }
  return {
    studyId,
    kind: classes ? 'multiclass' : 'binary',
    classes: classes ? [...classes] : [template.label.negative, template.label.positive],
    versions: pooledFigures.map((m) => ({ ...m, clinical: poolClinicalMetrics(clinicalBy.get(m.version) ?? []) })),
    sites: [...bySite.values()],
    privacy: study.config.privacy
      ? { delta: study.config.privacy.delta, budget: study.config.privacy.epsilonBudget, points: await privacySeries(db, studyId) }
      : null,
  };
}
