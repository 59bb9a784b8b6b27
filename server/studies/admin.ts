import { and, asc, desc, eq, inArray, isNotNull, max } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { StudyConfig, StudyConfigPatch, StudyStatus, StudySummary } from '../../shared/protocol/schemas';
import type { ConfigChangeResult, ConfigChangeView, CreateStudyRequest, EnrolResult, SiteView, TemplateView } from '../../shared/protocol/studyAdmin';
import { DENSE_BENCH_TEMPLATE_ID, isLatestVersion, parameterCount, templates } from '../../shared/tasks';
import type { Db } from '../db/client';
import { modelVersions, participants, rounds, sites, studies, studyConfigChanges, users } from '../db/schema';
import type { Coordinator } from '../rounds/coordinator';
import { getStudySummary, insertStudy, resolveStudyConfig } from './service';

export interface StudyAdminDeps {
  db: Db;
  coordinator: Coordinator;
  log: Logger;
}

/** Settings that shaped what already exists, so a change would make the study inconsistent. */
const FIXED_SETTINGS: Partial<Record<keyof StudyConfig, string>> = {
  seed: 'it made version 0 and seeds every site’s train/validation split',
  validationFraction: 'every site split its records with it and sent the statistics of its training split',
  privacy: 'the privacy budget accounts every round under the settings the study started with; a new study can have others',
  secureAggregation: 'its sites were told the server would see only sums; a new study can run otherwise',
  recordPrivacy: 'every site’s record-level budget accounts its steps under the settings the study started with; a new study can have others',
};

/** Every registered template; `custom` names the ones defined in the console (stored in the database). */
export function listTemplates(custom: ReadonlySet<string> = new Set()): TemplateView[] {
  return Object.values(templates)
    // The benchmark's synthetic model is not a study anyone should make.
    .filter((t) => t.id !== DENSE_BENCH_TEMPLATE_ID)
    .map((t) => ({
      id: t.id,
      name: t.name,
      description: t.description,
      version: t.version,
      latest: isLatestVersion(t),
      custom: custom.has(t.id),
      ...(t.changes ? { changes: t.changes } : {}),
      ...(t.alternative ? { alternative: t.alternative } : {}),
      taskKind: t.model.loss === 'categoricalCrossentropy' ? ('multiclass' as const) : ('binary' as const),
      input: t.image ? ('image' as const) : ('tabular' as const),
      parameters: parameterCount(t.model),
      defaultConfig: t.defaults,
    }))
    // Each template's newest main version first (the form starts on it), alternatives after.
    .sort((a, b) => a.name.localeCompare(b.name) || Number(!!a.alternative) - Number(!!b.alternative) || b.version - a.version);
}

export async function listSites(db: Db): Promise<SiteView[]> {
  const rows = await db.select().from(sites).orderBy(asc(sites.name), asc(sites.id));
  const enrolments = await db.select({ siteId: participants.siteId, studyId: participants.studyId }).from(participants);
  const studiesOf = new Map<string, string[]>();
  for (const e of enrolments) studiesOf.set(e.siteId, [...(studiesOf.get(e.siteId) ?? []), e.studyId]);
  const memberRows = await db.select({ siteId: users.siteId }).from(users).where(isNotNull(users.siteId));
  const members = new Map<string, number>();
  for (const m of memberRows) members.set(m.siteId!, (members.get(m.siteId!) ?? 0) + 1);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    demo: r.demoProfile !== null,
    studyIds: (studiesOf.get(r.id) ?? []).sort(),
    suspendedAt: r.suspendedAt?.toISOString() ?? null,
    members: members.get(r.id) ?? 0,
  }));
}

/** The listed site ids that do not exist, in the order given. */
async function unknownSites(db: Db, siteIds: readonly string[]): Promise<string[]> {
  if (siteIds.length === 0) return [];
  const found = new Set((await db.select({ id: sites.id }).from(sites).where(inArray(sites.id, [...siteIds]))).map((r) => r.id));
  return siteIds.filter((id) => !found.has(id));
}

