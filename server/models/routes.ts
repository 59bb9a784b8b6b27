import { Hono, type Context } from 'hono';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { participantIdParamSchema, studyIdParamSchema, versionOrApprovedParamSchema, versionParamSchema } from '../../shared/protocol/params';
import type { Clock } from '../clock';
import { includeEvaluation } from './evaluations';
import type { Db } from '../db/client';
import type { Audit } from '../audit/log';
import { pathParam } from '../http/params';
import { addressOf, requireAdmin, type AppEnv } from '../http/principal';
import { doc, type RouteDoc } from '../openapi/describe';
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

  const studyParams = { id: studyIdParamSchema };
  const versionParams = { ...studyParams, version: versionParamSchema };
  const reportParams = { ...versionParams, participantId: participantIdParamSchema };
  const evaluation = 'Pooled and per-site figures of the version, with the flagged reports (VersionEvaluation).';
  const include = (d: Pick<RouteDoc, 'summary'>) => doc({ tag: 'Models', access: 'admin', params: reportParams, response: evaluation, ...d });
  // `approved` for everyone; a number for platform admins only (resolveVersion).
  const download = (d: Pick<RouteDoc, 'summary' | 'response'>) =>
    doc({
      tag: 'Models',
      access: 'public',
      description: "`approved` (the approved version, whichever it is now) for anyone; a version number for platform admins only. X-Model-Version says which version it is.",
      params: { id: studyIdParamSchema, version: versionOrApprovedParamSchema },
      errors: { 401: 'A version number without signing in.', 403: 'A version number, not as a platform admin.' },
      ...d,
    });
  return new Hono<AppEnv>()
    .get('/:id/versions', doc({ tag: 'Models', summary: "A study's model versions", access: 'admin', params: studyParams, response: 'Each version with its round, size, hash and pooled metrics (ModelVersionView[]).' }), async (c) => {
      requireAdmin(c);
      return c.json(await listVersions(db, pathParam(c, 'id', studyIdParamSchema)));
    })
    .get('/:id/versions/:version/evaluation', doc({ tag: 'Models', summary: "A version's evaluation across sites", access: 'admin', params: versionParams, response: evaluation }), async (c) => {
      requireAdmin(c);
      return c.json(await versionEvaluation(db, pathParam(c, 'id', studyIdParamSchema), pathParam(c, 'version', versionParamSchema)));
    })
    // A report flagged as far from the other sites' counts in the pooled figures once an admin includes it; DELETE takes that back.
    .post('/:id/versions/:version/evaluations/:participantId/include', include({ summary: "Count a flagged site's report in the pooled figures" }), async (c) => {
      const admin = requireAdmin(c);
      const key = { studyId: pathParam(c, 'id', studyIdParamSchema), version: pathParam(c, 'version', versionParamSchema), participantId: pathParam(c, 'participantId', participantIdParamSchema) };
      await includeEvaluation(db, clock, key, admin.email);
      await audit({ action: 'evaluation.included', actor: admin, studyId: key.studyId, target: `version ${key.version}`, address: addressOf(c), detail: { participantId: key.participantId, included: true } });
      onChange?.(key.studyId);
      return c.json(await versionEvaluation(db, key.studyId, key.version));
    })
    .delete('/:id/versions/:version/evaluations/:participantId/include', include({ summary: "Leave a flagged site's report out of the pooled figures again" }), async (c) => {
      const admin = requireAdmin(c);
      const key = { studyId: pathParam(c, 'id', studyIdParamSchema), version: pathParam(c, 'version', versionParamSchema), participantId: pathParam(c, 'participantId', participantIdParamSchema) };
      await includeEvaluation(db, clock, key, null);
      await audit({ action: 'evaluation.included', actor: admin, studyId: key.studyId, target: `version ${key.version}`, address: addressOf(c), detail: { participantId: key.participantId, included: false } });
      onChange?.(key.studyId);
      return c.json(await versionEvaluation(db, key.studyId, key.version));
    })
    .get('/:id/approvals', doc({ tag: 'Models', summary: "A study's approvals, newest first", access: 'admin', params: studyParams, response: 'Each approval: version, previous version, by whom, note, when (ApprovalView[]).' }), async (c) => {
      requireAdmin(c);
      return c.json(await listApprovals(db, pathParam(c, 'id', studyIdParamSchema)));
    })
    .post('/:id/versions/:version/approve', doc({ tag: 'Models', summary: 'Approve a version for patients (approving an earlier one rolls back)', access: 'admin', params: versionParams, body: approvalSchema, status: 201, response: 'The approval (ApprovalView).' }), async (c) => {
      const admin = requireAdmin(c);
      const studyId = pathParam(c, 'id', studyIdParamSchema);
      const version = pathParam(c, 'version', versionParamSchema);
      const body = approvalSchema.parse(await c.req.json().catch(() => ({})));
      const approval = await approveVersion(db, { studyId, version, approvedBy: admin.email, note: body.note });
      await audit({ action: 'model.approved', actor: admin, studyId, target: `v${approval.version}`, address: addressOf(c), detail: { note: body.note, previousVersion: approval.previousVersion } });
      return c.json(approval, 201);
    })
    .get('/:id/versions/:version/model.json', download({ summary: "A version's TensorFlow.js model.json", response: 'The layers-format model topology and weights manifest.' }), async (c) => {
      const studyId = pathParam(c, 'id', studyIdParamSchema);
      const version = await resolveVersion(c, studyId);
      const { modelJson } = await layersModelFiles(db, studyId, version);
      // `approved` moves when another version is approved: revalidate each time.
      c.header('Cache-Control', 'no-cache');
      c.header('X-Model-Version', String(version));
      return c.json(modelJson);
    })
    .get('/:id/versions/:version/weights.bin', download({ summary: "A version's TensorFlow.js weights.bin", response: { binary: 'The weights named by model.json.' } }), async (c) => {
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
