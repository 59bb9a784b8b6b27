import { Hono, type Context } from 'hono';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { studyIdSchema } from '../../shared/protocol/schemas';
import type { Db } from '../db/client';
import type { Audit } from '../audit/log';
import { addressOf, requireAdmin, type AppEnv } from '../http/principal';
import { approvalSchema } from '../../shared/protocol/models';
import { approvedVersion, approveVersion, layersModelFiles, listApprovals, listVersions, versionEvaluation } from './service';

/**
 * Model versions in TensorFlow.js layers format, and their approval. Admins list, download and
 * approve any version; everyone else (patients included, signed in or not) gets the approved one only.
 */
export function modelRoutes(deps: { db: Db; audit: Audit }) {
  const { db, audit } = deps;

  /** `approved` for everyone; a version number for platform admins only. */
  async function resolveVersion(c: Context<AppEnv>, studyId: string): Promise<number> {
    const which = c.req.param('version');
    if (which === 'approved') {
      const v = await approvedVersion(db, studyId);
      if (v === null) throw new ConsiliumError(ErrorCode.NotFound, `study ${studyId} has no approved model yet`, 404);
      return v;
    }
    requireAdmin(c);
    return Number(which);
  }

  return new Hono<AppEnv>()
    .get('/:id/versions', async (c) => {
      requireAdmin(c);
      return c.json(await listVersions(db, studyIdSchema.parse(c.req.param('id'))));
    })
    .get('/:id/versions/:version{[0-9]+}/evaluation', async (c) => {
      requireAdmin(c);
      return c.json(await versionEvaluation(db, studyIdSchema.parse(c.req.param('id')), Number(c.req.param('version'))));
    })
    .get('/:id/approvals', async (c) => {
      requireAdmin(c);
      return c.json(await listApprovals(db, studyIdSchema.parse(c.req.param('id'))));
    })
    .post('/:id/versions/:version{[0-9]+}/approve', async (c) => {
      const admin = requireAdmin(c);
      const studyId = studyIdSchema.parse(c.req.param('id'));
      const body = approvalSchema.parse(await c.req.json().catch(() => ({})));
      const approval = await approveVersion(db, { studyId, version: Number(c.req.param('version')), approvedBy: admin.email, note: body.note });
      await audit({ action: 'model.approved', actor: admin, studyId, target: `v${approval.version}`, address: addressOf(c), detail: { note: body.note, previousVersion: approval.previousVersion } });
      return c.json(approval, 201);
    })
    .get('/:id/versions/:version{[0-9]+|approved}/model.json', async (c) => {
      const studyId = studyIdSchema.parse(c.req.param('id'));
      const version = await resolveVersion(c, studyId);
      const { modelJson } = await layersModelFiles(db, studyId, version);
      // `approved` moves when another version is approved: revalidate each time.
      c.header('Cache-Control', 'no-cache');
      c.header('X-Model-Version', String(version));
      return c.json(modelJson);
    })
    .get('/:id/versions/:version{[0-9]+|approved}/weights.bin', async (c) => {
      const studyId = studyIdSchema.parse(c.req.param('id'));
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
