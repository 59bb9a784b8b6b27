import { and, asc, eq, max } from 'drizzle-orm';
import { createStrategy, type StrategyConfigInput } from '../../shared/fl/registry';
import { decodeServerState, encodeServerState, type ServerState } from '../../shared/fl/state';
import { StrategyError, type AggregationResult } from '../../shared/fl/strategy';
import { decodeWeights } from '../../shared/weights/codec';
import { crashPoint } from '../crashPoints';
import type { Db } from '../db/client';
import { modelVersions, participants, rounds, studies, updates } from '../db/schema';
import { encodeModel, sha256Hex, templateOf } from '../studies/service';
import { runStrategy } from './runInWorker';
import type { CoordinatorDeps, RoundRow } from './types';

/**
 * A round's aggregation: the study's strategy over the round's accepted updates, in site-id order,
 * and the new model version, its server state, the round's metrics and the study's progress
 * written in one transaction.
 *
 * Memory: the rules built on the sample-weighted mean (FedAvg, FedAvgM, FedProx, FedAdam, FedYogi,
 * FedAdagrad, without a norm bound) stream: each update is read from the database, decoded in place
 * and added into one float64 sum, then dropped, so memory holds a few models whatever the number of
 * updates (a second pass the same way measures each update's distance to the mean for the report).
 * The robust rules (median, trimmed mean, Krum, multi-Krum) and a norm bound need every update at
 * once; they get them all, in a worker thread when the round is large.
 */
export interface AggregationContext {
  deps: CoordinatorDeps;
  /** Ends the round without a version, telling the live views. */
  abandon(round: RoundRow, reason: string): Promise<void>;
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** One update of the round as the strategy sees it: its label and weight, its payload left in the database. */
interface RoundInput {
  id: number;
  participantId: string;
  numSamples: number;
}

export async function aggregate(ctx: AggregationContext, round: RoundRow, reason: string): Promise<void> {
  const { log, events } = ctx.deps;
  let closed;
  try {
    closed = await aggregateInTransaction(ctx.deps, round, reason);
  } catch (err) {
    if (!(err instanceof StrategyError)) throw err;
    // The rule cannot aggregate these updates (Krum with too few, say): the round ends without a version.
    await ctx.abandon(round, `aggregation failed: ${err.message}`);
    return;
  }
  if (!closed) return;
  log.info({ studyId: round.studyId, round: round.number, version: closed.version, contributors: closed.contributors, reason }, 'round aggregated');
  events.roundClosed(round.studyId, {
    studyId: round.studyId,
    round: round.number,
    status: 'closed',
    version: closed.version,
    contributors: closed.contributors,
    studyStatus: closed.studyStatus,
    evaluate: closed.evaluate,
  });
  events.changed(round.studyId);
}

/** The aggregation's one transaction: the strategy's result, the new version, the round and study rows. */
export async function aggregateInTransaction(deps: CoordinatorDeps, round: RoundRow, reason: string) {
  const { db, clock } = deps;
  return db.transaction(async (tx) => {
    const [locked] = await tx.select().from(rounds).where(eq(rounds.id, round.id)).for('update');
    if (!locked || locked.status !== 'open') return null;
    await tx.update(rounds).set({ status: 'aggregating' }).where(eq(rounds.id, round.id));
    const [study] = await tx.select().from(studies).where(eq(studies.id, round.studyId)).for('update');
    const template = templateOf(study.templateId);
    // Keyed and summed in site-id order: the same updates make the same model bit for bit, whatever
    // their arrival order and whichever participant ids a database generated. Payloads stay behind.
    const rows = (
      await tx
        .select({
          id: updates.id,
          numSamples: updates.numSamples,
          trainLoss: updates.trainLoss,
          staleness: updates.staleness,
          weight: updates.weight,
          siteId: participants.siteId,
        })
        .from(updates)
        .innerJoin(participants, eq(participants.id, updates.participantId))
        .where(eq(updates.roundId, round.id))
        .orderBy(asc(participants.siteId), asc(updates.staleness))
    ).map((r) => ({ ...r, siteId: r.staleness ? `${r.siteId}~late${r.staleness}` : r.siteId }));
    const [base] = await tx
      .select({ weights: modelVersions.weights, serverState: modelVersions.serverState })
      .from(modelVersions)
      .where(and(eq(modelVersions.studyId, round.studyId), eq(modelVersions.version, round.baseVersion)));
    const global = decodeWeights(base.weights).tensors.map((t) => t.data);
    // The round's strategy, from the base version's server state (kept in the database, so a restart
    // or a restart from an older version continues exactly).
    const config = round.config ?? study.config;
    // The study-wide clipping factor, when set, is the strategy's norm bound.
    const strategy =
      config.normBoundFactor !== null
        ? { ...config.strategy, options: { ...config.strategy.options, normBound: { factor: config.normBoundFactor } } }
        : config.strategy;
    let result;
    try {
      result = await runRound(
        tx,
        round.id,
        strategy,
        global,
        rows.map((r) => ({ id: r.id, participantId: r.siteId, numSamples: r.numSamples * r.weight })),
        base.serverState ? decodeServerState(base.serverState) : null,
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

/** The strategy over the round's updates: streamed one payload at a time where the rule allows, else all at once. */
async function runRound(
  tx: Tx,
  roundId: number,
  config: StrategyConfigInput,
  global: Float32Array[],
  inputs: readonly RoundInput[],
  state: ServerState | null,
): Promise<AggregationResult> {
  const strategy = createStrategy(config);
  if (strategy.stream) {
    const stream = strategy.stream(global, inputs, state);
    const deltaOf = async (i: number) => {
      const [row] = await tx.select({ payload: updates.payload }).from(updates).where(eq(updates.id, inputs[i].id));
      return decodeWeights(row.payload).tensors.map((t) => t.data);
    };
    for (const i of stream.order) stream.add(await deltaOf(i));
    for (const i of stream.order) stream.measure(await deltaOf(i));
    return stream.finish();
  }
  const payloads = new Map(
    (await tx.select({ id: updates.id, payload: updates.payload }).from(updates).where(eq(updates.roundId, roundId))).map((r) => [r.id, r.payload]),
  );
  // Each payload decoded into buffers of its own (handed to the worker without a further copy) and
  // dropped: the round is held once, not twice.
  const all = inputs.map(({ id, participantId, numSamples }) => {
    const delta = decodeWeights(payloads.get(id)!, { copy: true }).tensors.map((t) => t.data);
    payloads.delete(id);
    return { participantId, numSamples, delta };
  });
  return runStrategy(config, global, all, state, { handOver: true });
}
