import { and, asc, desc, eq, inArray, max, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { combineStatistics, type SiteStatistics } from '../../shared/fl/normalisation';
import { canOpenRound, decideRound } from '../../shared/fl/roundPolicy';
import { checkUpdateTensors } from '../../shared/fl/updateChecks';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import {
  updateMetaSchema,
  type EvaluationReport,
  type RoundClosed,
  type RoundOpen,
  type UploadReceipt,
} from '../../shared/protocol/schemas';
import { weightShapes } from '../../shared/tasks';
import { CodecError, decodeWeights } from '../../shared/weights/codec';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { evaluations, modelVersions, participants, refusedUpdates, rounds, siteStatistics, studies, updates } from '../db/schema';
import { decodeServerState, encodeServerState } from '../../shared/fl/state';
import { StrategyError } from '../../shared/fl/strategy';
import { l2Norm } from '../../shared/fl/vectors';
import { runStrategy } from './runInWorker';
import { crashPoint } from '../crashPoints';
import type { Presence } from '../realtime/presence';
import { encodeModel, sha256Hex, templateOf } from '../studies/service';
import { sampleParticipants } from './sampling';

/** What the coordinator tells the outside world; the Socket.IO layer implements it. */
export interface CoordinatorEvents {
  roundOpened(participantIds: string[], round: RoundOpen): void;
  roundClosed(studyId: string, closed: RoundClosed): void;
  changed(studyId: string): void;
}

export interface CoordinatorDeps {
  db: Db;
  clock: Clock;
  presence: Presence;
  events: CoordinatorEvents;
  log: Logger;
}

type RoundRow = typeof rounds.$inferSelect;
type StudyRow = typeof studies.$inferSelect;

export interface SubmitUpdate {
  studyId: string;
  round: number;
  participantId: string;
  idempotencyKey: string;
  body: Uint8Array;
}

/**
 * Runs the rounds of every study: opens them when enough hospitals are online, takes their updates,
 * closes them by the round policy and aggregates. The database is the source of truth: a restarted
 * server picks up open rounds where the last one stopped.
 */
export class Coordinator {
  private queues = new Map<string, Promise<unknown>>();
  private timers = new Map<number, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly deps: CoordinatorDeps) {}

  /** Run `fn` after every earlier task of this study: one coordinator action at a time per study. */
  private serial<T>(studyId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(studyId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.queues.set(studyId, next.catch(() => undefined));
    return next;
  }

  /** Idle until every queued action has run (tests, shutdown). */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await Promise.all([...this.queues.values()]);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** After a restart: rounds caught mid-aggregation go back to open, and every open round gets its deadline again. */
  async recover(): Promise<void> {
    const { db } = this.deps;
    await db.update(rounds).set({ status: 'open' }).where(eq(rounds.status, 'aggregating'));
    const open = await db.select().from(rounds).where(eq(rounds.status, 'open'));
    for (const r of open) {
      this.scheduleDeadline(r);
      void this.serial(r.studyId, () => this.applyPolicy(r.id));
    }
  }

  /** Open the next round of a study if it has rounds left, none open, and enough hospitals online. */
  maybeOpenRound(studyId: string): Promise<void> {
    return this.serial(studyId, () => this.openRoundNow(studyId));
  }

  private async openRoundNow(studyId: string): Promise<void> {
    if (this.stopped) return;
    const { db, clock, presence, log } = this.deps;
    const [study] = await db.select().from(studies).where(eq(studies.id, studyId));
    if (!study || ['completed', 'paused', 'stopped'].includes(study.status) || study.completedRounds >= study.config.rounds) return;
    const [open] = await db
      .select({ id: rounds.id })
      .from(rounds)
      .where(and(eq(rounds.studyId, studyId), inArray(rounds.status, ['open', 'aggregating'])));
    if (open) return;
    const online = presence.online(studyId);
    if (!canOpenRound(online.length, study.config.minParticipants)) return;
    const normalisation = study.normalisation ?? (await this.normalise(study, online));
    if (!normalisation) return;

    const [{ last }] = await db.select({ last: max(rounds.number) }).from(rounds).where(eq(rounds.studyId, studyId));
    const number = (last ?? 0) + 1;
    const sampled = sampleParticipants(online, study.config, number);
    const now = clock.now();
    const [round] = await db
      .insert(rounds)
      .values({
        studyId,
        number,
        status: 'open',
        baseVersion: study.currentVersion,
        sampled,
        config: study.config,
        openedAt: new Date(now),
        deadline: new Date(now + study.config.roundDeadlineMs),
      })
      .returning();
    if (study.status === 'waiting') await db.update(studies).set({ status: 'running' }).where(eq(studies.id, studyId));
    log.info({ studyId, round: round.number, baseVersion: round.baseVersion, sampled: sampled.length, online: online.length }, 'round opened');
    this.scheduleDeadline(round);
    this.deps.events.roundOpened(sampled, this.roundOpenOf(round, { ...study, normalisation }));
    this.deps.events.changed(studyId);
  }

  private roundOpenOf(round: RoundRow, study: StudyRow): RoundOpen {
    // The round runs with the configuration it opened with; a change applies from the next round.
    const config = round.config ?? study.config;
    return {
      studyId: round.studyId,
      round: round.number,
      baseVersion: round.baseVersion,
      deadline: round.deadline.getTime(),
      training: {
        localEpochs: config.localEpochs,
        batchSize: config.batchSize,
        learningRate: config.learningRate,
        optimizer: config.optimizer,
        ...(config.fedProxMu > 0 ? { fedProxMu: config.fedProxMu } : {}),
      },
      normalisation: study.normalisation ?? null,
    };
  }

  /** The open round a participant was sampled for and has not yet sent an update to, if any. */
  async pendingRoundFor(studyId: string, participantId: string): Promise<RoundOpen | null> {
    const { db } = this.deps;
    const [round] = await db
      .select()
      .from(rounds)
      .where(and(eq(rounds.studyId, studyId), eq(rounds.status, 'open')));
    if (!round || !round.sampled.includes(participantId)) return null;
    const [sent] = await db
      .select({ id: updates.id })
      .from(updates)
      .where(and(eq(updates.roundId, round.id), eq(updates.participantId, participantId)));
    if (sent) return null;
    const [study] = await db.select().from(studies).where(eq(studies.id, studyId));
    return this.roundOpenOf(round, study);
  }

  /**
   * Before the first round: once every hospital online has sent its aggregate statistics (and at
   * least the study's minimum have), combine them, in participant-id order, into the study's global
   * statistics. They are fixed from then on, so every round encodes features the same way.
   */
  private async normalise(study: StudyRow, online: string[]) {
    const { db, log } = this.deps;
    const rows = await db
      .select()
      .from(siteStatistics)
      .where(eq(siteStatistics.studyId, study.id))
      .orderBy(asc(siteStatistics.participantId));
    const contributed = new Set(rows.map((r) => r.participantId));
    if (rows.length < study.config.minParticipants || !online.every((id) => contributed.has(id))) return null;
    const normalisation = combineStatistics(templateOf(study.templateId).features, rows.map((r) => r.statistics));
    await db.update(studies).set({ normalisation }).where(and(eq(studies.id, study.id), sql`${studies.normalisation} is null`));
    const [fixed] = await db.select({ n: studies.normalisation }).from(studies).where(eq(studies.id, study.id));
    log.info({ studyId: study.id, sites: normalisation.sites, rows: normalisation.rows }, 'global feature statistics fixed');
    return fixed.n;
  }

  /** Whether the study still waits for this participant's statistics. */
  async statisticsNeeded(studyId: string, participantId: string): Promise<boolean> {
    const { db } = this.deps;
    const [study] = await db.select({ n: studies.normalisation }).from(studies).where(eq(studies.id, studyId));
    if (!study || study.n) return false;
    const [row] = await db
      .select({ p: siteStatistics.participantId })
      .from(siteStatistics)
      .where(and(eq(siteStatistics.studyId, studyId), eq(siteStatistics.participantId, participantId)));
    return !row;
  }

  /**
   * A site's aggregate statistics. Kept (a later report from the same site replaces it) until the study's
   * statistics are fixed; after that the report is acknowledged but changes nothing.
   */
  async recordStatistics(studyId: string, participantId: string, stats: SiteStatistics): Promise<{ accepted: boolean }> {
    const problem = implausibleStatistics(stats);
    if (problem) throw new ConsiliumError(ErrorCode.BadRequest, `statistics refused: ${problem}`, 400);
    const accepted = await this.serial(studyId, async () => {
      const { db, clock } = this.deps;
      const [study] = await db.select().from(studies).where(eq(studies.id, studyId));
      if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study '${studyId}'`, 404);
      if (study.normalisation) return false;
      const values = { studyId, participantId, statistics: stats, receivedAt: new Date(clock.now()) };
      await db
        .insert(siteStatistics)
        .values(values)
        .onConflictDoUpdate({ target: [siteStatistics.studyId, siteStatistics.participantId], set: values });
      return true;
    });
    if (accepted) await this.maybeOpenRound(studyId);
    return { accepted };
  }

  private scheduleDeadline(round: RoundRow): void {
    if (this.stopped || this.timers.has(round.id)) return;
    const delay = Math.max(0, round.deadline.getTime() - this.deps.clock.now());
    const timer = setTimeout(() => {
      this.timers.delete(round.id);
      void this.serial(round.studyId, () => this.applyPolicy(round.id)).catch((err) =>
        this.deps.log.error({ err, roundId: round.id }, 'deadline handling failed'),
      );
    }, delay + 5);
    timer.unref?.();
    this.timers.set(round.id, timer);
  }

  /**
   * Validate an update and store it. A repeat with the same idempotency key is acknowledged without
   * being counted again; anything malformed is refused with its reason and changes nothing but the
   * record of refusals the admins see.
   */
  async submitUpdate(req: SubmitUpdate): Promise<UploadReceipt> {
    try {
      return await this.acceptUpdate(req);
    } catch (err) {
      if (err instanceof ConsiliumError && err.code !== ErrorCode.NotFound && err.code !== ErrorCode.Internal) await this.recordRefusal(req, err);
      throw err;
    }
  }

  private async recordRefusal(req: SubmitUpdate, err: ConsiliumError): Promise<void> {
    const { db, log, clock } = this.deps;
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
      this.deps.events.changed(req.studyId);
    } catch (e) {
      log.error({ err: e, studyId: req.studyId }, 'could not record a refused update');
    }
  }

  private async acceptUpdate(req: SubmitUpdate): Promise<UploadReceipt> {
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

    return this.serial(req.studyId, async () => {
      const { db } = this.deps;
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
        return this.receipt(stored, true);
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
      const target = round.status === 'open' ? { round, staleness: 0, weight: 1 } : await this.lateTarget(study, round, req.participantId);
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
          .set({ lastBackend: meta.data.backend, numSamples: meta.data.numSamples, lastSeenAt: new Date(this.deps.clock.now()) })
          .where(eq(participants.id, req.participantId));
      });
      crashPoint('update-accepted');
      this.deps.log.info(
        { studyId: req.studyId, round: target.round.number, participantId: req.participantId, ...(target.staleness ? { lateFrom: round.number } : {}) },
        target.staleness ? 'late update accepted' : 'update accepted',
      );
      const receipt = await this.receipt(target.round, false);
      this.deps.events.changed(req.studyId);
      await this.applyPolicy(target.round.id);
      return target.staleness ? { ...receipt, lateBy: target.staleness } : receipt;
    });
  }

  /**
   * Where a straggler's update goes under the study's straggler policy: into the open round, at most
   * `maxStaleness` versions behind its base, with the policy's down-weight. Otherwise refused.
   */
  private async lateTarget(study: StudyRow, round: RoundRow, participantId: string): Promise<{ round: RoundRow; staleness: number; weight: number }> {
    const policy = study.config.straggler;
    const closed = `round ${round.number} is ${round.status}; updates are no longer accepted`;
    if (policy.policy !== 'accept-late') throw new ConsiliumError(ErrorCode.RoundNotOpen, closed, 409);
    const [open] = await this.deps.db
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
    const [mine] = await this.deps.db
      .select({ id: updates.id })
      .from(updates)
      .where(and(eq(updates.roundId, open.id), eq(updates.participantId, participantId), sql`${updates.staleness} > 0`));
    if (mine) throw new ConsiliumError(ErrorCode.DuplicateUpdate, `${closed}; round ${open.number} already took a late update from this hospital`, 409);
    return { round: open, staleness, weight: policy.weight };
  }

  private async receipt(round: RoundRow, duplicate: boolean): Promise<UploadReceipt> {
    const received = await this.countUpdates(round.id);
    return { accepted: true, duplicate, round: round.number, received, expected: round.sampled.length };
  }

  /** Updates from the round's own sampled sites (late ones from stragglers do not close a round). */
  private async countUpdates(roundId: number): Promise<number> {
    const rows = await this.deps.db
      .select({ id: updates.id })
      .from(updates)
      .where(and(eq(updates.roundId, roundId), eq(updates.staleness, 0)));
    return rows.length;
  }

  /** Close the round if its policy says so. Runs inside the study's queue. */
  private async applyPolicy(roundId: number): Promise<void> {
    const { db, clock } = this.deps;
    const [round] = await db.select().from(rounds).where(eq(rounds.id, roundId));
    if (!round || round.status !== 'open') return;
    const [study] = await db.select().from(studies).where(eq(studies.id, round.studyId));
    const decision = decideRound({
      sampled: round.sampled.length,
      received: await this.countUpdates(round.id),
      minParticipants: (round.config ?? study.config).minUpdates,
      deadline: round.deadline.getTime(),
      now: clock.now(),
    });
    if (decision.action === 'wait') return;
    clearTimeout(this.timers.get(round.id));
    this.timers.delete(round.id);
    if (decision.action === 'aggregate') await this.aggregate(round, decision.reason);
    else await this.abandon(round, decision.reason);
    await this.openRoundNow(round.studyId);
  }

  private async abandon(round: RoundRow, reason: string): Promise<void> {
    const { db, clock, log } = this.deps;
    const [study] = await db.select().from(studies).where(eq(studies.id, round.studyId));
    await db
      .update(rounds)
      .set({ status: 'abandoned', closedAt: new Date(clock.now()), closeReason: reason })
      .where(and(eq(rounds.id, round.id), eq(rounds.status, 'open')));
    log.warn({ studyId: round.studyId, round: round.number, reason }, 'round abandoned');
    this.deps.events.roundClosed(round.studyId, {
      studyId: round.studyId,
      round: round.number,
      status: 'abandoned',
      version: null,
      contributors: 0,
      studyStatus: study.status,
    });
    this.deps.events.changed(round.studyId);
  }

  /**
   * The study's strategy over the round's accepted updates, in site-id order. The new model version,
   * its server state, the round's metrics and the study's progress are written in one transaction.
   */
  private async aggregate(round: RoundRow, reason: string): Promise<void> {
    const { log } = this.deps;
    let closed;
    try {
      closed = await this.aggregateInTransaction(round, reason);
    } catch (err) {
      if (!(err instanceof StrategyError)) throw err;
      // The rule cannot aggregate these updates (Krum with too few, say): the round ends without a version.
      await this.abandon(round, `aggregation failed: ${err.message}`);
      return;
    }
    if (!closed) return;
    log.info({ studyId: round.studyId, round: round.number, version: closed.version, contributors: closed.contributors, reason }, 'round aggregated');
    this.deps.events.roundClosed(round.studyId, {
      studyId: round.studyId,
      round: round.number,
      status: 'closed',
      version: closed.version,
      contributors: closed.contributors,
      studyStatus: closed.studyStatus,
      evaluate: closed.evaluate,
    });
    this.deps.events.changed(round.studyId);
  }

  /** The aggregation's one transaction: the strategy's result, the new version, the round and study rows. */
  private async aggregateInTransaction(round: RoundRow, reason: string) {
    const { db, clock } = this.deps;
    return db.transaction(async (tx) => {
      const [locked] = await tx.select().from(rounds).where(eq(rounds.id, round.id)).for('update');
      if (!locked || locked.status !== 'open') return null;
      await tx.update(rounds).set({ status: 'aggregating' }).where(eq(rounds.id, round.id));
      const [study] = await tx.select().from(studies).where(eq(studies.id, round.studyId)).for('update');
      const template = templateOf(study.templateId);
      // Keyed and summed in site-id order: the same updates make the same model bit for bit, whatever
      // their arrival order and whichever participant ids a database generated.
      const rows = (
        await tx
          .select({ u: updates, siteId: participants.siteId })
          .from(updates)
          .innerJoin(participants, eq(participants.id, updates.participantId))
          .where(eq(updates.roundId, round.id))
          .orderBy(asc(participants.siteId), asc(updates.staleness))
      ).map(({ u, siteId }) => ({ ...u, siteId: u.staleness ? `${siteId}~late${u.staleness}` : siteId }));
      const [base] = await tx
        .select({ weights: modelVersions.weights, serverState: modelVersions.serverState })
        .from(modelVersions)
        .where(and(eq(modelVersions.studyId, round.studyId), eq(modelVersions.version, round.baseVersion)));
      const global = decodeWeights(base.weights).tensors.map((t) => t.data);
      // The round's strategy, from the base version's server state (kept in the database, so a restart
      // or a restart from an older version continues exactly).
      const config = round.config ?? study.config;
      // The study-wide clipping factor, when set, is the strategy's norm bound.
      const strategy = config.normBoundFactor !== null ? { ...config.strategy, options: { ...config.strategy.options, normBound: { factor: config.normBoundFactor } } } : config.strategy;
      let result;
      try {
        result = await runStrategy(
          strategy,
          global,
          rows.map((r) => ({ participantId: r.siteId, numSamples: r.numSamples * r.weight, delta: decodeWeights(r.payload).tensors.map((t) => t.data) })),
          base.serverState ? decodeServerState(base.serverState) : null,
          { handOver: true },
        );
      } catch (err) {
        // Thrown on, so the transaction (and its 'aggregating' mark) rolls back.
        if (err instanceof StrategyError) err.message = `${strategy.name}: ${err.message}`;
        throw err;
      }
      const next = result.weights;
      const [{ latest }] = await tx
        .select({ latest: max(modelVersions.version) })
        .from(modelVersions)
        .where(eq(modelVersions.studyId, round.studyId));
      const version = (latest ?? 0) + 1;
      const bytes = encodeModel(round.studyId, version, next, template);
      const totalSamples = rows.reduce((s, r) => s + r.numSamples, 0);
      const losses = rows.filter((r) => r.trainLoss !== null);
      const meanTrainLoss = losses.length
        ? losses.reduce((s, r) => s + (r.trainLoss as number) * r.numSamples, 0) / losses.reduce((s, r) => s + r.numSamples, 0)
        : null;
      await tx.insert(modelVersions).values({
        studyId: round.studyId,
        version,
        parentVersion: round.baseVersion,
        roundNumber: round.number,
        weights: bytes,
        sha256: sha256Hex(bytes),
        serverState: result.state ? encodeServerState(result.state) : null,
      });
      await tx
        .update(rounds)
        .set({
          status: 'closed',
          closedAt: new Date(clock.now()),
          closeReason: reason,
          resultVersion: version,
          contributors: rows.length,
          totalSamples,
          meanTrainLoss,
          aggregationReport: result.report,
        })
        .where(eq(rounds.id, round.id));
      const completedRounds = study.completedRounds + 1;
      // A study paused while this round ran stays paused.
      const studyStatus = completedRounds >= study.config.rounds ? 'completed' : study.status === 'paused' ? 'paused' : 'running';
      await tx.update(studies).set({ currentVersion: version, completedRounds, status: studyStatus }).where(eq(studies.id, study.id));
      crashPoint('aggregation-tx');
      // Sites evaluate every evaluateEvery-th version, and always the study's last.
      const evaluate = studyStatus === 'completed' || round.number % config.evaluateEvery === 0;
      return { version, contributors: rows.length, studyStatus, evaluate } as const;
    });
  }

  /** A participant's evaluation of a version on its validation split; a repeat replaces the earlier report. */
  async recordEvaluation(participantId: string, report: EvaluationReport): Promise<void> {
    const { db, clock } = this.deps;
    const [version] = await db
      .select({ v: modelVersions.version })
      .from(modelVersions)
      .where(and(eq(modelVersions.studyId, report.studyId), eq(modelVersions.version, report.version)));
    if (!version) throw new ConsiliumError(ErrorCode.NotFound, `study ${report.studyId} has no version ${report.version}`, 404);
    const values = {
      studyId: report.studyId,
      version: report.version,
      participantId,
      loss: report.loss,
      accuracy: report.accuracy,
      numSamples: report.numSamples,
      backend: report.backend,
      clinical: report.clinical ?? null,
      reportedAt: new Date(clock.now()),
    };
    await db
      .insert(evaluations)
      .values(values)
      .onConflictDoUpdate({ target: [evaluations.studyId, evaluations.version, evaluations.participantId], set: values });
    this.deps.events.changed(report.studyId);
  }

  /**
   * Run an admin action (pause, resume, stop, a configuration change, an enrolment) in the study's
   * queue, so that no round action interleaves with it; then tell the live views, and open a round if
   * one may open now. `abandonOpen` is how a stop ends the round in progress.
   */
  async adminAction<T>(studyId: string, action: (round: { abandonOpen(reason: string): Promise<void> }) => Promise<T>): Promise<T> {
    const abandonOpen = async (reason: string) => {
      const [open] = await this.deps.db.select().from(rounds).where(and(eq(rounds.studyId, studyId), eq(rounds.status, 'open')));
      if (!open) return;
      clearTimeout(this.timers.get(open.id));
      this.timers.delete(open.id);
      await this.abandon(open, reason);
    };
    const result = await this.serial(studyId, () => action({ abandonOpen }));
    this.deps.events.changed(studyId);
    await this.maybeOpenRound(studyId);
    return result;
  }

  /** The latest round of a study, for views. */
  async latestRound(studyId: string): Promise<RoundRow | null> {
    const [r] = await this.deps.db.select().from(rounds).where(eq(rounds.studyId, studyId)).orderBy(desc(rounds.number)).limit(1);
    return r ?? null;
  }
}

/** Counts that cannot come from `rows` records: a buggy or hostile client. */
function implausibleStatistics(stats: SiteStatistics): string | null {
  for (const [name, s] of Object.entries(stats.numeric)) {
    if (s.count > stats.rows) return `${name}: ${s.count} values in ${stats.rows} rows`;
    if (s.count > 0 && s.sumSquares * s.count < s.sum * s.sum * (1 - 1e-9)) return `${name}: sum of squares below what the sum allows`;
  }
  for (const [name, counts] of Object.entries(stats.categorical)) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (total > stats.rows) return `${name}: ${total} values in ${stats.rows} rows`;
  }
  return null;
}
