import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { ClientView, CurrentRoundsResponse, LatestMetricsResponse, MetricsHistoryResponse, RoundMetrics } from '../../shared/protocol/monitoring';
import type { Db } from '../db/client';
import { evaluations, participants, rounds, sites, studies, updates } from '../db/schema';
import { pooledSql } from '../models/evaluations';
import type { Presence } from '../realtime/presence';

/*
 * What the monitoring routes answer, read from the database (and this process's presence). Each
 * takes an optional study: one study (404 when there is none of that id), or every study.
 */

type StudyRow = { id: string; name: string; status: (typeof studies.$inferSelect)['status'] };
type RoundRow = typeof rounds.$inferSelect;

async function studiesOf(db: Db, studyId?: string): Promise<StudyRow[]> {
  const rows = await db
    .select({ id: studies.id, name: studies.name, status: studies.status })
    .from(studies)
    .where(studyId === undefined ? undefined : eq(studies.id, studyId))
    .orderBy(asc(studies.id));
  if (studyId !== undefined && rows.length === 0) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
  return rows;
}

/** Updates received per round; a secure round that has been summed counts its survivors' masked inputs. */
async function receivedBy(db: Db, roundRows: RoundRow[]): Promise<Map<number, number>> {
  if (roundRows.length === 0) return new Map();
  const counts = await db
    .select({ roundId: updates.roundId, n: sql<number>`count(*)::int` })
    .from(updates)
    .where(inArray(updates.roundId, roundRows.map((r) => r.id)))
    .groupBy(updates.roundId);
  const byId = new Map(counts.map((r) => [r.roundId, Number(r.n)]));
  return new Map(roundRows.map((r) => [r.id, r.aggregationReport?.secureAggregation?.survivors.length ?? byId.get(r.id) ?? 0]));
}

export async function currentRounds(db: Db, studyId?: string): Promise<CurrentRoundsResponse> {
  const list = await studiesOf(db, studyId);
  if (list.length === 0) return { studies: [] };
  const open = await db
    .select()
    .from(rounds)
    .where(and(inArray(rounds.status, ['open', 'aggregating']), inArray(rounds.studyId, list.map((s) => s.id))))
    .orderBy(asc(rounds.number));
  const received = await receivedBy(db, open);
  // One coordinator per study opens one round at a time; should two show, the latest is the current one.
  const openBy = new Map(open.map((r) => [r.studyId, r]));
  return {
    studies: list.map((s) => {
      const r = openBy.get(s.id);
      return {
        studyId: s.id,
        studyName: s.name,
        studyStatus: s.status,
        round: r
          ? {
              round: r.number,
              status: r.status as 'open' | 'aggregating',
              baseVersion: r.baseVersion,
              openedAt: r.openedAt.toISOString(),
              deadline: r.deadline.toISOString(),
              sampled: r.sampled.length,
              received: received.get(r.id) ?? 0,
            }
          : null,
      };
    }),
  };
}

/** Sample-weighted pooled validation figures of the given versions of a study (flagged reports left out until included). */
async function pooledFigures(db: Db, studyId: string, versions: number[]) {
  if (versions.length === 0) return new Map<number, { samples: number; reports: number; loss: number | null; accuracy: number | null }>();
  const rows = await db
    .select({
      version: evaluations.version,
      samples: sql<number>`coalesce(sum(${evaluations.numSamples}) filter (where ${pooledSql}), 0)::int`,
      reports: sql<number>`(count(*) filter (where ${pooledSql}))::int`,
      loss: sql<number | null>`sum(${evaluations.loss} * ${evaluations.numSamples}) filter (where ${pooledSql}) / nullif(sum(${evaluations.numSamples}) filter (where ${pooledSql}), 0)`,
      accuracy: sql<number | null>`sum(${evaluations.accuracy} * ${evaluations.numSamples}) filter (where ${pooledSql}) / nullif(sum(${evaluations.numSamples}) filter (where ${pooledSql}), 0)`,
    })
    .from(evaluations)
    .where(and(eq(evaluations.studyId, studyId), inArray(evaluations.version, versions)))
    .groupBy(evaluations.version);
  return new Map(
    rows.map((r) => [
      r.version,
      { samples: Number(r.samples), reports: Number(r.reports), loss: r.loss === null ? null : Number(r.loss), accuracy: r.accuracy === null ? null : Number(r.accuracy) },
    ]),
  );
}

