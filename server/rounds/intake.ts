import { and, eq, sql } from 'drizzle-orm';
import { updateWeight, weightCapped } from '../../shared/fl/bounds';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { updateMetaSchema, type UploadReceipt } from '../../shared/protocol/schemas';
import { weightShapes, type WeightShape } from '../../shared/tasks';
import { ensureTemplate } from '../templates/store';
import type { StreamLayout } from '../../shared/weights/streamDecoder';
import { crashPoint } from '../crashPoints';
import { blobsOf, type Db } from '../db/client';
import { participants, refusedUpdates, rounds, studies, updates } from '../db/schema';
import { templateOf } from '../studies/service';
import type { RoundLedger } from './ledger';
import { receiveUpdate, type ReceivedUpdate } from './receiver';
import { NotRecordedError, type UpdateRecorder } from './recorder';
import type { CoordinatorDeps, RoundRow, StudyRow, SubmitUpdate } from './types';

/*
 * Update intake. An upload streams into the blob store while it is decoded and measured; it is
 * then checked (metadata, round, sender, shape, finite values, the round's bounds), committed
 * durably (fsync), recorded (group commit), acknowledged, and folded into the round's exact sum
 * in the background. Uploads of one study run side by side: the only serial step is the
 * ledger's synchronous reservation of the sender's slot. A retry is recognised by its idempotency
 * key wherever its update went; anything malformed is refused with its reason and changes nothing
 * but the record of refusals the admins see.
 */

/** What intake needs of the coordinator. */
export interface IntakeContext {
  deps: CoordinatorDeps;
  recorder: UpdateRecorder;
  maxUpdateBytes: number;
  /** The open round's ledger, built (or rebuilt after a restart) on first use. */
  ledgerFor(round: RoundRow): Promise<RoundLedger>;
  /** The study's open round's ledger when it is round `number` and in memory already (no query needed). */
  openLedger(studyId: string, number: number): RoundLedger | null;
  /** An update was recorded in this round: let the round policy look (in the study's queue, not awaited). */
  recorded(round: RoundRow): void;
  /** A round found no longer open: whatever this process holds of it can go. */
  ended?(round: RoundRow): void;
}

export async function submitUpdate(ctx: IntakeContext, req: SubmitUpdate): Promise<UploadReceipt> {
  let received: ReceivedUpdate | null = null;
  const seen = { bytes: 0 };
  try {
    received = await receiveUpdate(blobsOf(ctx.deps.db), req.body, ctx.maxUpdateBytes, seen);
    return await acceptUpdate(ctx, req, received);
  } catch (err) {
    await received?.writer.abort();
    if (err instanceof ConsiliumError && err.code !== ErrorCode.NotFound && err.code !== ErrorCode.Internal)
      await recordRefusal(ctx.deps, req, err, seen.bytes);
    throw err;
  }
}

/** An upload refused before its body was read: who sent it, and the text its URL gave as the round. */
export interface UnreadUpload {
  studyId: string;
  participantId: string;
  roundText: string;
}

const INTEGER_MIN = -2_147_483_648;
const INTEGER_MAX = 2_147_483_647;

/**
 * The round a refusal records for a URL's round text. `refused_updates.round_number` is a
 * PostgreSQL integer: a whole number beyond its range is kept as the nearer end, and text that is
 * no whole number at all as 0, which no round is numbered (rounds start at 1). The reason quotes
 * the text as it was sent, so the record loses nothing an admin needs.
 */
export function recordedRound(text: string): number {
  if (!/^-?[0-9]+$/.test(text)) return 0;
  return Math.min(INTEGER_MAX, Math.max(INTEGER_MIN, Number(text))) || 0;
}

/** An upload refused before its body was read (its URL named no round): recorded like any refusal, nothing else stored. */
export function refuseUnread(deps: CoordinatorDeps, req: UnreadUpload, err: ConsiliumError): Promise<void> {
  return recordRefusal(deps, { studyId: req.studyId, participantId: req.participantId, round: recordedRound(req.roundText) }, err, 0);
}

async function recordRefusal(deps: CoordinatorDeps, req: Pick<SubmitUpdate, 'studyId' | 'round' | 'participantId'>, err: ConsiliumError, bytes: number): Promise<void> {
  const { db, log, clock } = deps;
  // Counted whether or not the record below is written: the sender was refused either way.
  deps.metrics?.uploadRefused(err.code);
  try {
    await db.insert(refusedUpdates).values({
      studyId: req.studyId,
      roundNumber: req.round,
      participantId: req.participantId,
      code: err.code,
      reason: err.message,
      bytes,
      receivedAt: new Date(clock.now()),
    });
    log.warn({ studyId: req.studyId, round: req.round, participantId: req.participantId, code: err.code, reason: err.message }, 'update refused');
    deps.events.changed(req.studyId);
    deps.events.updateRefused?.({ studyId: req.studyId, round: req.round, participantId: req.participantId, code: err.code, reason: err.message, bytes });
  } catch (e) {
    log.error({ err: e, studyId: req.studyId }, 'could not record a refused update');
  }
}