/** A study from a template with version 0, and its sites enrolled, all or nothing. A taken id is a 409. */
export async function createStudyWithSites(deps: StudyAdminDeps, req: CreateStudyRequest, by: string): Promise<StudySummary> {
  const { db, coordinator, log } = deps;
  const siteIds = [...new Set(req.siteIds ?? [])];
  const missing = await unknownSites(db, siteIds);
  if (missing.length) throw new ConsiliumError(ErrorCode.BadRequest, `siteIds: no site ${missing.map((s) => `'${s}'`).join(', ')}`, 400);
  const created = await coordinator.adminAction(req.id, () =>
    insertStudy(db, { id: req.id, name: req.name, templateId: req.templateId, config: req.config }, async (tx) => {
      if (siteIds.length) await tx.insert(participants).values(siteIds.map((siteId) => ({ id: randomUUID(), studyId: req.id, siteId })));
    }),
  );
  if (!created) throw new ConsiliumError(ErrorCode.Conflict, `a study with id '${req.id}' already exists`, 409);
  log.info({ studyId: req.id, templateId: req.templateId, sites: siteIds.length, by }, 'study created');
  return getStudySummary(db, req.id);
}

async function studyRow(db: Db, studyId: string) {
  const [row] = await db.select().from(studies).where(eq(studies.id, studyId));
  if (!row) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
  return row;
}

/** Enrol a site (idempotent). A stopped or completed study takes no new sites. */
export async function enrolSiteAsAdmin(deps: StudyAdminDeps, studyId: string, siteId: string): Promise<EnrolResult> {
  const { db, coordinator } = deps;
  return coordinator.adminAction(studyId, async () => {
    const study = await studyRow(db, studyId);
    if (study.status === 'stopped' || study.status === 'completed')
      throw new ConsiliumError(ErrorCode.Conflict, `study '${studyId}' is ${study.status}; it takes no new sites`, 409);
    const [site] = await db.select().from(sites).where(eq(sites.id, siteId));
    if (!site) throw new ConsiliumError(ErrorCode.BadRequest, `siteId: no site '${siteId}'`, 400);
    const inserted = await db.insert(participants).values({ id: randomUUID(), studyId, siteId }).onConflictDoNothing().returning({ id: participants.id });
    const [row] = await db
      .select({ id: participants.id })
      .from(participants)
      .where(and(eq(participants.studyId, studyId), eq(participants.siteId, siteId)));
    return { participantId: row.id, siteId, siteName: site.name, created: inserted.length > 0 };
  });
}

type StatusChange = 'pause' | 'resume' | 'stop';

const ALLOWED_FROM: Record<StatusChange, StudyStatus[]> = {
  pause: ['waiting', 'running'],
  resume: ['paused'],
  stop: ['waiting', 'running', 'paused'],
};

/**
 * Pause: no new round opens; a round in progress finishes normally. Resume: rounds open again.
 * Stop: the round in progress is abandoned and no round ever opens again.
 */
export async function changeStudyStatus(deps: StudyAdminDeps, studyId: string, change: StatusChange, by: string): Promise<StudySummary> {
  const { db, coordinator, log } = deps;
  await coordinator.adminAction(studyId, async ({ abandonOpen }) => {
    const study = await studyRow(db, studyId);
    if (!ALLOWED_FROM[change].includes(study.status))
      throw new ConsiliumError(
        ErrorCode.Conflict,
        `study '${studyId}' is ${study.status}; only a ${ALLOWED_FROM[change].join(', ').replace(/, (?=[^,]*$)/, ' or ')} study can be ${change === 'stop' ? 'stopped' : `${change}d`}`,
        409,
      );
    let next: StudyStatus;
    if (change === 'pause') next = 'paused';
    else if (change === 'stop') next = 'stopped';
    else {
      const [{ last }] = await db.select({ last: max(rounds.number) }).from(rounds).where(eq(rounds.studyId, studyId));
      next = last === null ? 'waiting' : 'running';
    }
    await db.update(studies).set({ status: next }).where(and(eq(studies.id, studyId), eq(studies.status, study.status)));
    if (change === 'stop') await abandonOpen('stopped');
    log.info({ studyId, from: study.status, to: next, by }, `study ${next}`);
  });
  return getStudySummary(db, studyId);
}

