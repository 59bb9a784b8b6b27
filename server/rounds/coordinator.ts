import { and, desc, eq, inArray, max } from 'drizzle-orm';
import type { SiteStatistics } from '../../shared/fl/normalisation';
import { poissonSample } from '../../shared/fl/privacy/sitePrivacy';
import { canOpenRound, decideRound } from '../../shared/fl/roundPolicy';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { EvaluationReport, RoundOpen, UploadReceipt } from '../../shared/protocol/schemas';
import type { AdvertiseRequest, RevealRequest, ShareKeysRequest } from '../../shared/protocol/secagg';
import { rounds, studies, updates } from '../db/schema';
import { recordEvaluation } from '../models/evaluations';
import { pastBudget, stopAtBudget, stopWhenBudgetsSpent } from '../privacy/budget';
import { assignmentFor, assignments, storeAssignments, withAssignment } from '../privacy/recordBudget';
import { createNoiseKey, secureUniform } from '../privacy/noise';
import { SecureRounds } from '../secagg/secureRounds';
import { templateOf } from '../studies/service';
import { measureDistances, pruneUpdates, resumeAfterClose } from './afterClose';
import { aggregate } from './aggregation';
import { countUpdates, refuseUnread, submitUpdate, type IntakeContext, type UnreadUpload } from './intake';
import { boundsFor, reportedCounts, RoundLedgers } from './ledgers';
import { UpdateRecorder } from './recorder';
import { sampleParticipants } from './sampling';
import { fixNormalisation, implausibleStatistics, statisticsNeeded, storeStatistics } from './statistics';
import type { ClusterAsk, CoordinatorDeps, RoundRow, StudyRow, SubmitUpdate } from './types';

export type { CoordinatorDeps, CoordinatorEvents, SubmitUpdate } from './types';

/**
 * Runs the rounds of every study: opens them when enough hospitals are online, takes their updates,
 * closes them by the round policy and aggregates. The database is the source of truth: a restarted
 * server picks up open rounds where the last one stopped.
 */
export class Coordinator {
  private queues = new Map<string, Promise<unknown>>();
  private timers = new Map<number, NodeJS.Timeout>();
  /** Studies whose pokes from other processes are queued and not yet looked at (one look serves them all). */
  private readonly pokesQueued = new Set<string>();
  private stopped = false;
  /** Update intake (./intake.ts): uploads run side by side and tell the coordinator what they recorded. */
  private readonly intake: IntakeContext;
  /** The open rounds' in-memory state: who sent what, the running sum (./ledgers.ts). */
  private readonly ledgers: RoundLedgers;
  /** Rounds of studies another process coordinates, as this process's intake needs them: no sum. */
  private readonly followed: RoundLedgers;
  /** Rounds whose policy check is queued and not yet started: one queued check serves every upload before it. */
  private readonly policyQueued = new Set<number>();
  /** Work after a round's close (report distances, payload deletion), awaited by `settle`. */
  private background = new Set<Promise<unknown>>();
  /** Each study's latest piece of that work: the next one waits for it. */
  private readonly afterwards = new Map<string, Promise<unknown>>();
  /** Secure rounds in progress (../secagg/secureRounds.ts): held in memory only. */
  private readonly secure: SecureRounds;

  constructor(private readonly deps: CoordinatorDeps) {
    this.ledgers = new RoundLedgers(deps.db);
    this.followed = new RoundLedgers(deps.db, false);
    this.intake = {
      deps,
      recorder: new UpdateRecorder(deps.db),
      maxUpdateBytes: deps.maxUpdateBytes ?? Number.MAX_SAFE_INTEGER,
      ledgerFor: (round) => (this.leads(round.studyId) ? this.ledgers : this.followed).of(round),
      // Another process's round is checked against the database each time: this one's view of it ages.
      openLedger: (studyId, number) => (this.leads(studyId) ? this.ledgers.open(studyId, number) : null),
      recorded: (round) => this.checkPolicySoon(round),
      ended: (round) => this.followed.drop(round.id),
    };
    this.secure = new SecureRounds(deps, {
      serial: (studyId, fn) => this.serial(studyId, fn),
      abandon: (round, reason) => this.abandon(round, reason),
      closed: async (round, committed) => {
        deps.log.info({ studyId: round.studyId, round: round.number, version: committed.version, contributors: committed.contributors }, 'secure round aggregated');
        deps.events.roundClosed(round.studyId, { studyId: round.studyId, round: round.number, status: 'closed', ...committed });
        deps.events.changed(round.studyId);
        await this.openRoundNow(round.studyId);
      },
    });
  }

