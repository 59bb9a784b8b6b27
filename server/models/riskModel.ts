import { desc, eq } from 'drizzle-orm';
import { applyNormalisation } from '../../shared/fl/normalisation';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { PublicRiskModel } from '../../shared/protocol/riskModel';
import type { Db } from '../db/client';
import { modelApprovals, studies } from '../db/schema';
import { templateOf } from '../studies/service';
import { versionEvaluation } from './service';

/**
 * What a patient's device needs to run the study's approved model: the approved version, its pooled
 * validation metrics, and the features with the statistics the sites encode with. Only binary
 * (sigmoid) models over tabular features give a risk; anything else is a 404 that says so.
 */
export async function publicRiskModel(db: Db, studyId: string): Promise<PublicRiskModel> {
  const [study] = await db
    .select({ name: studies.name, templateId: studies.templateId, approved: studies.approvedVersion, normalisation: studies.normalisation })
    .from(studies)
    .where(eq(studies.id, studyId));
  if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
  const template = templateOf(study.templateId);
  if (template.model.loss !== 'binaryCrossentropy' || template.features.length === 0) {
    throw new ConsiliumError(ErrorCode.NotFound, `study ${studyId} (${template.name}) has no risk check: its model does not estimate one risk from answers`, 404);
  }
  if (study.approved === null) {
    throw new ConsiliumError(
      ErrorCode.NotFound,
      `study ${studyId} has no approved model yet: the risk check opens once the study's administrators approve a model version`,
      404,
    );
  }
  const version = study.approved;
  const [approval] = await db
    .select({ version: modelApprovals.version, at: modelApprovals.approvedAt })
    .from(modelApprovals)
    .where(eq(modelApprovals.studyId, studyId))
    .orderBy(desc(modelApprovals.id))
    .limit(1);
  const evaluation = await versionEvaluation(db, studyId, version);
  const pooled = evaluation.global;
  const validation =
    pooled?.kind === 'binary' && pooled.numSamples > 0
      ? {
          numSamples: pooled.numSamples,
          sites: evaluation.sites.filter((s) => s.clinical).length,
          accuracy: pooled.accuracy,
          auroc: pooled.auroc,
          sensitivity: pooled.sensitivity,
          specificity: pooled.specificity,
        }
      : null;
  return {
    studyId,
    studyName: study.name,
    templateId: template.id,
    outcome: template.label.description,
    version,
    approvedAt: approval?.version === version ? approval.at.toISOString() : null,
    modelUrl: `/api/studies/${encodeURIComponent(studyId)}/versions/approved/model.json`,
    validation,
    statistics: study.normalisation ? { source: 'study', sites: study.normalisation.sites } : { source: 'reference' },
    features: applyNormalisation(template.features, study.normalisation),
  };
}
