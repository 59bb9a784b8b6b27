import { and, desc, eq, sql } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ColumnSummary } from '../../shared/data/columns';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { ColumnSummaryView, CreateTemplateRequest } from '../../shared/protocol/templates';
import { createTemplateRequestSchema } from '../../shared/protocol/templates';
import { builtInFamilies, getTemplate, registerTemplate, taskTemplateSchema, templateFromDesign, versionIncompatibility, type TaskTemplate } from '../../shared/tasks';
import type { Db } from '../db/client';
import { columnSummaries, customTemplates, sites } from '../db/schema';

/*
 * Custom study templates (issue 20). A row per version, written once; every process registers every
 * row at start and each new one as it is made (and, in a cluster, when a peer says it made one), so
 * `templateOf` finds a custom study's template as it finds a built-in one.
 */

/** First half of the advisory lock on a family while a version is written ("Tplt"). */
const TEMPLATE_LOCK_KEY = 0x54706c74;

/** Registers every stored custom template not registered yet; returns how many it added. */
export async function loadCustomTemplates(db: Db, log?: Logger): Promise<number> {
  const rows = await db.select({ id: customTemplates.id, definition: customTemplates.definition }).from(customTemplates);
  let added = 0;
  for (const row of rows) {
    if (getTemplate(row.id)) continue;
    const parsed = taskTemplateSchema.safeParse(row.definition);
    if (!parsed.success) {
      log?.error({ templateId: row.id, issues: parsed.error.issues.slice(0, 5) }, 'a stored custom template no longer validates: its studies cannot run');
      continue;
    }
    registerTemplate(parsed.data);
    added++;
  }
  return added;
}

/** The template of `id`, loading custom ones from the database when this process has not seen them yet. */
export async function ensureTemplate(db: Db, id: string): Promise<TaskTemplate | undefined> {
  return getTemplate(id) ?? ((await loadCustomTemplates(db)) > 0 ? getTemplate(id) : undefined);
}

export interface CreatedTemplate {
  template: TaskTemplate;
  created: boolean;
}

/**
 * A new custom family (version 1) or the next version of one, in one transaction under a lock on the
 * family (two admins saving at once get versions N and N+1, not a conflict). A built-in family's id,
 * or a version that changes the features or the label, is a 409; an invalid design a 400.
 */
export async function createCustomTemplate(db: Db, input: CreateTemplateRequest, by: string): Promise<TaskTemplate> {
  const req = createTemplateRequestSchema.parse(input);
  const family = req.design.family;
  if (builtInFamilies.has(family)) throw new ConsiliumError(ErrorCode.Conflict, `'${family}' is a built-in study template: choose another id`, 409);
  // Checked before the transaction, so a bad design is the 400 that names its field (the version only changes the id).
  templateFromDesign(req.design, 1, req.changes);
  const template = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${TEMPLATE_LOCK_KEY}::int, hashtext(${family}::text))`);
    const [previous] = await tx.select().from(customTemplates).where(eq(customTemplates.family, family)).orderBy(desc(customTemplates.version)).limit(1);
    const version = (previous?.version ?? 0) + 1;
    const next = templateFromDesign(req.design, version, req.changes);
    if (previous) {
      const problem = versionIncompatibility(taskTemplateSchema.parse(previous.definition), next);
      if (problem) throw new ConsiliumError(ErrorCode.Conflict, problem, 409);
    }
    await tx.insert(customTemplates).values({ id: next.id, family, version, definition: next, design: req.design, createdBy: by });
    return next;
  });
  registerTemplate(template);
  return template;
}

/** What the admin filled in for a custom template, to start its next version from. */
export async function templateDesign(db: Db, id: string): Promise<unknown> {
  const [row] = await db.select({ design: customTemplates.design }).from(customTemplates).where(eq(customTemplates.id, id));
  if (!row) throw new ConsiliumError(ErrorCode.NotFound, getTemplate(id) ? `'${id}' is a built-in template: it has no stored design` : `no template '${id}'`, 404);
  return row.design;
}

export async function customTemplateIds(db: Db): Promise<Set<string>> {
  return new Set((await db.select({ id: customTemplates.id }).from(customTemplates)).map((r) => r.id));
}

/** How many summaries a site keeps: the newest; older ones are dropped as new ones come. */
const SUMMARIES_PER_SITE = 20;

export async function storeColumnSummary(db: Db, siteId: string, summary: ColumnSummary): Promise<string> {
  const id = randomUUID();
  await db.transaction(async (tx) => {
    await tx.insert(columnSummaries).values({ id, siteId, summary });
    const old = await tx.select({ id: columnSummaries.id }).from(columnSummaries).where(eq(columnSummaries.siteId, siteId)).orderBy(desc(columnSummaries.createdAt), desc(columnSummaries.id)).offset(SUMMARIES_PER_SITE);
    for (const o of old) await tx.delete(columnSummaries).where(and(eq(columnSummaries.id, o.id), eq(columnSummaries.siteId, siteId)));
  });
  return id;
}

export async function listColumnSummaries(db: Db): Promise<ColumnSummaryView[]> {
  const rows = await db
    .select({ id: columnSummaries.id, siteId: columnSummaries.siteId, siteName: sites.name, summary: columnSummaries.summary, createdAt: columnSummaries.createdAt })
    .from(columnSummaries)
    .innerJoin(sites, eq(sites.id, columnSummaries.siteId))
    .orderBy(desc(columnSummaries.createdAt))
    .limit(200);
  return rows.map((r) => ({ id: r.id, siteId: r.siteId, siteName: r.siteName, createdAt: r.createdAt.toISOString(), summary: r.summary as ColumnSummary }));
}