async function roundMetrics(db: Db, studyId: string, closed: RoundRow[]): Promise<RoundMetrics[]> {
  const versions = closed.map((r) => r.resultVersion).filter((v): v is number => v !== null);
  const figures = await pooledFigures(db, studyId, versions);
  return closed.map((r) => {
    const f = r.resultVersion === null ? undefined : figures.get(r.resultVersion);
    return {
      round: r.number,
      version: r.resultVersion ?? 0,
      closedAt: (r.closedAt ?? r.openedAt).toISOString(),
      contributors: r.contributors ?? 0,
      trainingSamples: r.totalSamples ?? 0,
      trainLoss: r.meanTrainLoss,
      validationLoss: f?.loss ?? null,
      validationAccuracy: f?.accuracy ?? null,
      validationSamples: f?.samples ?? 0,
      validationReports: f?.reports ?? 0,
    };
  });
}

const closedOf = (studyId: string) => and(eq(rounds.studyId, studyId), eq(rounds.status, 'closed'));

export async function latestMetrics(db: Db, studyId?: string): Promise<LatestMetricsResponse> {
  const list = await studiesOf(db, studyId);
  const out: LatestMetricsResponse['studies'] = [];
  for (const s of list) {
    const last = await db.select().from(rounds).where(closedOf(s.id)).orderBy(desc(rounds.number)).limit(1);
    const [latest] = await roundMetrics(db, s.id, last);
    out.push({ studyId: s.id, studyName: s.name, latest: latest ?? null });
  }
  return { studies: out };
}

/** Closed rounds oldest first, a page at a time, with how many there are in all. */
export async function metricsHistory(db: Db, studyId: string, page: { limit: number; offset: number }): Promise<MetricsHistoryResponse> {
  await studiesOf(db, studyId);
  const [{ total }] = await db.select({ total: sql<number>`count(*)::int` }).from(rounds).where(closedOf(studyId));
  const closed = await db.select().from(rounds).where(closedOf(studyId)).orderBy(asc(rounds.number)).limit(page.limit).offset(page.offset);
  return { studyId, total: Number(total), limit: page.limit, offset: page.offset, rounds: await roundMetrics(db, studyId, closed) };
}

export async function clients(db: Db, presence: Presence, studyId?: string): Promise<{ clients: ClientView[] }> {
  const list = await studiesOf(db, studyId);
  if (list.length === 0) return { clients: [] };
  const ids = list.map((s) => s.id);
  const parts = await db
    .select({ p: participants, siteName: sites.name })
    .from(participants)
    .innerJoin(sites, eq(sites.id, participants.siteId))
    .where(inArray(participants.studyId, ids))
    .orderBy(asc(participants.studyId), asc(sites.name), asc(participants.id));
  const sent = await db
    .select({ participantId: updates.participantId, n: sql<number>`count(distinct ${updates.roundId})::int` })
    .from(updates)
    .innerJoin(rounds, eq(rounds.id, updates.roundId))
    .where(and(inArray(rounds.studyId, ids), eq(rounds.status, 'closed')))
    .groupBy(updates.participantId);
  const contributed = new Map(sent.map((r) => [r.participantId, Number(r.n)]));
  // A secure round stores no update: its survivors (indices into the sampled list) contributed.
  const secure = await db
    .select({ sampled: rounds.sampled, report: rounds.aggregationReport })
    .from(rounds)
    .where(and(inArray(rounds.studyId, ids), eq(rounds.status, 'closed'), sql`${rounds.aggregationReport} -> 'secureAggregation' is not null`));
  for (const r of secure)
    for (const k of r.report?.secureAggregation?.survivors ?? []) {
      const id = r.sampled[k];
      if (id) contributed.set(id, (contributed.get(id) ?? 0) + 1);
    }
  return {
    clients: parts.map(({ p, siteName }) => ({
      studyId: p.studyId,
      participantId: p.id,
      siteId: p.siteId,
      siteName,
      online: presence.isOnline(p.id),
      lastSeenAt: p.lastSeenAt?.toISOString() ?? null,
      roundsContributed: contributed.get(p.id) ?? 0,
      backend: presence.get(p.id)?.backend ?? p.lastBackend,
    })),
  };
}