async function acceptUpdate(ctx: IntakeContext, req: SubmitUpdate, received: ReceivedUpdate): Promise<UploadReceipt> {
  const { db, clock, log } = ctx.deps;
  const { layout } = received;
  if (layout.kind !== 'update') throw new ConsiliumError(ErrorCode.MalformedUpdate, `expected an update, got a ${layout.kind}`, 400);
  const meta = updateMetaSchema.safeParse(layout.meta);
  if (!meta.success)
    throw new ConsiliumError(
      ErrorCode.MalformedUpdate,
      `malformed update metadata: ${meta.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      400,
    );
  if (meta.data.studyId !== req.studyId || meta.data.round !== req.round)
    throw new ConsiliumError(ErrorCode.MalformedUpdate, 'the update names another study or round than the URL', 400);

  // The open round, from its ledger when it is in memory (the common case: no query at all), else from the database.
  const open = ctx.openLedger(req.studyId, req.round);
  let round: RoundRow;
  let templateId: string;
  let study: StudyRow | null = null;
  if (open) {
    round = open.round.row;
    templateId = open.round.templateId;
    const sender = open.keys.get(req.idempotencyKey);
    if (sender === req.participantId) return { accepted: true, duplicate: true, round: round.number, received: open.committed, expected: round.sampled.length };
    if (open.onTime.has(req.participantId) && !open.inFlight.has(req.idempotencyKey))
      throw new ConsiliumError(ErrorCode.DuplicateUpdate, `an update for round ${round.number} was already accepted from this hospital`, 409);
    if (!open.round.sampled.has(req.participantId)) throw new ConsiliumError(ErrorCode.NotSampled, `this hospital was not sampled for round ${round.number}`, 403);
  } else {
    [study] = await db.select().from(studies).where(eq(studies.id, req.studyId));
    if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${req.studyId}'`, 404);
    templateId = study.templateId;
    const [row] = await db
      .select()
      .from(rounds)
      .where(and(eq(rounds.studyId, req.studyId), eq(rounds.number, req.round)));
    if (!row) throw new ConsiliumError(ErrorCode.RoundNotOpen, `round ${req.round} does not exist`, 409);
    round = row;
    if (row.status !== 'open') ctx.ended?.(row);
    // A retry is recognised by its key wherever its update went (a late one lands in a later round).
    const retried = await findRetry(db, req);
    if (retried) return receipt(db, retried, true);
    const [existing] = await db
      .select({ key: updates.idempotencyKey })
      .from(updates)
      .where(and(eq(updates.roundId, round.id), eq(updates.participantId, req.participantId), eq(updates.staleness, 0)));
    if (existing) throw new ConsiliumError(ErrorCode.DuplicateUpdate, `an update for round ${round.number} was already accepted from this hospital`, 409);
    if (!round.sampled.includes(req.participantId)) throw new ConsiliumError(ErrorCode.NotSampled, `this hospital was not sampled for round ${round.number}`, 403);
  }
  if (meta.data.baseVersion !== round.baseVersion)
    throw new ConsiliumError(
      ErrorCode.WrongBaseVersion,
      `the update was trained from version ${meta.data.baseVersion}, round ${round.number} is based on version ${round.baseVersion}`,
      409,
    );
  // A straggler: dropped, or taken into the open round down-weighted when the study says so.
  const target = open || round.status === 'open' ? { round, staleness: 0, weight: 1 } : await lateTarget(db, study!, round, req.participantId);
  // A console-defined study's template, if a peer process defined it after this one last looked.
  await ensureTemplate(db, templateId);
  checkShapes(layout, weightShapes(templateOf(templateId).model), received);

  const ledger = await ctx.ledgerFor(target.round);
  const { bounds } = ledger;
  if (bounds.maxNorm !== null && !(received.norm <= bounds.maxNorm))
    throw new ConsiliumError(ErrorCode.UpdateNormExceeded, `the update's L2 norm ${received.norm.toPrecision(4)} exceeds the study's bound of ${bounds.maxNorm}`, 400);
  const clipScale = bounds.clipNorm !== null && received.norm > bounds.clipNorm ? bounds.clipNorm / received.norm : 1;
  if (received.maxAbs * clipScale > bounds.valueBound)
    throw new ConsiliumError(
      ErrorCode.UpdateOutOfRange,
      `the update holds a value of magnitude ${received.maxAbs.toPrecision(4)}${clipScale < 1 ? ` (${(received.maxAbs * clipScale).toPrecision(4)} once clipped)` : ''}, beyond the round's range of ±${bounds.valueBound}`,
      400,
    );
  const reported = ledger.reported.has(req.participantId) ? ledger.reported.get(req.participantId)! : await reportedCount(db, req.participantId);
  if (reported === null || meta.data.numSamples > reported)
    throw new ConsiliumError(
      ErrorCode.UpdateSamplesExceeded,
      reported === null
        ? `the update declares ${meta.data.numSamples} samples, and this hospital has reported no training records: join the study with its record count first`
        : `the update declares ${meta.data.numSamples} samples, more than the ${reported} training records this hospital reported when it joined`,
      400,
    );
  const weight = updateWeight(meta.data.numSamples, target.weight, bounds);
  const capped = weightCapped(meta.data.numSamples, bounds);

  // Durable before it is counted: fsync and rename into the store, then the row.
  const stored = await received.writer.commit();
  crashPoint('update-stored');
  const key = req.idempotencyKey;
  const slot = target.staleness ? ledger.late : ledger.onTime;
  const racing = ledger.inFlight.get(key);
  if (racing) {
    // The same upload sent twice at once: the second waits for the first and is its duplicate.
    await racing.catch(() => undefined);
    if (ledger.keys.get(key) === req.participantId)
      return { accepted: true, duplicate: true, round: target.round.number, received: ledger.committed, expected: target.round.sampled.length };
  }
  if (ledger.closed) throw new ConsiliumError(ErrorCode.RoundNotOpen, `round ${target.round.number} closed while the update arrived`, 409);
  if (slot.has(req.participantId))
    throw new ConsiliumError(
      ErrorCode.DuplicateUpdate,
      target.staleness
        ? `round ${target.round.number} already took a late update from this hospital`
        : `an update for round ${target.round.number} was already accepted from this hospital`,
      409,
    );
  slot.add(req.participantId);
  const now = new Date(clock.now());
  const commit = ctx.recorder.record(
    {
      roundId: target.round.id,
      participantId: req.participantId,
      idempotencyKey: key,
      numSamples: meta.data.numSamples,
      backend: meta.data.backend,
      // Under record-level DP-SGD a training loss would be a release outside the accountant: not kept.
      trainLoss: target.round.config?.recordPrivacy ? null : (meta.data.trainLoss ?? null),
      staleness: target.staleness,
      weight: target.weight,
      payloadSha256: stored.sha256,
      payloadBytes: stored.bytes,
      payloadDataOffset: layout.dataOffset,
      norm: received.norm,
      clipScale,
      receivedAt: now,
    },
    { participantId: req.participantId, lastBackend: meta.data.backend, lastSeenAt: now },
  );
  ledger.inFlight.set(key, commit);
  try {
    await commit;
  } catch (err) {
    slot.delete(req.participantId);
    if (err instanceof NotRecordedError) return notRecorded(db, req, target.round);
    throw err;
  } finally {
    ledger.inFlight.delete(key);
  }
  ledger.keys.set(key, req.participantId);
  if (!target.staleness) ledger.committed++;
  crashPoint('update-accepted');
  ledger.fold({ sha256: stored.sha256, dataOffset: layout.dataOffset, values: layout.totalValues, weight, clipScale, norm: received.norm });
  log.info(
    { studyId: req.studyId, round: target.round.number, participantId: req.participantId, ...(target.staleness ? { lateFrom: round.number } : {}), ...(clipScale < 1 ? { clipScale } : {}), ...(capped ? { declared: meta.data.numSamples, weightedAs: bounds.sampleCap } : {}) },
    target.staleness ? 'late update accepted' : 'update accepted',
  );
  ctx.deps.metrics?.uploadAccepted();
  ctx.deps.events.changed(req.studyId);
  ctx.recorded(target.round);
  const accepted: UploadReceipt = { accepted: true, duplicate: false, round: target.round.number, received: ledger.committed, expected: target.round.sampled.length };
  return target.staleness ? { ...accepted, lateBy: target.staleness } : accepted;
}

