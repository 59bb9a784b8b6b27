import { withoutHistogram } from '../../shared/metrics/curves';
import { and, eq, isNotNull, isNull, or, sql } from 'drizzle-orm';
import { outlyingSites } from '../../shared/metrics/outliers';
import { implausibleReport, maxValidationRecords } from '../../shared/metrics/plausibility';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { EvaluationReport } from '../../shared/protocol/schemas';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { evaluations, modelVersions, participants, studies } from '../db/schema';
import { templateOf } from '../studies/service';

/**
 * Sites' evaluation reports: each is checked against what an honest tab could send (a count within
 * the validation split the site's reported records allow, figures that agree with each other), taken
 * once per site and version, and compared with the other sites' reports of the version; a report far
 * from the rest is flagged and left out of the pooled figures until an admin includes it.
 */

/** Reports that count towards a version's pooled figures: not flagged, or included by an admin. */
export const pooledReport = or(isNull(evaluations.flag), isNotNull(evaluations.includedBy))!;

export interface FlagChange {
  participantId: string;
  flag: string | null;
}

/**
 * Store a site's report of a version, refusing what no honest tab could send. A second report of the
 * same version is refused unless it repeats the first (a retry after a lost acknowledgement).
 * Resolves with the version's flags that changed.
 */
export async function recordEvaluation(db: Db, clock: Clock, participantId: string, report: EvaluationReport): Promise<FlagChange[]> {
  const [version] = await db
    .select({ v: modelVersions.version })
    .from(modelVersions)
    .where(and(eq(modelVersions.studyId, report.studyId), eq(modelVersions.version, report.version)));
  if (!version) throw new ConsiliumError(ErrorCode.NotFound, `study ${report.studyId} has no version ${report.version}`, 404);
  const [site] = await db
    .select({ train: participants.numSamples, config: studies.config, templateId: studies.templateId })
    .from(participants)
    .innerJoin(studies, eq(studies.id, participants.studyId))
    .where(eq(participants.id, participantId));
  const template = templateOf(site.templateId);
  const classes = template.label.classes?.length ?? 2;
  if (site.train === null)
    throw new ConsiliumError(ErrorCode.ImplausibleReport, 'this hospital has reported no training records: join the study with its record count first', 400);
  const most = maxValidationRecords(site.train, site.config.validationFraction, classes);
  if (report.numSamples > most)
    throw new ConsiliumError(
      ErrorCode.ImplausibleReport,
      `the report counts ${report.numSamples} validation records; ${site.train} training records, as this hospital reported, leave at most ${most} for validation`,
      400,
    );
  const implausible = implausibleReport(report, classes);
  if (implausible) throw new ConsiliumError(ErrorCode.ImplausibleReport, `implausible evaluation report: ${implausible}`, 400);

  const values = {
    studyId: report.studyId,
    version: report.version,
    participantId,
    loss: report.loss,
    accuracy: report.accuracy,
    numSamples: report.numSamples,
    backend: report.backend,
    // Under differential privacy a score histogram would be a release outside the accountant: not kept.
    clinical: report.clinical ? (site.config.privacy ? withoutHistogram(report.clinical) : report.clinical) : null,
    reportedAt: new Date(clock.now()),
  };
  const inserted = await db.insert(evaluations).values(values).onConflictDoNothing().returning({ v: evaluations.version });
  if (inserted.length === 0) {
    const [first] = await db
      .select()
      .from(evaluations)
      .where(and(eq(evaluations.studyId, report.studyId), eq(evaluations.version, report.version), eq(evaluations.participantId, participantId)));
    if (first && first.loss === report.loss && first.accuracy === report.accuracy && first.numSamples === report.numSamples) return [];
    throw new ConsiliumError(ErrorCode.Conflict, `this hospital already reported its evaluation of version ${report.version}`, 409);
  }
  return reflag(db, report.studyId, report.version);
}

/** Compare every report of the version again (one more report moves the sites' medians); store and return the flags that changed. */
export async function reflag(db: Db, studyId: string, version: number): Promise<FlagChange[]> {
  const rows = await db
    .select({ id: evaluations.participantId, numSamples: evaluations.numSamples, loss: evaluations.loss, accuracy: evaluations.accuracy, flag: evaluations.flag })
    .from(evaluations)
    .where(and(eq(evaluations.studyId, studyId), eq(evaluations.version, version)));
  const flags = outlyingSites(rows);
  const changes: FlagChange[] = [];
  for (const r of rows) {
    const flag = flags.get(r.id) ?? null;
    // A flag's wording moves with every report; only its coming and going is news.
    if ((flag === null) === (r.flag === null) && (flag === null || r.flag === flag)) continue;
    await db
      .update(evaluations)
      .set({ flag })
      .where(and(eq(evaluations.studyId, studyId), eq(evaluations.version, version), eq(evaluations.participantId, r.id)));
    if ((flag === null) !== (r.flag === null)) changes.push({ participantId: r.id, flag });
  }
  return changes;
}

/** An admin counts a flagged report in the pooled figures after all (and may take that back). */
export async function includeEvaluation(db: Db, clock: Clock, key: { studyId: string; version: number; participantId: string }, by: string | null): Promise<void> {
  const updated = await db
    .update(evaluations)
    .set({ includedBy: by, includedAt: by ? new Date(clock.now()) : null })
    .where(and(eq(evaluations.studyId, key.studyId), eq(evaluations.version, key.version), eq(evaluations.participantId, key.participantId)))
    .returning({ flag: evaluations.flag });
  if (updated.length === 0) throw new ConsiliumError(ErrorCode.NotFound, `no report of version ${key.version} from that site`, 404);
}

/** SQL for "this report counts in the pooled figures", for queries that aggregate in the database. */
export const pooledSql = sql`(${evaluations.flag} is null or ${evaluations.includedBy} is not null)`;
