import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Dashboard, ParticipantState, ParticipantView, RoundView, VersionMetrics } from '../../shared/protocol/schemas';
import type { Db } from '../db/client';
import { pooledSql } from '../models/evaluations';
import { evaluations, modelVersions, participants, refusedUpdates, rounds, siteStatistics, sites, updates } from '../db/schema';
import type { Presence } from '../realtime/presence';
import { getStudySummary } from './service';

/** Everything the admin console shows for one study, built from the database plus live presence. */
export async function buildDashboard(db: Db, presence: Presence, studyId: string): Promise<Dashboard> {
  const study = await getStudySummary(db, studyId);
  const roundRows = await db.select().from(rounds).where(eq(rounds.studyId, studyId)).orderBy(asc(rounds.number));
  const received = await db
    .select({ roundId: updates.roundId, n: sql<number>`count(*)::int` })
    .from(updates)
    .innerJoin(rounds, eq(rounds.id, updates.roundId))
    .where(eq(rounds.studyId, studyId))
    .groupBy(updates.roundId);
  const receivedBy = new Map(received.map((r) => [r.roundId, Number(r.n)]));
  const roundViews: RoundView[] = roundRows.map((r) => ({
    round: r.number,
    status: r.status,
    baseVersion: r.baseVersion,
    version: r.resultVersion,
    sampled: r.sampled.length,
    // A secure round stores no update: its sum holds the survivors' masked inputs.
    received: r.aggregationReport?.secureAggregation?.survivors.length ?? receivedBy.get(r.id) ?? 0,
    secure: r.config?.secureAggregation
      ? { threshold: r.aggregationReport?.secureAggregation?.threshold ?? null, survivors: r.aggregationReport?.secureAggregation?.survivors.length ?? null }
      : null,
    openedAt: r.openedAt.toISOString(),
    closedAt: r.closedAt?.toISOString() ?? null,
    deadline: r.deadline.toISOString(),
    clipMode: r.bounds?.clipMode ?? (r.bounds ? (r.bounds.clipNorm === null ? 'none' : 'median') : null),
    clipNorm: r.bounds?.clipNorm ?? null,
    clipped: (r.aggregationReport?.updates ?? []).filter((u) => u.clipped).map((u) => ({ participantId: u.participantId, norm: u.norm })),
    capped: (r.aggregationReport?.updates ?? []).filter((u) => u.capped).map((u) => ({ participantId: u.participantId, declared: u.numSamples })),
    sampleCap: r.bounds?.sampleCap ?? null,
    epsilon: r.bounds?.privacy?.epsilon ?? null,
    noiseStd: r.bounds?.privacy?.noiseStd ?? null,
  }));

  const metrics = await versionMetrics(db, studyId);

  const open = roundRows.find((r) => r.status === 'open' || r.status === 'aggregating');
  const openView = open ? (roundViews.find((v) => v.round === open.number) ?? null) : null;
  const sentThisRound = open
    ? new Set((await db.select({ p: updates.participantId }).from(updates).where(eq(updates.roundId, open.id))).map((r) => r.p))
    : new Set<string>();
  const lastUpdate = await db
    .select({ participantId: updates.participantId, round: sql<number>`max(${rounds.number})::int` })
    .from(updates)
    .innerJoin(rounds, eq(rounds.id, updates.roundId))
    .where(eq(rounds.studyId, studyId))
    .groupBy(updates.participantId);
  const lastRoundBy = new Map(lastUpdate.map((r) => [r.participantId, Number(r.round)]));

  // The latest closed or abandoned round: a sampled site that sent nothing to it missed its deadline.
  const last = [...roundRows].reverse().find((r) => r.status === 'closed' || r.status === 'abandoned');
  const sentLastRound = last
    ? new Set((await db.select({ p: updates.participantId }).from(updates).where(eq(updates.roundId, last.id))).map((r) => r.p))
    : new Set<string>();
  // A secure round's survivors sent masked inputs, which are no updates: they did not miss it.
  for (const k of last?.aggregationReport?.secureAggregation?.survivors ?? []) if (last?.sampled[k]) sentLastRound.add(last.sampled[k]);

  const parts = await db
    .select({ p: participants, siteName: sites.name, statisticsAt: siteStatistics.receivedAt })
    .from(participants)
    .innerJoin(sites, eq(sites.id, participants.siteId))
    .leftJoin(siteStatistics, and(eq(siteStatistics.studyId, participants.studyId), eq(siteStatistics.participantId, participants.id)))
    .where(eq(participants.studyId, studyId))
    .orderBy(asc(sites.name));
  const participantViews: ParticipantView[] = parts.map(({ p, siteName, statisticsAt }) => {
    const live = presence.get(p.id);
    const connected = presence.isOnline(p.id);
    const state = participantLabel({
      connected,
      reported: live?.state ?? null,
      owesOpenRound: !!open && open.status === 'open' && open.sampled.includes(p.id) && !sentThisRound.has(p.id),
      sentOpenRound: sentThisRound.has(p.id),
      missedLastRound: !!last && last.sampled.includes(p.id) && !sentLastRound.has(p.id),
    });
    return {
      participantId: p.id,
      siteId: p.siteId,
      siteName,
      connected,
      state,
      backend: live?.backend ?? (p.lastBackend as ParticipantView['backend']) ?? null,
      numSamples: p.numSamples,
      round: live?.round ?? null,
      epoch: live?.epoch ?? null,
      epochs: live?.epochs ?? null,
      loss: live?.loss ?? null,
      lastUpdateRound: lastRoundBy.get(p.id) ?? null,
      datasetFingerprint: p.datasetFingerprint,
      statisticsAt: statisticsAt?.toISOString() ?? null,
    };
  });

  const refusedRows = await db
    .select({ r: refusedUpdates, siteName: sites.name })
    .from(refusedUpdates)
    .innerJoin(participants, eq(participants.id, refusedUpdates.participantId))
    .innerJoin(sites, eq(sites.id, participants.siteId))
    .where(eq(refusedUpdates.studyId, studyId))
    .orderBy(desc(refusedUpdates.id))
    .limit(50);
  const refused = refusedRows.map(({ r, siteName }) => ({
    round: r.roundNumber,
    siteName,
    code: r.code,
    reason: r.reason,
    bytes: r.bytes,
    at: r.receivedAt.toISOString(),
  }));

  return { study, openRound: openView, rounds: roundViews, metrics, participants: participantViews, refused };
}

