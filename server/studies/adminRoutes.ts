import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { studyConfigPatchSchema } from '../../shared/protocol/schemas';
import { studyIdParamSchema } from '../../shared/protocol/params';
import { createStudyRequestSchema, enrolRequestSchema, restartRequestSchema } from '../../shared/protocol/studyAdmin';
import type { Audit } from '../audit/log';
import { pathParam } from '../http/params';
import { addressOf, requireAdmin, type AppEnv } from '../http/principal';
import {
  changeStudyConfig,
  changeStudyStatus,
  createStudyWithSites,
  enrolSiteAsAdmin,
  listConfigChanges,
  listTemplates,
  restartFromVersion,
  type StudyAdminDeps,
} from './admin';

/** A JSON body checked against `schema`; a missing or unreadable body is a 400 too. */
async function body<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  const raw = await c.req.json().catch(() => {
    throw new ConsiliumError(ErrorCode.BadRequest, 'the request body must be JSON', 400);
  });
  return schema.parse(raw);
}

/** Study administration, for platform admins only: create, enrol, pause, resume, stop, reconfigure. */
export function studyAdminRoutes(deps: StudyAdminDeps & { audit: Audit }) {
  const { db, audit } = deps;
  const actions = { pause: 'study.paused', resume: 'study.resumed', stop: 'study.stopped' } as const;
  const status = (change: 'pause' | 'resume' | 'stop') => async (c: Context<AppEnv>) => {
    const admin = requireAdmin(c);
    const studyId = pathParam(c, 'id', studyIdParamSchema);
    const result = await changeStudyStatus(deps, studyId, change, admin.email);
    await audit({ action: actions[change], actor: admin, studyId, target: studyId, address: addressOf(c) });
    return c.json(result);
  };
  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const admin = requireAdmin(c);
      const req = await body(c, createStudyRequestSchema);
      const study = await createStudyWithSites(deps, req, admin.email);
      await audit({ action: 'study.created', actor: admin, studyId: study.id, target: study.id, address: addressOf(c), detail: { templateId: req.templateId, siteIds: req.siteIds ?? [] } });
      return c.json(study, 201);
    })
    .post('/:id/participants', async (c) => {
      requireAdmin(c);
      const id = pathParam(c, 'id', studyIdParamSchema);
      const { siteId } = await body(c, enrolRequestSchema);
      const result = await enrolSiteAsAdmin(deps, id, siteId);
      return c.json(result, result.created ? 201 : 200);
    })
    .patch('/:id/config', async (c) => {
      const admin = requireAdmin(c);
      const id = pathParam(c, 'id', studyIdParamSchema);
      const patch = await body(c, studyConfigPatchSchema);
      const result = await changeStudyConfig(deps, id, patch, admin.email);
      await audit({ action: 'study.config_changed', actor: admin, studyId: id, target: id, address: addressOf(c), detail: { patch } });
      return c.json(result);
    })
    .get('/:id/config-changes', async (c) => {
      requireAdmin(c);
      return c.json(await listConfigChanges(db, pathParam(c, 'id', studyIdParamSchema)));
    })
    .post('/:id/pause', status('pause'))
    .post('/:id/resume', status('resume'))
    .post('/:id/stop', status('stop'))
    .post('/:id/restart', async (c) => {
      const admin = requireAdmin(c);
      const studyId = pathParam(c, 'id', studyIdParamSchema);
      const { fromVersion } = await body(c, restartRequestSchema);
      const result = await restartFromVersion(deps, studyId, fromVersion, admin.email);
      await audit({ action: 'study.restarted', actor: admin, studyId, target: studyId, address: addressOf(c), detail: { fromVersion } });
      return c.json(result);
    });
}

/** `GET /api/sites`: every hospital site, for enrolment. */
/** `GET /api/templates`: what a study can be made from, with each template's default configuration. */
export function templateRoutes() {
  return new Hono<AppEnv>().get('/', (c) => {
    requireAdmin(c);
    return c.json(listTemplates());
  });
}
