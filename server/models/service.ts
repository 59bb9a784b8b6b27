import { and, asc, desc, eq } from 'drizzle-orm';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { type ClinicalMetrics } from '../../shared/metrics/clinical';
import { poolEvaluation, siteCurves, withoutHistogram } from '../../shared/metrics/curves';
import { approvalSchema, type ApprovalView, type ModelVersionView, type VersionEvaluation } from '../../shared/protocol/models';
import { decodeWeights } from '../../shared/weights/codec';
import { blobsOf, type Db } from '../db/client';
import { evaluations, modelApprovals, modelVersions, participants, sites, studies } from '../db/schema';
import { versionMetrics } from '../studies/dashboard';
import { pooledReport } from './evaluations';
import { templateOf } from '../studies/service';

/** Every stored version of a study with its lineage, content hash, global metrics and approval. */
export async function listVersions(db: Db, studyId: string): Promise<ModelVersionView[]> {
  const [study] = await db.select({ approved: studies.approvedVersion }).from(studies).where(eq(studies.id, studyId));
  if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
  const rows = await db
    .select({
      version: modelVersions.version,
      parentVersion: modelVersions.parentVersion,
      round: modelVersions.roundNumber,
      sha256: modelVersions.sha256,
      createdAt: modelVersions.createdAt,
    })
    .from(modelVersions)
    .where(eq(modelVersions.studyId, studyId))
    .orderBy(asc(modelVersions.version));
  const metrics = new Map((await versionMetrics(db, studyId)).map((m) => [m.version, m]));
  const reports = await db
    .select({ version: evaluations.version, clinical: evaluations.clinical })
    .from(evaluations)
    .where(and(eq(evaluations.studyId, studyId), pooledReport))
    .orderBy(asc(evaluations.version), asc(evaluations.participantId));
  const clinicalBy = new Map<number, ClinicalMetrics[]>();
  for (const r of reports) if (r.clinical) clinicalBy.set(r.version, [...(clinicalBy.get(r.version) ?? []), r.clinical]);
  return rows.map((r) => {
    const m = metrics.get(r.version);
    const pooled = poolEvaluation(clinicalBy.get(r.version) ?? []);
    return {
      version: r.version,
      parentVersion: r.parentVersion,
      round: r.round,
      sha256: r.sha256,
      createdAt: r.createdAt.toISOString(),
      approved: study.approved === r.version,
      numSamples: m?.numSamples ?? 0,
      reports: m?.reports ?? 0,
      flagged: m?.flagged ?? 0,
      loss: m?.loss ?? null,
      accuracy: m?.accuracy ?? null,
      clinical: pooled.metrics,
      auroc: pooled.auroc,
      aurocMethod: pooled.aurocMethod,
      aurocMaxError: pooled.aurocMaxError,
    };
  });
}

export async function approvedVersion(db: Db, studyId: string): Promise<number | null> {
  const [row] = await db.select({ v: studies.approvedVersion }).from(studies).where(eq(studies.id, studyId));
  if (!row) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
  return row.v;
}

/**
 * Make `version` the study's approved version, recording who, why and what it replaced. Approving an
 * earlier version is the rollback: the same one action.
 */
export async function approveVersion(db: Db, input: { studyId: string; version: number; approvedBy: string; note: string }) {
  const { note } = approvalSchema.parse({ note: input.note });
  return db.transaction(async (tx) => {
    const [study] = await tx.select({ approved: studies.approvedVersion }).from(studies).where(eq(studies.id, input.studyId)).for('update');
    if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${input.studyId}'`, 404);
    const [exists] = await tx
      .select({ v: modelVersions.version })
      .from(modelVersions)
      .where(and(eq(modelVersions.studyId, input.studyId), eq(modelVersions.version, input.version)));
    if (!exists) throw new ConsiliumError(ErrorCode.NotFound, `study ${input.studyId} has no model version ${input.version}`, 404);
    if (study.approved === input.version)
      throw new ConsiliumError(ErrorCode.Conflict, `version ${input.version} is already the approved version`, 409);
    await tx.update(studies).set({ approvedVersion: input.version }).where(eq(studies.id, input.studyId));
    const [row] = await tx
      .insert(modelApprovals)
      .values({ studyId: input.studyId, version: input.version, previousVersion: study.approved, approvedBy: input.approvedBy, note })
      .returning();
    return toApprovalView(row);
  });
}

