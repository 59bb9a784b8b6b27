import { Hono } from 'hono';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { z } from 'zod';
import { dataQualitySchema } from '../../shared/protocol/dataQuality';
import { studyIdParamSchema, versionParamSchema } from '../../shared/protocol/params';
import { dashboardSchema, recordPrivacyStatusSchema, studySummarySchema } from '../../shared/protocol/schemas';
import { blobsOf, type Db } from '../db/client';
import { pathParam } from '../http/params';
import { requireAdmin, requireStaffOrAdmin, type AppEnv } from '../http/principal';
import { doc } from '../openapi/describe';
import type { Presence } from '../realtime/presence';
import type { ModelDownloads } from '../rounds/downloads';
import { recordPrivacyStatus } from '../privacy/recordBudget';
import { buildDashboard } from './dashboard';
import { buildDataQuality } from './dataQuality';
import { findParticipant, getStudySummary, listStudies, findModelVersion, studiesOfSite } from './service';

/** Hospitals see only the studies they are enrolled in; admins see all. */
async function assertCanSee(db: Db, c: Parameters<typeof requireStaffOrAdmin>[0], studyId: string) {
  const p = requireStaffOrAdmin(c);
  if (p.kind === 'hospital' && !(await findParticipant(db, studyId, p.siteId)))
    throw new ConsiliumError(ErrorCode.Forbidden, 'this hospital is not enrolled in that study', 403);
}

export function studyRoutes(deps: { db: Db; presence: Presence; downloads: ModelDownloads }) {
  const { db, presence } = deps;
  const modelDoc = doc({
    tag: 'Models',
    summary: 'Download a model version (binary, for training)',
    description: 'Immutable once written: cached for good, tagged by its SHA-256 (ETag, X-Content-SHA256); If-None-Match answers 304.',
    access: 'staff',
    params: { id: studyIdParamSchema, version: versionParamSchema },
    response: { binary: 'The encoded model weights (shared/weights).' },
    errors: { 304: 'Not modified: the cached copy is this version.' },
  });
  return new Hono<AppEnv>()
    .get('/', doc({ tag: 'Studies', summary: 'The studies the caller may see', description: "Admins see every study; a hospital sees the studies it is enrolled in.", access: 'staff', response: z.array(studySummarySchema) }), async (c) => {
      const p = requireStaffOrAdmin(c);
      const all = await listStudies(db);
      if (p.kind === 'admin') return c.json(all);
      const mine = new Set(await studiesOfSite(db, p.siteId));
      return c.json(all.filter((s) => mine.has(s.id)));
    })
    .get('/:id', doc({ tag: 'Studies', summary: 'One study', access: 'staff', params: { id: studyIdParamSchema }, response: studySummarySchema }), async (c) => {
      const id = pathParam(c, 'id', studyIdParamSchema);
      await assertCanSee(db, c, id);
      return c.json(await getStudySummary(db, id));
    })
    .get('/:id/dashboard', doc({ tag: 'Studies', summary: "A study's dashboard: rounds, metrics, participants, refused updates", access: 'admin', params: { id: studyIdParamSchema }, response: dashboardSchema }), async (c) => {
      requireAdmin(c);
      const id = pathParam(c, 'id', studyIdParamSchema);
      return c.json(await buildDashboard(db, presence, id));
    })
    .get(
      '/:id/record-privacy',
      doc({
        tag: 'Studies',
        summary: "Record-level (DP-SGD) privacy: each site's ε",
        description: 'Admins see every site; a hospital sees its own. 404 for a study without record-level privacy.',
        access: 'staff',
        params: { id: studyIdParamSchema },
        response: recordPrivacyStatusSchema,
      }),
      async (c) => {
        const id = pathParam(c, 'id', studyIdParamSchema);
        await assertCanSee(db, c, id);
        const study = await getStudySummary(db, id);
        const privacy = study.config.recordPrivacy;
        if (!privacy) throw new ConsiliumError(ErrorCode.NotFound, `study ${id} has no record-level privacy`, 404);
        const p = requireStaffOrAdmin(c);
        const only = p.kind === 'hospital' ? (await findParticipant(db, id, p.siteId))?.id : undefined;
        return c.json(await recordPrivacyStatus(db, id, study.config, privacy, only));
      },
    )
    .get('/:id/data-quality', doc({ tag: 'Studies', summary: "Each site's data quality: missing and out-of-range values per feature", access: 'admin', params: { id: studyIdParamSchema }, response: dataQualitySchema }), async (c) => {
      requireAdmin(c);
      return c.json(await buildDataQuality(db, pathParam(c, 'id', studyIdParamSchema)));
    })
    .get('/:id/models/:version', modelDoc, async (c) => {
      const id = pathParam(c, 'id', studyIdParamSchema);
      await assertCanSee(db, c, id);
      const version = pathParam(c, 'version', versionParamSchema);
      const model = await findModelVersion(db, id, version);
      if (!model) throw new ConsiliumError(ErrorCode.NotFound, `study ${id} has no model version ${version}`, 404);
      // A version never changes once written: browsers may keep it for good, and its hash is its tag.
      const etag = `"${model.sha256}"`;
      c.header('Cache-Control', 'private, max-age=31536000, immutable');
      c.header('ETag', etag);
      c.header('X-Content-SHA256', model.sha256);
      if (c.req.header('if-none-match') === etag) return c.body(null, 304);
      // Streamed from the blob store, never read whole into memory.
      const size = model.bytes ?? (await blobsOf(db).size(model.sha256));
      // Counted as it goes: the rounds' bytes out (GET /api/studies/:id/rounds/:round).
      const stream = blobsOf(db).stream(model.sha256);
      return c.body(deps.downloads.count(id, version, stream, size), 200, {
        'Content-Type': 'application/octet-stream',
        ...(size !== null ? { 'Content-Length': String(size) } : {}),
      });
    });
}
