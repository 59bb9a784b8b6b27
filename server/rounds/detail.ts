import { and, asc, eq } from 'drizzle-orm';
import { weightCapped } from '../../shared/fl/bounds';
import type { UpdateReport } from '../../shared/fl/report';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { RoundDetail, RoundRefusalView, RoundUpdateView } from '../../shared/protocol/roundDetail';
import type { Db } from '../db/client';
import { modelVersions, participants, refusedUpdates, rounds, sites, studies, updates } from '../db/schema';
import type { ModelDownloads } from './downloads';
import { refusedNorm, roundTimeline } from './timeline';

/** The label an update carries in the aggregation report: its site id, with `~late<n>` for a straggler's late one (see ./aggregation.ts). */
const reportLabel = (siteId: string, staleness: number) => (staleness ? `${siteId}~late${staleness}` : siteId);

/** One round as it ran: timeline, bytes in and out, each update's norm, clipping, weight and selection, and the refusals. */
export async function buildRoundDetail(db: Db, downloads: ModelDownloads, studyId: string, number: number): Promise<RoundDetail> {
  const [round] = await db
    .select()
    .from(rounds)
    .where(and(eq(rounds.studyId, studyId), eq(rounds.number, number)));
  if (!round) throw new ConsiliumError(ErrorCode.NotFound, `study ${studyId} has no round ${number}`, 404);
  let config = round.config;
  if (!config) [{ config }] = await db.select({ config: studies.config }).from(studies).where(eq(studies.id, studyId));

  const rows = await db
    .select({
      participantId: updates.participantId,
      siteId: participants.siteId,
      siteName: sites.name,
      staleness: updates.staleness,
      receivedAt: updates.receivedAt,
      bytes: updates.payloadBytes,
      numSamples: updates.numSamples,
      norm: updates.norm,
      clipScale: updates.clipScale,
    })
    .from(updates)
    .innerJoin(participants, eq(participants.id, updates.participantId))
    .innerJoin(sites, eq(sites.id, participants.siteId))
    .where(eq(updates.roundId, round.id))
    .orderBy(asc(participants.siteId), asc(updates.staleness));

  const refusedRows = await db
    .select({ r: refusedUpdates, siteId: participants.siteId, siteName: sites.name })
    .from(refusedUpdates)
    .innerJoin(participants, eq(participants.id, refusedUpdates.participantId))
    .innerJoin(sites, eq(sites.id, participants.siteId))
    .where(and(eq(refusedUpdates.studyId, studyId), eq(refusedUpdates.roundNumber, number)))
    .orderBy(asc(refusedUpdates.id));

  const [published] =
    round.resultVersion === null
      ? []
      : await db
          .select({ createdAt: modelVersions.createdAt })
          .from(modelVersions)
          .where(and(eq(modelVersions.studyId, studyId), eq(modelVersions.version, round.resultVersion)));

  const report = round.aggregationReport;
  const byLabel = new Map<string, UpdateReport>((report?.updates ?? []).map((u) => [u.participantId, u]));
  const sampleCap = round.bounds?.sampleCap ?? null;
  const updateViews: RoundUpdateView[] = rows.map((r) => {
    // Reports label updates by site; reports from before that named the participant.
    const rep = byLabel.get(reportLabel(r.siteId, r.staleness)) ?? (r.staleness ? undefined : byLabel.get(r.participantId));
    return {
      participantId: r.participantId,
      siteId: r.siteId,
      siteName: r.siteName,
      lateBy: r.staleness,
      receivedAt: r.receivedAt.toISOString(),
      bytes: r.bytes,
      numSamples: r.numSamples,
      capped: rep?.capped ?? weightCapped(r.numSamples, { sampleCap }),
      norm: r.norm ?? rep?.norm ?? null,
      scale: r.clipScale,
      clipped: r.clipScale < 1,
      weight: rep?.weight ?? null,
      selected: rep ? rep.selected : null,
      score: rep?.score ?? null,
      distance: rep?.distance ?? null,
    };
  });
  const refused: RoundRefusalView[] = refusedRows.map(({ r, siteId, siteName }) => ({
    participantId: r.participantId,
    siteId,
    siteName,
    code: r.code,
    reason: r.reason,
    bytes: r.bytes,
    at: r.receivedAt.toISOString(),
    norm: refusedNorm(r.code, r.reason),
  }));

  const needed = Math.min(config.minUpdates, round.sampled.length);
  const accepted = rows.reduce((s, r) => s + (r.bytes ?? 0), 0);
  const refusedBytes = refused.reduce((s, r) => s + r.bytes, 0);
  const bounds = round.bounds;
  return {
    studyId,
    round: round.number,
    status: round.status,
    closeReason: round.closeReason,
    baseVersion: round.baseVersion,
    version: round.resultVersion,
    strategy: report?.strategy ?? null,
    details: report?.details ?? {},
    sampled: round.sampled.length,
    needed,
    timeline: roundTimeline({
      openedAt: round.openedAt,
      deadline: round.deadline,
      closedAt: round.closedAt,
      publishedAt: published?.createdAt ?? null,
      aggregationStartedAt: report?.startedAt ? new Date(report.startedAt) : null,
      updates: rows.map((r) => ({ receivedAt: r.receivedAt, onTime: r.staleness === 0 })),
      needed,
    }),
    bounds: {
      clipMode: bounds?.clipMode ?? report?.clipMode ?? (bounds ? (bounds.clipNorm === null ? 'none' : 'median') : null),
      clipNorm: bounds ? bounds.clipNorm : (report?.normBound ?? null),
      maxNorm: bounds?.maxNorm ?? null,
      sampleCap,
    },
    bytesIn: { accepted, acceptedUpdates: rows.length, refused: refusedBytes, refusedUploads: refused.length, total: accepted + refusedBytes },
    bytesOut: {
      countedSince: downloads.since.toISOString(),
      base: downloads.of(studyId, round.baseVersion),
      result: round.resultVersion === null ? null : downloads.of(studyId, round.resultVersion),
    },
    updates: updateViews,
    refused,
  };
}
