import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { columnSummaryRequestSchema, createTemplateRequestSchema } from '../../shared/protocol/templates';
import { taskTemplateSchema } from '../../shared/tasks';
import type { Audit } from '../audit/log';
import type { Db } from '../db/client';
import { addressOf, requireAdmin, requireAny, requireHospital, type AppEnv } from '../http/principal';
import { doc } from '../openapi/describe';
import { listTemplates } from '../studies/admin';
import { createCustomTemplate, customTemplateIds, ensureTemplate, listColumnSummaries, storeColumnSummary, templateDesign } from './store';

async function body<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  const raw = await c.req.json().catch(() => {
    throw new ConsiliumError(ErrorCode.BadRequest, 'the request body must be JSON', 400);
  });
  return schema.parse(raw);
}

const templateIdParam = z.string().min(1).max(120).regex(/^[A-Za-z0-9][\w.-]*(@[1-9][0-9]*)?$/, 'not a template id');

export interface TemplateRoutesDeps {
  db: Db;
  audit: Audit;
  /** Told of each template made here (the cluster passes it to the other processes). */
  onCreated?: (templateId: string) => void;
}

/** `/api/templates`: what studies are made from; custom ones are defined here (issue 20). */
export function templateRoutes({ db, audit, onCreated }: TemplateRoutesDeps) {
  const tag = 'Study administration';
  const params = { id: templateIdParam };
  return new Hono<AppEnv>()
    .get('/', doc({ tag, summary: 'The templates a study can be made from, with their defaults', access: 'admin', response: 'Each template: id, name, task, features and default configuration (TemplateView[]).' }), async (c) => {
      requireAdmin(c);
      return c.json(listTemplates(await customTemplateIds(db)));
    })
    .post('/', doc({ tag, summary: 'Define a custom tabular study template (or the next version of one)', description: 'Features, label rule and model as data; validated, stored and versioned. A new version keeps the features and label.', access: 'admin', body: createTemplateRequestSchema, status: 201, response: 'The template made ({ template, view }).', errors: { 409: 'The id is a built-in template, or the new version changes the features or label.' } }), async (c) => {
      const admin = requireAdmin(c);
      const req = await body(c, createTemplateRequestSchema);
      const template = await createCustomTemplate(db, req, admin.email);
      onCreated?.(template.id);
      await audit({ action: 'template.created', actor: admin, target: template.id, address: addressOf(c), detail: { version: template.version } });
      const view = listTemplates(new Set([template.id])).find((t) => t.id === template.id)!;
      return c.json({ template, view }, 201);
    })
    .get('/:id', doc({ tag, summary: "A template's full definition, as JSON (what `npm run import:check -- FILE --study TEMPLATE.json` reads)", access: 'signedIn', params, response: taskTemplateSchema }), async (c) => {
      requireAny(c);
      const id = templateIdParam.parse(c.req.param('id'));
      const template = await ensureTemplate(db, id);
      if (!template) throw new ConsiliumError(ErrorCode.NotFound, `no template '${id}'`, 404);
      c.header('Content-Disposition', `inline; filename="${id.replace('@', '-v')}.template.json"`);
      return c.json(template);
    })
    .get('/:id/design', doc({ tag, summary: 'What a custom template was designed from, to start its next version', access: 'admin', params, response: 'The study design (StudyDesign).' }), async (c) => {
      requireAdmin(c);
      return c.json(await templateDesign(db, templateIdParam.parse(c.req.param('id'))));
    });
}

/** `/api/column-summaries`: a site's column statistics from its tab, for the study designer. */
export function columnSummaryRoutes({ db, audit }: { db: Db; audit: Audit }) {
  const tag = 'Study administration';
  return new Hono<AppEnv>()
    .post('/', doc({ tag, summary: "Send a site's column statistics (names, types, ranges, codes; never rows)", access: 'hospital', body: columnSummaryRequestSchema, status: 201, response: 'The stored summary ({ id }).' }), async (c) => {
      const site = requireHospital(c);
      const summary = await body(c, columnSummaryRequestSchema);
      const id = await storeColumnSummary(db, site.siteId, summary);
      await audit({ action: 'columns.summarised', actor: site, target: site.siteId, address: addressOf(c), detail: { columns: summary.columns.length, rows: summary.rows } });
      return c.json({ id }, 201);
    })
    .get('/', doc({ tag, summary: 'Column statistics sites sent, newest first', access: 'admin', response: 'Each: site, when, the summary (ColumnSummaryView[]).' }), async (c) => {
      requireAdmin(c);
      return c.json(await listColumnSummaries(db));
    });
}