/** Recursively key-sorted JSON: equal for equal values, whatever order jsonb gave the keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'undefined';
}

function changedKeys(before: StudyConfig, after: StudyConfig): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof StudyConfig>;
  return [...keys].filter((k) => canonical(before[k]) !== canonical(after[k])).sort();
}

function toChangeView(r: typeof studyConfigChanges.$inferSelect): ConfigChangeView {
  return {
    id: r.id,
    changedBy: r.changedBy,
    changedAt: r.changedAt.toISOString(),
    effectiveFromRound: r.effectiveFromRound,
    changed: changedKeys(r.before, r.after),
    before: r.before,
    after: r.after,
  };
}

/**
 * Apply a partial configuration: merged over the current one and checked as a whole, stored, and
 * recorded with who made it. It governs the next round to open; a round already open keeps the
 * configuration it opened with. A change that changes nothing is not recorded.
 */
export async function changeStudyConfig(deps: StudyAdminDeps, studyId: string, patch: StudyConfigPatch, by: string): Promise<ConfigChangeResult> {
  const { db, coordinator, log } = deps;
  const change = await coordinator.adminAction(studyId, () =>
    db.transaction(async (tx) => {
      const [study] = await tx.select().from(studies).where(eq(studies.id, studyId)).for('update');
      if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
      if (study.status === 'stopped' || study.status === 'completed')
        throw new ConsiliumError(ErrorCode.Conflict, `study '${studyId}' is ${study.status}; its configuration is final`, 409);
      const before = study.config;
      for (const [key, why] of Object.entries(FIXED_SETTINGS) as [keyof StudyConfig, string][])
        if (key in patch && canonical(patch[key as keyof StudyConfigPatch]) !== canonical(before[key]))
          throw new ConsiliumError(ErrorCode.BadRequest, `config.${key}: fixed once a study exists (${why})`, 400);
      const after = resolveStudyConfig(before, patch);
      if (after.rounds <= study.completedRounds)
        throw new ConsiliumError(
          ErrorCode.BadRequest,
          `config.rounds: ${after.rounds} would end the study before now; ${study.completedRounds} rounds are already completed`,
          400,
        );
      if (changedKeys(before, after).length === 0) return null;
      const [{ last }] = await tx.select({ last: max(rounds.number) }).from(rounds).where(eq(rounds.studyId, studyId));
      await tx.update(studies).set({ config: after }).where(eq(studies.id, studyId));
      const [row] = await tx
        .insert(studyConfigChanges)
        .values({ studyId, changedBy: by, before, after, effectiveFromRound: (last ?? 0) + 1 })
        .returning();
      return toChangeView(row);
    }),
  );
  if (change) log.info({ studyId, by, changed: change.changed, effectiveFromRound: change.effectiveFromRound }, 'study configuration changed');
  return { study: await getStudySummary(db, studyId), change };
}

export async function listConfigChanges(db: Db, studyId: string): Promise<ConfigChangeView[]> {
  await studyRow(db, studyId);
  const rows = await db.select().from(studyConfigChanges).where(eq(studyConfigChanges.studyId, studyId)).orderBy(desc(studyConfigChanges.id));
  return rows.map(toChangeView);
}

/**
 * Continue a study from an earlier version: a round in progress is abandoned, and the next round
 * trains from `fromVersion` (with the strategy state stored with it). Versions made since stay
 * listed; the next one records `fromVersion` as its parent.
 */
export async function restartFromVersion(deps: StudyAdminDeps, studyId: string, fromVersion: number, by: string): Promise<StudySummary> {
  const { db, coordinator, log } = deps;
  await coordinator.adminAction(studyId, async ({ abandonOpen }) => {
    const study = await studyRow(db, studyId);
    if (study.status === 'stopped') throw new ConsiliumError(ErrorCode.Conflict, `study '${studyId}' is stopped; it cannot continue`, 409);
    if (study.completedRounds >= study.config.rounds)
      throw new ConsiliumError(
        ErrorCode.Conflict,
        `study '${studyId}' has run all its ${study.config.rounds} rounds; raise config.rounds first, then restart from version ${fromVersion}`,
        409,
      );
    const [version] = await db
      .select({ v: modelVersions.version })
      .from(modelVersions)
      .where(and(eq(modelVersions.studyId, studyId), eq(modelVersions.version, fromVersion)));
    if (!version) throw new ConsiliumError(ErrorCode.NotFound, `study ${studyId} has no model version ${fromVersion}`, 404);
    await abandonOpen(`restarted from version ${fromVersion}`);
    await db.update(studies).set({ currentVersion: fromVersion }).where(eq(studies.id, studyId));
    log.info({ studyId, fromVersion, previous: study.currentVersion, by }, 'study restarted from an earlier version');
  });
  return getStudySummary(db, studyId);
}