  /**
   * Secure aggregation's steps, from the sites (server/realtime/socket.ts). Its state lives only in
   * the memory of the process that coordinates the study: another process passes each step there.
   */
  async secureAdvertise(participantId: string, req: AdvertiseRequest): Promise<void> {
    if (!this.leads(req.studyId)) await this.deps.leadership!.ask({ op: 'advertise', studyId: req.studyId, participantId, req });
    else this.secure.advertise(participantId, req);
  }

  async secureShares(participantId: string, req: ShareKeysRequest): Promise<void> {
    if (!this.leads(req.studyId)) await this.deps.leadership!.ask({ op: 'shares', studyId: req.studyId, participantId, req });
    else this.secure.shares(participantId, req);
  }

  async secureReveal(participantId: string, req: RevealRequest): Promise<void> {
    if (!this.leads(req.studyId)) await this.deps.leadership!.ask({ op: 'reveal', studyId: req.studyId, participantId, req });
    else this.secure.reveal(participantId, req);
  }

  /** A masked input (POST …/rounds/:round/masked). */
  async submitMasked(studyId: string, round: number, participantId: string, body: Uint8Array): Promise<{ duplicate: boolean }> {
    if (!this.leads(studyId)) return (await this.deps.leadership!.ask({ op: 'masked', studyId, participantId, round, body })) as { duplicate: boolean };
    return this.secure.masked(studyId, round, participantId, body);
  }

  /** Another process's question about a study this one coordinates (`Leadership.ask`); null when it does not coordinate it. */
  async answer(q: ClusterAsk): Promise<{ value: unknown } | null> {
    if (!this.leads(q.studyId)) return null;
    switch (q.op) {
      case 'advertise':
        return { value: (this.secure.advertise(q.participantId, q.req), null) };
      case 'shares':
        return { value: (this.secure.shares(q.participantId, q.req), null) };
      case 'reveal':
        return { value: (this.secure.reveal(q.participantId, q.req), null) };
      case 'masked':
        return { value: this.secure.masked(q.studyId, q.round, q.participantId, new Uint8Array(q.body)) };
      case 'pending':
        return { value: this.secure.pendingFor(q.studyId, q.participantId) };
    }
  }

  /** A site's tab went away: a secure round in progress waits for it no longer. */
  participantLeft(studyId: string, participantId: string): void {
    this.secure.departed(studyId, participantId);
  }

  /** Whether this process coordinates the study (always, when it is the only one). */
  leads(studyId: string): boolean {
    return this.deps.leadership?.leads(studyId) ?? true;
  }

  /** The round's policy, checked in the study's queue once the uploads recorded so far are in. */
  private checkPolicySoon(round: RoundRow): void {
    if (!this.leads(round.studyId)) return this.deps.leadership!.poke({ studyId: round.studyId, kind: 'recorded' });
    if (this.policyQueued.has(round.id)) return;
    this.policyQueued.add(round.id);
    void this.serial(round.studyId, () => {
      this.policyQueued.delete(round.id);
      return this.applyPolicy(round.id);
    }).catch((err) => this.deps.log.error({ err, roundId: round.id }, 'round policy check failed'));
  }

  private dropLedger(roundId: number): void {
    this.ledgers.drop(roundId);
    this.policyQueued.delete(roundId);
  }

