import { and, eq } from 'drizzle-orm';
import { createHash, randomUUID } from 'node:crypto';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { mergeStudyConfig, studyConfigSchema, type StudyConfig, type StudyConfigPatch, type StudySummary } from '../../shared/protocol/schemas';
import { getTemplate, initialWeights, weightShapes, type TaskTemplate } from '../../shared/tasks';
import { encodeWeights } from '../../shared/weights/codec';
import { blobsOf, type Db } from '../db/client';
import { modelVersions, participants, studies } from '../db/schema';
import { studyPrivacyStatus } from '../privacy/status';

export interface CreateStudyInput {
  id: string;
  name: string;
  templateId: string;
  /** Settings over the template's defaults. */
  config?: StudyConfigPatch;
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function encodeModel(studyId: string, version: number, weights: Float32Array[], template: TaskTemplate): Uint8Array {
  const shapes = weightShapes(template.model);
  return encodeWeights({
    kind: 'model',
    meta: { studyId, version, templateId: template.id },
    tensors: weights.map((data, i) => ({ shape: shapes[i].shape, data })),
  });
}

export function templateOf(templateId: string): TaskTemplate {
  const t = getTemplate(templateId);
  if (!t) throw new ConsiliumError(ErrorCode.BadRequest, `unknown study template '${templateId}'`);
  return t;
}

/**
 * `base` (the template's defaults, or a study's current configuration) with `patch` over it, checked
 * as a whole. A bad setting is a 400 that names it (`config.minUpdates: ...`).
 */
export function resolveStudyConfig(base: StudyConfig, patch: StudyConfigPatch = {}): StudyConfig {
  const parsed = studyConfigSchema.safeParse(mergeStudyConfig(base, patch));
  if (!parsed.success)
    throw new ConsiliumError(
      ErrorCode.BadRequest,
      parsed.error.issues.map((i) => `config${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`).join('; '),
      400,
    );
  return parsed.data;
}

/**
 * Create a study and its version 0 (seeded initial weights) in one transaction; `then` runs inside
 * it once the study row exists (enrolments). Resolves false, changing nothing, when the id is taken.
 */
export async function insertStudy(db: Db, input: CreateStudyInput, then?: (tx: Tx) => Promise<void>): Promise<boolean> {
  const template = templateOf(input.templateId);
  const config = resolveStudyConfig(template.defaults, input.config);
  const weights = initialWeights(template.model, config.seed);
  // The bytes first, durably; the row that names them second (an unreferenced blob is harmless).
  const stored = await blobsOf(db).put(encodeModel(input.id, 0, weights, template));
  return db.transaction(async (tx) => {
    const created = await tx
      .insert(studies)
      .values({ id: input.id, name: input.name, templateId: template.id, config })
      .onConflictDoNothing()
      .returning({ id: studies.id });
    if (created.length === 0) return false;
    await tx.insert(modelVersions).values({ studyId: input.id, version: 0, sha256: stored.sha256, weightsBytes: stored.bytes });
    await then?.(tx);
    return true;
  });
}

/** Create a study and its version 0 (seeded initial weights) in one transaction. Idempotent by id. */
export async function createStudy(db: Db, input: CreateStudyInput): Promise<StudySummary> {
  await insertStudy(db, input);
  return getStudySummary(db, input.id);
}

export async function getStudySummary(db: Db, studyId: string): Promise<StudySummary> {
  const [row] = await db.select().from(studies).where(eq(studies.id, studyId));
  if (!row) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
  return {
    id: row.id,
    name: row.name,
    templateId: row.templateId,
    status: row.status,
    config: row.config,
    currentVersion: row.currentVersion,
    completedRounds: row.completedRounds,
    normalisation: row.normalisation ?? null,
    privacy: await studyPrivacyStatus(db, row.id, row.config.privacy),
  };
}

export async function listStudies(db: Db): Promise<StudySummary[]> {
  const rows = await db.select({ id: studies.id }).from(studies).orderBy(studies.createdAt, studies.id);
  return Promise.all(rows.map((r) => getStudySummary(db, r.id)));
}

/** Enrol a site in a study (idempotent); returns the participant id. */
export async function enrolSite(db: Db, studyId: string, siteId: string): Promise<string> {
  await db.insert(participants).values({ id: randomUUID(), studyId, siteId }).onConflictDoNothing();
  const [row] = await db
    .select({ id: participants.id })
    .from(participants)
    .where(and(eq(participants.studyId, studyId), eq(participants.siteId, siteId)));
  return row.id;
}

export async function findParticipant(db: Db, studyId: string, siteId: string) {
  const [row] = await db
    .select()
    .from(participants)
    .where(and(eq(participants.studyId, studyId), eq(participants.siteId, siteId)));
  return row ?? null;
}

export async function studiesOfSite(db: Db, siteId: string): Promise<string[]> {
  const rows = await db.select({ id: participants.studyId }).from(participants).where(eq(participants.siteId, siteId));
  return rows.map((r) => r.id).sort();
}

/** A stored version's content hash and size; its bytes are `blobsOf(db)`'s blob of that hash. */
export async function findModelVersion(db: Db, studyId: string, version: number) {
  const [row] = await db
    .select({ sha256: modelVersions.sha256, bytes: modelVersions.weightsBytes, serverStateSha256: modelVersions.serverStateSha256 })
    .from(modelVersions)
    .where(and(eq(modelVersions.studyId, studyId), eq(modelVersions.version, version)));
  return row ?? null;
}

/** A stored version's codec payload, read whole from the blob store (the server's own uses: aggregation, exports). */
export async function loadModelBytes(db: Db, studyId: string, version: number): Promise<{ sha256: string; weights: Uint8Array } | null> {
  const row = await findModelVersion(db, studyId, version);
  return row ? { sha256: row.sha256, weights: await blobsOf(db).read(row.sha256) } : null;
}
