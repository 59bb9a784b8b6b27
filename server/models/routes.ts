import { Hono, type Context } from 'hono';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { participantIdParamSchema, studyIdParamSchema, versionOrApprovedParamSchema, versionParamSchema } from '../../shared/protocol/params';
import type { Clock } from '../clock';
import { includeEvaluation } from './evaluations';
import type { Db } from '../db/client';
import type { Audit } from '../audit/log';
import { pathParam } from '../http/params';
import { addressOf, requireAdmin, type AppEnv } from '../http/principal';
import { approvalSchema } from '../../shared/protocol/models';
import { approvedVersion, approveVersion, layersModelFiles, listApprovals, listVersions, versionEvaluation } from './service';

/**
 * Model versions in TensorFlow.js layers format, and their approval. Admins list, download and
 * approve any version; everyone else (patients included, signed in or not) gets the approved one only.
 */
export function modelRoutes(deps: { db: Db; audit: Audit; clock: Clock; onChange?: (studyId: string) => void }) {
  const { db, audit, clock, onChange } = deps;

  /** `approved` for everyone; a version number for platform admins only. */
  async function resolveVersion(c: Context<AppEnv>, studyId: string): Promise<number> {
    const which = pathParam(c, 'version', versionOrApprovedParamSchema);
    if (which === 'approved') {
      const v = await approvedVersion(db, studyId);
      if (v === null) throw new ConsiliumError(ErrorCode.NotFound, `study ${studyId} has no approved model yet`, 404);
      return v;
    }
    requireAdmin(c);
    return which;
  }

  return new Hono<AppEnv>()
    .get('/:id/versions', async (c) => {
      requireAdmin(c);
      return c.json(await listVersions(db, pathParam(c, 'id', studyIdParamSchema)));
    })
    .get('/:id/versions/:version/evaluation', async (c) => {
      requireAdmin(c);
      return c.json(await versionEvaluation(db, pathParam(c, 'id', studyIdParamSchema), pathParam(c, 'version', versionParamSchema)));
    })
    // A report flagged as far from the other sites' counts in the pooled figures once an admin includes it; DELETE takes that back.
    .post('/:id/versions/:version/evaluations/:participantId/include', async (c) => {
      const admin = requireAdmin(c);
      const key = { studyId: pathParam(c, 'id', studyIdParamSchema), version: pathParam(c, 'version', versionParamSchema), participantId: pathParam(c, 'participantId', participantIdParamSchema) };
      await includeEvaluation(db, clock, key, admin.email);
      await audit({ action: 'evaluation.included', actor: admin, studyId: key.studyId, target: `version ${key.version}`, address: addressOf(c), detail: { participantId: key.participantId, included: true } });
      onChange?.(key.studyId);
      return c.json(await versionEvaluation(db, key.studyId, key.version));
    })
    .delete('/:id/versions/:version/evaluations/:participantId/include', async (c) => {
      const admin = requireAdmin(c);
      const key = { studyId: pathParam(c, 'id', studyIdParamSchema), version: pathParam(c, 'version', versionParamSchema), participantId: pathParam(c, 'participantId', participantIdParamSchema) };
      await includeEvaluation(db, clock, key, null);
      await audit({ action: 'evaluation.included', actor: admin, studyId: key.studyId, target: `version ${key.version}`, address: addressOf(c), detail: { participantId: key.participantId, included: false } });
      onChange?.(key.studyId);
      return c.json(await versionEvaluation(db, key.studyId, key.version));
    })
    .get('/:id/approvals', async (c) => {
      requireAdmin(c);
      return c.json(await listApprovals(db, pathParam(c, 'id', studyIdParamSchema)));
    })
    .post('/:id/versions/:version/approve', async (c) => {
      const admin = requireAdmin(c);
      const studyId = pathParam(c, 'id', studyIdParamSchema);
      const version = pathParam(c, 'version', versionParamSchema);
      const body = approvalSchema.parse(await c.req.json().catch(() => ({})));
      const approval = await approveVersion(db, { studyId, version, approvedBy: admin.email, note: body.note });
      await audit({ action: 'model.approved', actor: admin, studyId, target: `v${approval.version}`, address: addressOf(c), detail: { note: body.note, previousVersion: approval.previousVersion } });
      return c.json(approval, 201);
    })
    .get('/:id/versions/:version/model.json', async (c) => {
      const studyId = pathParam(c, 'id', studyIdParamSchema);
      const version = await resolveVersion(c, studyId);
      const { modelJson } = await layersModelFiles(db, studyId, version);
      // `approved` moves when another version is approved: revalidate each time.
      c.header('Cache-Control', 'no-cache');
      c.header('X-Model-Version', String(version));
      return c.json(modelJson);
    })
    .get('/:id/versions/:version/weights.bin', async (c) => {
      const studyId = pathParam(c, 'id', studyIdParamSchema);
      const version = await resolveVersion(c, studyId);
      const { weightsBin } = await layersModelFiles(db, studyId, version);
      // A download of the weights is an export; the approved model's public downloads are not audited one by one.
      const p = c.get('principal');
      if (p?.kind === 'admin') await audit({ action: 'model.exported', actor: p, studyId, target: `v${version}`, address: addressOf(c) });
      c.header('Cache-Control', 'no-cache');
      c.header('X-Model-Version', String(version));
      return c.body(weightsBin, 200, { 'Content-Type': 'application/octet-stream' });
    });
}