/**
 * The row was not written (./recorder.ts): another process recorded this very upload (a retry that
 * went elsewhere: a duplicate), or the sender's slot was taken, or the round closed meanwhile.
 */
async function notRecorded(db: Db, req: SubmitUpdate, round: RoundRow): Promise<UploadReceipt> {
  const retried = await findRetry(db, req);
  if (retried) return receipt(db, retried, true);
  const [now] = await db.select({ status: rounds.status }).from(rounds).where(eq(rounds.id, round.id));
  if (now?.status !== 'open') throw new ConsiliumError(ErrorCode.RoundNotOpen, `round ${round.number} closed while the update arrived`, 409);
  throw new ConsiliumError(ErrorCode.DuplicateUpdate, `an update for round ${round.number} was already accepted from this hospital`, 409);
}

/** The training records a site reported when it last joined (the slow path: a late update, a rebuilt ledger). */
async function reportedCount(db: Db, participantId: string): Promise<number | null> {
  const [row] = await db.select({ n: participants.numSamples }).from(participants).where(eq(participants.id, participantId));
  return row?.n ?? null;
}

async function findRetry(db: Db, req: SubmitUpdate): Promise<RoundRow | null> {
  const [row] = await db
    .select({ round: rounds })
    .from(updates)
    .innerJoin(rounds, eq(rounds.id, updates.roundId))
    .where(and(eq(rounds.studyId, req.studyId), eq(updates.participantId, req.participantId), eq(updates.idempotencyKey, req.idempotencyKey)));
  return row?.round ?? null;
}