export async function listApprovals(db: Db, studyId: string): Promise<ApprovalView[]> {
  const rows = await db.select().from(modelApprovals).where(eq(modelApprovals.studyId, studyId)).orderBy(desc(modelApprovals.id));
  return rows.map(toApprovalView);
}

function toApprovalView(r: typeof modelApprovals.$inferSelect): ApprovalView {
  return { version: r.version, previousVersion: r.previousVersion, approvedBy: r.approvedBy, note: r.note, approvedAt: r.approvedAt.toISOString() };
}

/** A stored version as TensorFlow.js layers-model files (loads TF.js on first use only). */
export async function layersModelFiles(db: Db, studyId: string, version: number) {
  const [row] = await db
    .select({ sha256: modelVersions.sha256, templateId: studies.templateId, round: modelVersions.roundNumber })
    .from(modelVersions)
    .innerJoin(studies, eq(studies.id, modelVersions.studyId))
    .where(and(eq(modelVersions.studyId, studyId), eq(modelVersions.version, version)));
  if (!row) throw new ConsiliumError(ErrorCode.NotFound, `study ${studyId} has no model version ${version}`, 404);
  const template = templateOf(row.templateId);
  const weights = decodeWeights(await blobsOf(db).read(row.sha256)).tensors.map((t) => t.data);
  const { toLayersModelFiles } = await import('../../shared/training/export');
  return toLayersModelFiles(template.model, weights, {
    metadata: { studyId, version, templateId: template.id, sha256: row.sha256, ...(row.round !== null ? { round: row.round } : {}) },
  });
}

/** Every site's report on a version, and their pooled values: AUROC and ROC from the summed score histograms when every pooled report sent one. */
export async function versionEvaluation(db: Db, studyId: string, version: number): Promise<VersionEvaluation> {
  const [exists] = await db
    .select({ v: modelVersions.version })
    .from(modelVersions)
    .where(and(eq(modelVersions.studyId, studyId), eq(modelVersions.version, version)));
  if (!exists) throw new ConsiliumError(ErrorCode.NotFound, `study ${studyId} has no model version ${version}`, 404);
  const rows = await db
    .select({ e: evaluations, siteName: sites.name })
    .from(evaluations)
    .innerJoin(participants, eq(participants.id, evaluations.participantId))
    .innerJoin(sites, eq(sites.id, participants.siteId))
    .where(and(eq(evaluations.studyId, studyId), eq(evaluations.version, version)))
    .orderBy(asc(sites.name));
  const pooled = poolEvaluation(rows.flatMap((r) => (r.e.clinical && (r.e.flag === null || r.e.includedBy !== null) ? [r.e.clinical] : [])));
  return {
    version,
    global: pooled.metrics,
    auroc: pooled.auroc,
    aurocMethod: pooled.aurocMethod,
    aurocMaxError: pooled.aurocMaxError,
    withoutHistogram: pooled.withoutHistogram,
    curves: pooled.curves,
    sites: rows.map(({ e, siteName }) => ({
      participantId: e.participantId,
      siteName,
      numSamples: e.numSamples,
      backend: e.backend,
      reportedAt: e.reportedAt.toISOString(),
      loss: e.loss,
      accuracy: e.accuracy,
      clinical: e.clinical ? withoutHistogram(e.clinical) : null,
      histogram: Boolean(e.clinical?.histogram),
      curves: e.clinical ? siteCurves(e.clinical) : null,
      flag: e.flag,
      includedBy: e.includedBy,
      pooled: e.flag === null || e.includedBy !== null,
    })),
  };
}
