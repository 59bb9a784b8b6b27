import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { studyConfigPatchSchema, studySummarySchema } from '../../shared/protocol/schemas';
import { studyIdParamSchema } from '../../shared/protocol/params';
import { createStudyRequestSchema, enrolRequestSchema, restartRequestSchema } from '../../shared/protocol/studyAdmin';
import type { Audit } from '../audit/log';
import { pathParam } from '../http/params';
import { addressOf, requireAdmin, type AppEnv } from '../http/principal';
import { doc } from '../openapi/describe';
import {
  changeStudyConfig,
  changeStudyStatus,
  createStudyWithSites,
  enrolSiteAsAdmin,
  listConfigChanges,
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
  const tag = 'Study administration';
  const params = { id: studyIdParamSchema };
  const statusDoc = (summary: string) => doc({ tag, summary, access: 'admin', params, response: studySummarySchema, errors: { 409: 'The study cannot make that change from its present status.' } });
  return new Hono<AppEnv>()
    .post('/', doc({ tag, summary: 'Create a study from a template, optionally enrolling sites', access: 'admin', body: createStudyRequestSchema, status: 201, response: studySummarySchema, errors: { 409: 'A study with that id exists.' } }), async (c) => {
      const admin = requireAdmin(c);
      const req = await body(c, createStudyRequestSchema);
      const study = await createStudyWithSites(deps, req, admin.email);
      await audit({ action: 'study.created', actor: admin, studyId: study.id, target: study.id, address: addressOf(c), detail: { templateId: req.templateId, siteIds: req.siteIds ?? [] } });
      return c.json(study, 201);
    })
    .post('/:id/participants', doc({ tag, summary: 'Enrol a site in a study', description: '201 when the site is newly enrolled, 200 when it already was.', access: 'admin', params, body: enrolRequestSchema, status: 201, response: 'The enrolment and whether it was made now (EnrolResult).', errors: { 409: 'The study takes no new sites.' } }), async (c) => {
      requireAdmin(c);
      const id = pathParam(c, 'id', studyIdParamSchema);
      const { siteId } = await body(c, enrolRequestSchema);
      const result = await enrolSiteAsAdmin(deps, id, siteId);
      return c.json(result, result.created ? 201 : 200);
    })
    .patch('/:id/config', doc({ tag, summary: "Change a study's configuration", description: 'Applies from the next round; the change is recorded.', access: 'admin', params, body: studyConfigPatchSchema, response: 'The new configuration and the recorded change (ConfigChangeResult).', errors: { 409: 'The study has ended: its configuration is final.' } }), async (c) => {
      const admin = requireAdmin(c);
      const id = pathParam(c, 'id', studyIdParamSchema);
      const patch = await body(c, studyConfigPatchSchema);
      const result = await changeStudyConfig(deps, id, patch, admin.email);
      await audit({ action: 'study.config_changed', actor: admin, studyId: id, target: id, address: addressOf(c), detail: { patch } });
      return c.json(result);
    })
    .get('/:id/config-changes', doc({ tag, summary: "A study's configuration changes, newest first", access: 'admin', params, response: 'Each change: when, by whom, before and after (ConfigChangeView[]).' }), async (c) => {
      requireAdmin(c);
      return c.json(await listConfigChanges(db, pathParam(c, 'id', studyIdParamSchema)));
    })
    .post('/:id/pause', statusDoc('Pause a study: no new rounds open'), status('pause'))
    .post('/:id/resume', statusDoc('Resume a paused study'), status('resume'))
    .post('/:id/stop', statusDoc('Stop a study for good'), status('stop'))
    .post('/:id/restart', doc({ tag, summary: 'Restart a study from an earlier model version', access: 'admin', params, body: restartRequestSchema, response: studySummarySchema, errors: { 409: 'The study is stopped, or cannot restart from that version.' } }), async (c) => {
      const admin = requireAdmin(c);
      const studyId = pathParam(c, 'id', studyIdParamSchema);
      const { fromVersion } = await body(c, restartRequestSchema);
      const result = await restartFromVersion(deps, studyId, fromVersion, admin.email);
      await audit({ action: 'study.restarted', actor: admin, studyId, target: studyId, address: addressOf(c), detail: { fromVersion } });
      return c.json(result);
    });
}