  /** Runs `task` after the current action, tracked so `settle` waits for it. */
  private later(studyId: string, task: () => Promise<unknown>): void {
    // One at a time per study: a close's measurement must not find its payloads pruned by another's.
    const prev = this.afterwards.get(studyId) ?? Promise.resolve();
    const p: Promise<unknown> = prev
      .then(task)
      .catch((err) => this.deps.log.error({ err }, 'work after a round failed'))
      .finally(() => {
        this.background.delete(p);
        if (this.afterwards.get(studyId) === p) this.afterwards.delete(studyId);
      });
    this.afterwards.set(studyId, p);
    this.background.add(p);
  }

  /** Run `fn` after every earlier task of this study: one coordinator action at a time per study. */
  private serial<T>(studyId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(studyId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.queues.set(studyId, next.catch(() => undefined));
    return next;
  }

  /**
   * A site (re-)joined reporting `records` training records, `previous` before: the open round
   * checks its declarations against the new count, and a change is told (the audit log keeps it).
   */
  recordsReported(studyId: string, participantId: string, previous: number | null, records: number): void {
    const ledger = this.ledgers.openOf(studyId);
    if (ledger?.reported.has(participantId)) ledger.reported.set(participantId, records);
    if (previous !== records) this.deps.events.recordsReported?.({ studyId, participantId, previous, records });
  }

  /** Rounds whose in-memory state (ledger, running sum) is held: only open ones. */
  openRounds(): number {
    return this.ledgers.size;
  }

  /** Idle until every queued action has run (tests, shutdown). */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      await Promise.all([...this.queues.values()]);
      await Promise.all([...this.background]);
    }
  }

  stop(): void {
    this.stopped = true;
    this.secure.stopAll();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** After a restart: rounds caught mid-aggregation go back to open, and every open round gets its deadline again. */
  async recover(): Promise<void> {
    const { db } = this.deps;
    // Several processes: each study is recovered by the process that takes it over (`adopt`).
    if (this.deps.leadership) return;
    await db.update(rounds).set({ status: 'open' }).where(eq(rounds.status, 'aggregating'));
    const open = await db.select().from(rounds).where(eq(rounds.status, 'open'));
    for (const r of open) {
      this.scheduleDeadline(r);
      void this.serial(r.studyId, () => this.applyPolicy(r.id));
    }
    // Reports left without distances and payloads left undeleted by the last process.
    for (const s of await db.select({ id: studies.id }).from(studies)) this.later(s.id, () => resumeAfterClose(this.deps, s.id));
  }

  /** Open the next round of a study if it has rounds left, none open, and enough hospitals online. */
  maybeOpenRound(studyId: string): Promise<void> {
    if (!this.leads(studyId)) {
      this.deps.leadership!.poke({ studyId, kind: 'open' });
      return Promise.resolve();
    }
    return this.serial(studyId, () => this.openRoundNow(studyId));
  }

  /**
   * This process now coordinates the study (its lease: ../cluster/leases.ts), after another process
   * died or let it go: its state is rebuilt from the database as after a restart. A round caught
   * mid-aggregation goes back to open (its last coordinator is gone: the lease says so), the open
   * round gets its deadline and its policy is checked, and work left after a close resumes.
   */
  adopt(studyId: string): Promise<void> {
    return this.serial(studyId, async () => {
      const { db } = this.deps;
      for (const id of this.followed.roundsOf(studyId)) this.followed.drop(id);
      await db.update(rounds).set({ status: 'open' }).where(and(eq(rounds.studyId, studyId), eq(rounds.status, 'aggregating')));
      const [open] = await db.select().from(rounds).where(and(eq(rounds.studyId, studyId), eq(rounds.status, 'open')));
      if (open) {
        this.scheduleDeadline(open);
        await this.applyPolicy(open.id);
      } else await this.openRoundNow(studyId);
      this.later(studyId, () => resumeAfterClose(this.deps, studyId));
    });
  }

  /** Another process coordinates the study from now on (this one drains, or lost its lease): its state here goes. */
  relinquish(studyId: string): Promise<void> {
    return this.serial(studyId, async () => {
      for (const id of this.ledgers.roundsOf(studyId)) this.forgetRound(id);
      const [open] = await this.deps.db.select({ id: rounds.id }).from(rounds).where(and(eq(rounds.studyId, studyId), eq(rounds.status, 'open')));
      if (open) this.forgetRound(open.id);
      this.secure.drop(studyId);
    });
  }

  /**
   * Another process changed the study (an update recorded, a site joined, a round ended by an admin
   * there): look again, once for every poke queued meanwhile.
   */
  poked(studyId: string): void {
    if (!this.leads(studyId) || this.pokesQueued.has(studyId)) return;
    this.pokesQueued.add(studyId);
    void this.serial(studyId, async () => {
      this.pokesQueued.delete(studyId);
      if (!this.leads(studyId)) return;
      const [open] = await this.deps.db.select().from(rounds).where(and(eq(rounds.studyId, studyId), inArray(rounds.status, ['open', 'aggregating'])));
      // A round that ended elsewhere (stopped by an admin on another process) is no longer held here.
      for (const id of this.ledgers.roundsOf(studyId)) if (id !== open?.id) this.forgetRound(id);
      if (open) {
        this.scheduleDeadline(open);
        await this.applyPolicy(open.id);
      } else await this.openRoundNow(studyId);
    }).catch((err) => this.deps.log.error({ err, studyId }, 'could not act on another process\'s news'));
  }

  private forgetRound(roundId: number): void {
    clearTimeout(this.timers.get(roundId));
    this.timers.delete(roundId);
    this.dropLedger(roundId);
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
    // Tabs connected to other processes count too: their presence is read afresh first (../cluster/sharedPresence.ts).
    await (presence as Partial<{ sync(): Promise<void> }>).sync?.();
    let online = presence.online(studyId);
    // Under record-level DP-SGD a site whose budget allows no further step is not sampled again.
    const recordPrivacy = study.config.recordPrivacy;
    const records = recordPrivacy ? await assignments(db, studyId, study.config, recordPrivacy) : null;
    if (records?.exhausted) {
      await stopWhenBudgetsSpent(db, this.deps.events, studyId);
      log.warn({ studyId, left: records.assigned.size, minParticipants: study.config.minParticipants }, 'study stopped: too few sites have record-level privacy budget left for a round');
      return;
    }
    if (records) online = online.filter((id) => records.assigned.has(id));
    if (!canOpenRound(online.length, study.config.minParticipants)) return;
    const normalisation = study.normalisation ?? (await fixNormalisation(this.deps, study, online));
    if (!normalisation) return;

    const [{ last }] = await db.select({ last: max(rounds.number) }).from(rounds).where(eq(rounds.studyId, studyId));
    const number = (last ?? 0) + 1;
    const privacy = study.config.privacy;
    if (privacy && pastBudget(privacy, number)) {
      await stopAtBudget(db, this.deps.events, studyId, privacy, number - 1);
      log.warn({ studyId, rounds: number - 1 }, 'study stopped: one more round would pass its privacy budget');
      return;
    }
    // Under differential privacy the sample is Poisson, from a secret random source (the accountant assumes both).
    const sampled = privacy ? poissonSample(online, privacy.sampleRate, secureUniform()) : sampleParticipants(online, study.config, number);
    const bounds = await boundsFor(db, study, study.config, number, sampled);
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
        bounds,
        openedAt: new Date(now),
        deadline: new Date(now + study.config.roundDeadlineMs),
      })
      .returning();
    if (privacy) await createNoiseKey(db, round.id);
    if (records) await storeAssignments(db, studyId, round.id, sampled, records.assigned);
    // A secure round runs its own steps (and deadline); each site learns its index with the opening.
    const secure = study.config.secureAggregation
      ? this.secure.open(round, study.config, bounds, templateOf(study.templateId), await reportedCounts(db, sampled))
      : null;
    if (study.status === 'waiting') await db.update(studies).set({ status: 'running' }).where(eq(studies.id, studyId));
    log.info({ studyId, round: round.number, baseVersion: round.baseVersion, sampled: sampled.length, online: online.length }, 'round opened');
    this.scheduleDeadline(round);
    const opening = this.roundOpenOf(round, { ...study, normalisation });
    const own = (id: string): RoundOpen => {
      const a = records?.assigned.get(id);
      return {
        ...opening,
        ...(a && recordPrivacy ? { training: withAssignment(opening.training, recordPrivacy, a) } : {}),
        ...(secure ? { secureAggregation: secure(id) } : {}),
      };
    };
    this.deps.events.roundOpened(sampled, opening, secure || records ? own : undefined);
    this.deps.events.changed(studyId);
    // A private round that sampled no site is released at once: its version is the noise alone.
    if (sampled.length === 0) this.checkPolicySoon(round);
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
        ...(config.localSteps !== undefined ? { localSteps: config.localSteps } : {}),
        batchSize: config.batchSize,
        learningRate: config.learningRate,
        optimizer: config.optimizer,
        ...(config.fedProxMu > 0 ? { fedProxMu: config.fedProxMu } : {}),
      },
      normalisation: study.normalisation ?? null,
      ...(config.privacy ? { clipNorm: config.privacy.clipNorm } : {}),
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
    const config = round.config ?? study.config;
    let opening = this.roundOpenOf(round, study);
    if (config.recordPrivacy) {
      // The site's DP-SGD steps, as assigned (and counted) when the round opened.
      const a = await assignmentFor(db, round.id, participantId);
      if (!a) return null;
      opening = { ...opening, training: withAssignment(opening.training, config.recordPrivacy, a) };
    }
    if (config.secureAggregation) {
      // A secure round can be joined only while its keys are being advertised.
      const own = this.leads(studyId)
        ? this.secure.pendingFor(studyId, participantId)
        : ((await this.deps.leadership!.ask({ op: 'pending', studyId, participantId })) as ReturnType<SecureRounds['pendingFor']>);
      return own ? { ...opening, secureAggregation: own } : null;
    }
    return opening;
  }

  /** Whether the study has no statistics from this participant yet (it sends them once, whenever it joins). */
  statisticsNeeded(studyId: string, participantId: string): Promise<boolean> {
    return statisticsNeeded(this.deps.db, studyId, participantId);
  }

  /**
   * A site's aggregate statistics, stored (a later report from the same site replaces them) for the
   * admins' view of each site's data. `accepted`: they count towards the study's normalisation, as
   * they do until it is fixed; after that they never change it.
   */
  async recordStatistics(studyId: string, participantId: string, stats: SiteStatistics, datasetFingerprint: string | null = null): Promise<{ accepted: boolean }> {
    const problem = implausibleStatistics(stats);
    if (problem) throw new ConsiliumError(ErrorCode.BadRequest, `statistics refused: ${problem}`, 400);
    const accepted = await this.serial(studyId, () => storeStatistics(this.deps, studyId, participantId, stats, datasetFingerprint));
    this.deps.events.changed(studyId);
    if (accepted) await this.maybeOpenRound(studyId);
    return { accepted };
  }

  private scheduleDeadline(round: RoundRow): void {
    if (this.stopped || this.timers.has(round.id) || !this.leads(round.studyId)) return;
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
  submitUpdate(req: SubmitUpdate): Promise<UploadReceipt> {
    if (this.secure.holds(req.studyId, req.round))
      return Promise.reject(new ConsiliumError(ErrorCode.Conflict, 'this round runs under secure aggregation: a site sends a masked input, never its update (reload the page)', 409));
    return submitUpdate(this.intake, req);
  }

  /** Record an upload refused before its body was read (a round in the URL that is no round number). */
  refuseUnread(req: UnreadUpload, err: ConsiliumError): Promise<void> {
    return refuseUnread(this.deps, req, err);
  }

  /** Close the round if its policy says so. Runs inside the study's queue. */
  private async applyPolicy(roundId: number): Promise<void> {
    const { db, clock } = this.deps;
    // The open round's ledger knows the round and its count: no query until it is time to close.
    // Updates other processes recorded are counted (and summed) before the policy looks.
    if (this.deps.leadership) await this.ledgers.absorb(roundId);
    const held = this.ledgers.held(roundId);
    let round: RoundRow;
    let received: number;
    let minUpdates: number;
    let noiseOnly: boolean;
    if (held) {
      round = held.round.row;
      received = held.committed;
      minUpdates = held.round.config.minUpdates;
      noiseOnly = !!held.round.config.privacy;
    } else {
      const [row] = await db.select().from(rounds).where(eq(rounds.id, roundId));
      if (!row || row.status !== 'open') return;
      const [study] = await db.select().from(studies).where(eq(studies.id, row.studyId));
      round = row;
      received = await countUpdates(db, row.id);
      minUpdates = (row.config ?? study.config).minUpdates;
      noiseOnly = !!(row.config ?? study.config).privacy;
    }
    if ((round.config ?? null)?.secureAggregation) {
      // Its own steps close a secure round; one this process does not hold lost its masks with the last process.
      if (this.secure.holds(round.studyId, round.number)) return;
      clearTimeout(this.timers.get(round.id));
      this.timers.delete(round.id);
      await this.abandon(round, 'secure aggregation: the server restarted during the round; its masks went with it and nothing was revealed');
      await this.openRoundNow(round.studyId);
      return;
    }
    const decision = decideRound({
      sampled: round.sampled.length,
      received,
      minParticipants: minUpdates,
      deadline: round.deadline.getTime(),
      now: clock.now(),
      noiseOnly,
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
    if (this.secure.holds(round.studyId, round.number)) this.secure.drop(round.studyId);
    const ledger = this.ledgers.pending(round.id);
    if (ledger) await ledger.then((l) => (l.close(), l.settled())).catch(() => undefined);
    this.dropLedger(round.id);
    const [study] = await db.select().from(studies).where(eq(studies.id, round.studyId));
    const [ended] = await db
      .update(rounds)
      .set({ status: 'abandoned', closedAt: new Date(clock.now()), closeReason: reason })
      .where(and(eq(rounds.id, round.id), inArray(rounds.status, ['open', 'aggregating'])))
      .returning({ id: rounds.id });
    // Another process ended it first (closed with a version, or stopped): nothing to tell.
    if (!ended) return;
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
    this.later(round.studyId, () => pruneUpdates(db, round.studyId, this.deps.keepUpdateRounds ?? 0));
  }

  private async aggregate(round: RoundRow, reason: string): Promise<void> {
    const closed = await aggregate({ deps: this.deps, abandon: (r, why) => this.abandon(r, why), ledgerFor: (r) => this.ledgers.of(r) }, round, reason);
    this.dropLedger(round.id);
    if (!closed) return;
    const { db } = this.deps;
    this.later(round.studyId, async () => {
      if (closed.mean) await measureDistances(db, round.id, closed.mean, closed.updates);
      await pruneUpdates(db, round.studyId, this.deps.keepUpdateRounds ?? 0);
    });
  }

  /** A participant's evaluation of a version on its validation split; a repeat replaces the earlier report. */
  /** A site's evaluation of a version (checked, once per site and version: ../models/evaluations.ts). */
  async recordEvaluation(participantId: string, report: EvaluationReport): Promise<void> {
    const changes = await recordEvaluation(this.deps.db, this.deps.clock, participantId, report);
    for (const c of changes) this.deps.events.evaluationFlagged?.({ studyId: report.studyId, version: report.version, ...c });
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
    if (!this.leads(studyId)) this.deps.leadership!.poke({ studyId, kind: 'sync' });
    else await this.maybeOpenRound(studyId);
    return result;
  }

  /** The latest round of a study, for views. */
  async latestRound(studyId: string): Promise<RoundRow | null> {
    const [r] = await this.deps.db.select().from(rounds).where(eq(rounds.studyId, studyId)).orderBy(desc(rounds.number)).limit(1);
    return r ?? null;
  }
}