export interface LabelInput {
  connected: boolean;
  /** What the hospital's tab last said (presence), null if it never did. */
  reported: ParticipantState | null;
  /** Sampled for the open round and has not delivered to it. */
  owesOpenRound: boolean;
  sentOpenRound: boolean;
  /** Sampled for the latest closed round and sent it nothing. */
  missedLastRound: boolean;
}

/**
 * The state the dashboard shows for a participant. A hospital that cannot deliver what it owes
 * because its tab is gone or suspended (the browser froze a hidden tab, the laptop slept), or that
 * missed the last round's deadline, is a straggler: rounds close without it at their deadline, and
 * it rejoins the next one. Only a site that owes nothing and is gone reads as offline.
 */
export function participantLabel(i: LabelInput): ParticipantState {
  const reported = i.reported ?? 'idle';
  const away = !i.connected || reported === 'suspended';
  if (away) {
    if (i.owesOpenRound || i.missedLastRound) return 'straggler';
    return i.connected || reported === 'suspended' ? 'suspended' : 'offline';
  }
  if (i.sentOpenRound && (reported === 'idle' || reported === 'uploading')) return 'done';
  return reported === 'offline' ? 'idle' : reported;
}

/** Each version's sample-weighted global validation metrics, in version order. */
export async function versionMetrics(db: Db, studyId: string): Promise<VersionMetrics[]> {
  // Sample-weighted means over the sites' reports: what the pooled validation set would give.
  const metricRows = await db
    .select({
      version: modelVersions.version,
      round: modelVersions.roundNumber,
      samples: sql<number>`coalesce(sum(${evaluations.numSamples}) filter (where ${pooledSql}), 0)::int`,
      reports: sql<number>`(count(${evaluations.participantId}) filter (where ${pooledSql}))::int`,
      flagged: sql<number>`(count(${evaluations.participantId}) filter (where not ${pooledSql}))::int`,
      loss: sql<number | null>`sum(${evaluations.loss} * ${evaluations.numSamples}) filter (where ${pooledSql}) / nullif(sum(${evaluations.numSamples}) filter (where ${pooledSql}), 0)`,
      accuracy: sql<number | null>`sum(${evaluations.accuracy} * ${evaluations.numSamples}) filter (where ${pooledSql}) / nullif(sum(${evaluations.numSamples}) filter (where ${pooledSql}), 0)`,
    })
    .from(modelVersions)
    .leftJoin(evaluations, sql`${evaluations.studyId} = ${modelVersions.studyId} and ${evaluations.version} = ${modelVersions.version}`)
    .where(eq(modelVersions.studyId, studyId))
    .groupBy(modelVersions.version, modelVersions.roundNumber)
    .orderBy(asc(modelVersions.version));
  return metricRows.map((m) => ({
    version: m.version,
    round: m.round,
    numSamples: Number(m.samples),
    reports: Number(m.reports),
    flagged: Number(m.flagged),
    loss: m.loss === null ? null : Number(m.loss),
    accuracy: m.accuracy === null ? null : Number(m.accuracy),
  }));
}
