import { and, eq, sql } from 'drizzle-orm';
import { checkUpdateTensors } from '../../shared/fl/updateChecks';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { updateMetaSchema, type UploadReceipt } from '../../shared/protocol/schemas';
import { weightShapes } from '../../shared/tasks';
import { l2Norm } from '../../shared/fl/vectors';
import { CodecError, decodeWeights } from '../../shared/weights/codec';
import { crashPoint } from '../crashPoints';
import type { Db } from '../db/client';
import { participants, refusedUpdates, rounds, studies, updates } from '../db/schema';
import { templateOf } from '../studies/service';
import type { CoordinatorDeps, RoundRow, StudyRow, SubmitUpdate } from './types';

/*
 * Update intake: an uploaded update checked (codec, metadata, round, sender, shape, finite values,
 * norm), stored once (its idempotency key recognises a retry wherever the update went), or refused
 * with a reason kept for the admins. A stored update may close its round.
 */

/** What intake needs of the coordinator. */
export interface IntakeContext {
  deps: CoordinatorDeps;
  /** Runs `fn` in the study's queue, after every earlier coordinator action of that study. */
  serial<T>(studyId: string, fn: () => Promise<T>): Promise<T>;
  /** Closes the round if its policy says so; called inside the study's queue. */
  applyPolicy(roundId: number): Promise<void>;
}

/**
 * Validate an update and store it. A repeat with the same idempotency key is acknowledged without
 * being counted again; anything malformed is refused with its reason and changes nothing but the
 * record of refusals the admins see.
 */
export async function submitUpdate(ctx: IntakeContext, req: SubmitUpdate): Promise<UploadReceipt> {
  try {
    return await acceptUpdate(ctx, req);
  } catch (err) {
    if (err instanceof ConsiliumError && err.code !== ErrorCode.NotFound && err.code !== ErrorCode.Internal) await recordRefusal(ctx.deps, req, err);
    throw err;
  }
}

async function recordRefusal(deps: CoordinatorDeps, req: SubmitUpdate, err: ConsiliumError): Promise<void> {
  const { db, log, clock } = deps;
  try {
    await db.insert(refusedUpdates).values({
      studyId: req.studyId,
      roundNumber: req.round,
      participantId: req.participantId,
      code: err.code,
      reason: err.message,
      bytes: req.body.byteLength,
      receivedAt: new Date(clock.now()),
    });
    log.warn({ studyId: req.studyId, round: req.round, participantId: req.participantId, code: err.code, reason: err.message }, 'update refused');
    deps.events.changed(req.studyId);
    deps.events.updateRefused?.({ studyId: req.studyId, round: req.round, participantId: req.participantId, code: err.code, reason: err.message, bytes: req.body.byteLength });
  } catch (e) {
    log.error({ err: e, studyId: req.studyId }, 'could not record a refused update');
  }
}

async function acceptUpdate(ctx: IntakeContext, req: SubmitUpdate): Promise<UploadReceipt> {
  let payload;
  try {
    payload = decodeWeights(req.body);
  } catch (err) {
    if (err instanceof CodecError) throw new ConsiliumError(ErrorCode.MalformedUpdate, `malformed update: ${err.message}`, 400);
    throw err;
  }
  if (payload.kind !== 'update') throw new ConsiliumError(ErrorCode.MalformedUpdate, `expected an update, got a ${payload.kind}`, 400);
  const meta = updateMetaSchema.safeParse(payload.meta);
  if (!meta.success)
    throw new ConsiliumError(
      ErrorCode.MalformedUpdate,
      `malformed update metadata: ${meta.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      400,
    );
  if (meta.data.studyId !== req.studyId || meta.data.round !== req.round)
    throw new ConsiliumError(ErrorCode.MalformedUpdate, 'the update names another study or round than the URL', 400);

  return ctx.serial(req.studyId, async () => {
    const { db } = ctx.deps;
    const [study] = await db.select().from(studies).where(eq(studies.id, req.studyId));
    if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${req.studyId}'`, 404);
    const [round] = await db
      .select()
      .from(rounds)
      .where(and(eq(rounds.studyId, req.studyId), eq(rounds.number, req.round)));
    if (!round) throw new ConsiliumError(ErrorCode.RoundNotOpen, `round ${req.round} does not exist`, 409);

    // A retry is recognised by its key wherever its update went (a late one lands in a later round).
    const [retried] = await db
      .select({ roundId: updates.roundId })
      .from(updates)
      .innerJoin(rounds, eq(rounds.id, updates.roundId))
      .where(and(eq(rounds.studyId, req.studyId), eq(updates.participantId, req.participantId), eq(updates.idempotencyKey, req.idempotencyKey)));
    if (retried) {
      const [stored] = await db.select().from(rounds).where(eq(rounds.id, retried.roundId));
      return receipt(db, stored, true);
    }
    const [existing] = await db
      .select({ key: updates.idempotencyKey })
      .from(updates)
      .where(and(eq(updates.roundId, round.id), eq(updates.participantId, req.participantId), eq(updates.staleness, 0)));
    if (existing)
      throw new ConsiliumError(ErrorCode.DuplicateUpdate, `an update for round ${round.number} was already accepted from this hospital`, 409);
    if (!round.sampled.includes(req.participantId))
      throw new ConsiliumError(ErrorCode.NotSampled, `this hospital was not sampled for round ${round.number}`, 403);
    if (meta.data.baseVersion !== round.baseVersion)
      throw new ConsiliumError(
        ErrorCode.WrongBaseVersion,
        `the update was trained from version ${meta.data.baseVersion}, round ${round.number} is based on version ${round.baseVersion}`,
        409,
      );
    // A straggler: dropped, or taken into the open round down-weighted when the study says so.
    const target = round.status === 'open' ? { round, staleness: 0, weight: 1 } : await lateTarget(db, study, round, req.participantId);
    const check = checkUpdateTensors(payload.tensors, weightShapes(templateOf(study.templateId).model));
    if (!check.ok) throw new ConsiliumError(check.code, check.reason, 400);
    const maxNorm = study.config.maxUpdateNorm;
    if (maxNorm !== null) {
      const norm = l2Norm(payload.tensors.map((t) => t.data));
      if (!(norm <= maxNorm))
        throw new ConsiliumError(ErrorCode.UpdateNormExceeded, `the update's L2 norm ${norm.toPrecision(4)} exceeds the study's bound of ${maxNorm}`, 400);
    }

    await db.transaction(async (tx) => {
      await tx.insert(updates).values({
        roundId: target.round.id,
        participantId: req.participantId,
        idempotencyKey: req.idempotencyKey,
        numSamples: meta.data.numSamples,
        backend: meta.data.backend,
        trainLoss: meta.data.trainLoss ?? null,
        staleness: target.staleness,
        weight: target.weight,
        payload: req.body,
      });
      await tx
        .update(participants)
        .set({ lastBackend: meta.data.backend, numSamples: meta.data.numSamples, lastSeenAt: new Date(ctx.deps.clock.now()) })
        .where(eq(participants.id, req.participantId));
    });
    crashPoint('update-accepted');
    ctx.deps.log.info(
      { studyId: req.studyId, round: target.round.number, participantId: req.participantId, ...(target.staleness ? { lateFrom: round.number } : {}) },
      target.staleness ? 'late update accepted' : 'update accepted',
    );
    const accepted = await receipt(db, target.round, false);
    ctx.deps.events.changed(req.studyId);
    await ctx.applyPolicy(target.round.id);
    return target.staleness ? { ...accepted, lateBy: target.staleness } : accepted;
  });
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

