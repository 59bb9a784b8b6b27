import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { studyConfigPatchSchema, studyIdSchema } from '../../shared/protocol/schemas';
import { createStudyRequestSchema, enrolRequestSchema, restartRequestSchema } from '../../shared/protocol/studyAdmin';
import { requireAdmin, type AppEnv } from '../http/principal';
import {
  changeStudyConfig,
  changeStudyStatus,
  createStudyWithSites,
  enrolSiteAsAdmin,
  listConfigChanges,
  listSites,
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
export function studyAdminRoutes(deps: StudyAdminDeps) {
  const { db } = deps;
  const status = (change: 'pause' | 'resume' | 'stop') => async (c: Context<AppEnv>) => {
    const admin = requireAdmin(c);
    return c.json(await changeStudyStatus(deps, studyIdSchema.parse(c.req.param('id')), change, admin.email));
  };
  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const admin = requireAdmin(c);
      const req = await body(c, createStudyRequestSchema);
      return c.json(await createStudyWithSites(deps, req, admin.email), 201);
    })
    .post('/:id/participants', async (c) => {
      requireAdmin(c);
      const id = studyIdSchema.parse(c.req.param('id'));
      const { siteId } = await body(c, enrolRequestSchema);
      const result = await enrolSiteAsAdmin(deps, id, siteId);
      return c.json(result, result.created ? 201 : 200);
    })
    .patch('/:id/config', async (c) => {
      const admin = requireAdmin(c);
      const id = studyIdSchema.parse(c.req.param('id'));
      const patch = await body(c, studyConfigPatchSchema);
      return c.json(await changeStudyConfig(deps, id, patch, admin.email));
    })
    .get('/:id/config-changes', async (c) => {
      requireAdmin(c);
      return c.json(await listConfigChanges(db, studyIdSchema.parse(c.req.param('id'))));
    })
    .post('/:id/pause', status('pause'))
    .post('/:id/resume', status('resume'))
    .post('/:id/stop', status('stop'))
    .post('/:id/restart', async (c) => {
      const admin = requireAdmin(c);
      const { fromVersion } = await body(c, restartRequestSchema);
      return c.json(await restartFromVersion(deps, studyIdSchema.parse(c.req.param('id')), fromVersion, admin.email));
    });
}

/** `GET /api/sites`: every hospital site, for enrolment. */
export function siteRoutes(deps: { db: StudyAdminDeps['db'] }) {
  return new Hono<AppEnv>().get('/', async (c) => {
    requireAdmin(c);
    return c.json(await listSites(deps.db));
  });
}

/** `GET /api/templates`: what a study can be made from, with each template's default configuration. */
export function templateRoutes() {
  return new Hono<AppEnv>().get('/', (c) => {
    requireAdmin(c);
    return c.json(listTemplates());
  });
}
