import { and, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { roundBounds, type RoundBounds } from '../../shared/fl/bounds';
import { estimatedInitialNorm } from '../../shared/fl/clipping';
import { createStrategy } from '../../shared/fl/registry';
import type { StudyConfig } from '../../shared/protocol/schemas';
import { weightShapes } from '../../shared/tasks';
import { blobsOf, type Db } from '../db/client';
import { participants, rounds, studies, updates } from '../db/schema';
import { templateOf } from '../studies/service';
import { roundUpdates } from './aggregation';
import { RoundLedger } from './ledger';
import type { RoundRow } from './types';

/**
 * The open rounds' ledgers, by round id, and each study's open one: built on first use (after a
 * restart, from the round's rows, its sum from the stored payloads, exact, so the same bits as the
 * sum the last process held) and dropped when the round ends.
 */
export class RoundLedgers {
  private readonly byRound = new Map<number, Promise<RoundLedger>>();
  private readonly byStudy = new Map<string, RoundLedger>();

  /**
   * `sums`: fold each accepted update into the round's running sum. A process that does not
   * coordinate the study takes uploads without summing them: the coordinator folds them.
   */
  constructor(
    private readonly db: Db,
    private readonly sums = true,
  ) {}

  /** How many rounds' state is held (only open ones should be). */
  get size(): number {
    return this.byRound.size;
  }

  /** The round's ledger, built on first use. */
  of(round: RoundRow): Promise<RoundLedger> {
    let ledger = this.byRound.get(round.id);
    if (!ledger) {
      ledger = this.build(round);
      this.byRound.set(round.id, ledger);
      ledger.catch(() => this.byRound.delete(round.id));
    }
    return ledger;
  }

  /** The ledger of the round if one is built or being built, without building one. */
  pending(roundId: number): Promise<RoundLedger> | undefined {
    return this.byRound.get(roundId);
  }

  /** The study's open round's ledger if it is round `number` and already in memory: intake's query-free path. */
  open(studyId: string, number: number): RoundLedger | null {
    const ledger = this.byStudy.get(studyId);
    return ledger && ledger.round.row.number === number && !ledger.closed ? ledger : null;
  }

  /** The study's open round's ledger, if it is in memory. */
  openOf(studyId: string): RoundLedger | null {
    const ledger = this.byStudy.get(studyId);
    return ledger && !ledger.closed ? ledger : null;
  }

  /** The built, still-open ledger of a round, if any. */
  held(roundId: number): RoundLedger | undefined {
    return [...this.byStudy.values()].find((l) => l.roundId === roundId && !l.closed);
  }

  /** The ids of the rounds of a study whose state is held. */
  roundsOf(studyId: string): number[] {
    return [...this.byStudy.values()].filter((l) => l.round.row.studyId === studyId).map((l) => l.roundId);
  }

  /**
   * Takes into the open round's ledger the updates other processes recorded since it last looked:
   * counted, their keys known, folded into the sum. Returns how many were new.
   */
  async absorb(roundId: number): Promise<number> {
    const ledger = this.held(roundId);
    if (!ledger) return 0;
    // Every key of the round, not those after the last id seen: ids are handed out at insert, and
    // transactions commit in another order, so a smaller id may become visible after a larger one.
    const rows = await this.db.select({ id: updates.id, key: updates.idempotencyKey }).from(updates).where(eq(updates.roundId, roundId));
    // This process's own are recorded, or being recorded (its intake counts them when the commit returns).
    const unknown = rows.filter((r) => !ledger.keys.has(r.key) && !ledger.inFlight.has(r.key)).map((r) => r.id);
    if (!unknown.length) return 0;
    let taken = 0;
    for (const u of await roundUpdates(this.db, roundId, ledger.bounds, unknown)) {
      if (ledger.keys.has(u.idempotencyKey) || ledger.inFlight.has(u.idempotencyKey)) continue;
      (u.staleness ? ledger.late : ledger.onTime).add(u.participantId);
      ledger.keys.set(u.idempotencyKey, u.participantId);
      if (!u.staleness) ledger.committed++;
      ledger.fold(u);
      taken++;
    }
    return taken;
  }

  drop(roundId: number): void {
    this.byRound.delete(roundId);
    for (const [studyId, l] of this.byStudy) if (l.roundId === roundId) this.byStudy.delete(studyId);
  }

  private async build(round: RoundRow): Promise<RoundLedger> {
    const { db } = this;
    const [study] = await db.select().from(studies).where(eq(studies.id, round.studyId));
    const config = round.config ?? study.config;
    let bounds = round.bounds;
    if (!bounds) {
      // A round opened before bounds were kept: fixed now, before its first update is taken.
      bounds = await boundsFor(db, study, config, round.number, round.sampled);
      await db.update(rounds).set({ bounds }).where(eq(rounds.id, round.id));
    }
    const lengths = weightShapes(templateOf(study.templateId).model).map((w) => w.shape.reduce((a, b) => a * b, 1));
    const ledger = new RoundLedger(
      { row: { ...round, bounds }, sampled: new Set(round.sampled), templateId: study.templateId, config },
      bounds,
      lengths,
      this.sums && !!createStrategy(config.strategy).meanStep,
      blobsOf(db),
    );
    // One read for the keys, the counts and the sum: a row another process adds later is taken by `absorb`.
    const list = await roundUpdates(db, round.id, bounds);
    for (const u of list) {
      (u.staleness ? ledger.late : ledger.onTime).add(u.participantId);
      ledger.keys.set(u.idempotencyKey, u.participantId);
    }
    ledger.committed = list.filter((u) => !u.staleness).length;
    if (round.sampled.length)
      for (const p of await db.select({ id: participants.id, n: participants.numSamples }).from(participants).where(inArray(participants.id, round.sampled)))
        ledger.reported.set(p.id, p.n);
    if (ledger.sum) for (const u of list) ledger.fold(u);
    if (round.status === 'open') this.byStudy.set(round.studyId, ledger);
    return ledger;
  }
}

/**
 * A round's bounds (shared/fl/bounds.ts), from the study's settings, the previous closed round's
 * clipping bound and update norms, and the record counts the sampled sites reported when they joined.
 */
export async function boundsFor(db: Db, study: { id: string; templateId: string }, config: StudyConfig, number: number, sampled: readonly string[]): Promise<RoundBounds> {
  const [previous] = await db
    .select({ id: rounds.id, bounds: rounds.bounds })
    .from(rounds)
    .where(and(eq(rounds.studyId, study.id), eq(rounds.status, 'closed'), sql`${rounds.number} < ${number}`))
    .orderBy(desc(rounds.number))
    .limit(1);
  const norms = previous
    ? (await db.select({ norm: updates.norm }).from(updates).where(and(eq(updates.roundId, previous.id), isNotNull(updates.norm)))).map((r) => r.norm as number)
    : [];
  const reported = await reportedCounts(db, sampled);
  // Under differential privacy the mean's denominator is over every enrolled site, sampled or not.
  const enrolled = config.privacy
    ? (await db.select({ n: participants.numSamples }).from(participants).where(eq(participants.studyId, study.id))).map((r) => r.n)
    : undefined;
  return roundBounds(config, {
    round: number,
    enrolledCounts: enrolled,
    previousBound: previous?.bounds?.clipNorm ?? null,
    previousNorms: norms,
    initialNorm: initialClipNorm(study.templateId, config),
    reportedCounts: reported,
  });
}

/** The training-record counts the sampled sites reported when they joined (null: none reported). */
export async function reportedCounts(db: Db, sampled: readonly string[]): Promise<(number | null)[]> {
  if (!sampled.length) return [];
  return (await db.select({ n: participants.numSamples }).from(participants).where(inArray(participants.id, [...sampled]))).map((r) => r.n);
}

/** The adaptive rule's first bound when a study sets none: its template's, else an estimate from the model. */
export function initialClipNorm(templateId: string, config: StudyConfig): number {
  const template = templateOf(templateId);
  const own = template.defaults.clipping.mode === 'adaptive' ? template.defaults.clipping.initialNorm : null;
  if (own !== null) return own;
  const parameters = weightShapes(template.model).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  return estimatedInitialNorm(parameters, config.learningRate);
}