/** The header's shapes against the model's, then the values' finiteness (found while streaming). */
function checkShapes(layout: StreamLayout, expected: readonly WeightShape[], received: ReceivedUpdate): void {
  const got = layout.shapes;
  if (got.length !== expected.length)
    throw new ConsiliumError(ErrorCode.UpdateShapeMismatch, `expected ${expected.length} tensors, got ${got.length}`, 400);
  for (let t = 0; t < expected.length; t++) {
    const want = expected[t].shape;
    if (want.length !== got[t].length || want.some((d, i) => d !== got[t][i]))
      throw new ConsiliumError(ErrorCode.UpdateShapeMismatch, `tensor ${t} (${expected[t].name}) has shape [${got[t]}], expected [${want}]`, 400);
  }
  const bad = received.nonFinite;
  if (bad) {
    let t = 0;
    let start = 0;
    for (; t < got.length; t++) {
      const n = got[t].reduce((a, b) => a * b, 1);
      if (bad.flatIndex < start + n) break;
      start += n;
    }
    throw new ConsiliumError(ErrorCode.UpdateNotFinite, `tensor ${t} (${expected[t].name}) holds a non-finite value (${bad.value}) at index ${bad.flatIndex - start}`, 400);
  }
}

/**
 * Where a straggler's update goes under the study's straggler policy: into the open round, at most
 * `maxStaleness` versions behind its base, with the policy's down-weight. Otherwise refused.
 */
async function lateTarget(db: Db, study: StudyRow, round: RoundRow, participantId: string): Promise<{ round: RoundRow; staleness: number; weight: number }> {
  const policy = study.config.straggler;
  const closed = `round ${round.number} is ${round.status}; updates are no longer accepted`;
  if (policy.policy !== 'accept-late') throw new ConsiliumError(ErrorCode.RoundNotOpen, closed, 409);
  const [open] = await db
    .select()
    .from(rounds)
    .where(and(eq(rounds.studyId, study.id), eq(rounds.status, 'open')));
  if (!open) throw new ConsiliumError(ErrorCode.RoundNotOpen, `${closed}, and no round is open to take it late`, 409);
  const staleness = open.baseVersion - round.baseVersion;
  if (staleness < 1 || staleness > policy.maxStaleness)
    throw new ConsiliumError(
      ErrorCode.RoundNotOpen,
      `${closed}; it is ${staleness} versions behind the open round, and the study takes late updates up to ${policy.maxStaleness} behind`,
      409,
    );
  const [mine] = await db
    .select({ id: updates.id })
    .from(updates)
    .where(and(eq(updates.roundId, open.id), eq(updates.participantId, participantId), sql`${updates.staleness} > 0`));
  if (mine) throw new ConsiliumError(ErrorCode.DuplicateUpdate, `${closed}; round ${open.number} already took a late update from this hospital`, 409);
  return { round: open, staleness, weight: policy.weight };
}

export async function receipt(db: Db, round: RoundRow, duplicate: boolean): Promise<UploadReceipt> {
  const received = await countUpdates(db, round.id);
  return { accepted: true, duplicate, round: round.number, received, expected: round.sampled.length };
}

/** Updates from the round's own sampled sites (late ones from stragglers do not close a round). */
export async function countUpdates(db: Db, roundId: number): Promise<number> {
  const rows = await db
    .select({ id: updates.id })
    .from(updates)
    .where(and(eq(updates.roundId, roundId), eq(updates.staleness, 0)));
  return rows.length;
}
