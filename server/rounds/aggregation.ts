import { and, asc, eq, inArray } from 'drizzle-orm';
import { aggregateBlockwise, supportsBlockwise } from '../../shared/fl/blockwise';
import { cappedSamples, updateWeight, type RoundBounds } from '../../shared/fl/bounds';
import { FixedPointSum } from '../../shared/fl/fixedPoint';
import { addGaussianNoise } from '../../shared/fl/privacy/sitePrivacy';
import { createStrategy } from '../../shared/fl/registry';
import type { AggregationReport } from '../../shared/fl/report';
import { decodeServerState } from '../../shared/fl/state';
import { StrategyError, type AggregationResult } from '../../shared/fl/strategy';
import type { StudyConfig } from '../../shared/protocol/schemas';
import { decodeWeights } from '../../shared/weights/codec';
import { blobsOf, type Db } from '../db/client';
import { modelVersions, participants, rounds, studies, updates } from '../db/schema';
import { keyedUniform, meanNoiseOverride, noiseKeyOf } from '../privacy/noise';
import type { BlobStore } from '../storage/blobStore';
import { templateOf } from '../studies/service';
import { commitVersion, loadBase, type Committed } from './commit';
import type { RoundLedger } from './ledger';
import { foldInto, readClipped, type StoredUpdate } from './payloads';
import type { CoordinatorDeps, RoundRow } from './types';

/**
 * A round's aggregation, once its policy says so. The mean-based rules (FedAvg, FedAvgM, FedProx,
 * FedAdam, FedYogi, FedAdagrad) already hold the round's exact sum, folded as updates arrived: the
 * mean and the server step are all that is left. The robust rules (median, trimmed mean, Krum) read
 * the stored payloads in coordinate blocks. The new version's bytes go to the blob store first; its
 * row, the round's metrics and the study's progress are written in one transaction; the round-closed
 * event goes out; what needs the mean and every update again (each update's distance to it, for the
 * report) runs after that, off the critical path.
 */
export interface AggregationContext {
  deps: CoordinatorDeps;
  /** Ends the round without a version, telling the live views. */
  abandon(round: RoundRow, reason: string): Promise<void>;
  ledgerFor(round: RoundRow): Promise<RoundLedger>;
}

/** An accepted update as the aggregation sees it, in site-id order. */
export interface RoundUpdate extends StoredUpdate {
  id: number;
  /** The site id (with a suffix for a late update): the order every rule works in. */
  label: string;
  participantId: string;
  idempotencyKey: string;
  staleness: number;
  /** As declared. */
  numSamples: number;
  /** As weighted: declared, capped at the round's sample cap. */
  samples: number;
  trainLoss: number | null;
  norm: number;
}

export interface Closed extends Committed {
  /** What the report's distances are measured against: the round's combined update (mean rules). */
  mean: Float64Array[] | null;
  updates: RoundUpdate[];
}

export async function aggregate(ctx: AggregationContext, round: RoundRow, reason: string): Promise<Closed | null> {
  const { log, events } = ctx.deps;
  let closed: Closed | null;
  const timed = ctx.deps.metrics?.aggregationStarted();
  try {
    closed = await aggregateRound(ctx, round, reason).finally(() => timed?.());
  } catch (err) {
    if (!(err instanceof StrategyError)) throw err;
    // The rule cannot aggregate these updates (Krum with too few, say): the round ends without a version.
    await ctx.abandon(round, `aggregation failed: ${err.message}`);
    return null;
  }
  if (!closed) return null;
  log.info({ studyId: round.studyId, round: round.number, version: closed.version, contributors: closed.contributors, reason }, 'round aggregated');
  events.roundClosed(round.studyId, {
    studyId: round.studyId,
    round: round.number,
    status: 'closed',
    version: closed.version,
    contributors: closed.contributors,
    studyStatus: closed.studyStatus,
    evaluate: closed.evaluate,
    ...(closed.privacy ? { privacy: closed.privacy } : {}),
  });
  events.changed(round.studyId);
  return closed;
}

/**
 * The round's accepted updates in site-id order (late ones after their site's on-time one), each
 * weighted as the round's bounds say (declared samples capped, times the straggler weight).
 */
export async function roundUpdates(db: Db, roundId: number, bounds: Pick<RoundBounds, 'sampleCap' | 'privacy'>, only?: readonly number[]): Promise<RoundUpdate[]> {
  const rows = await db
    .select({
      id: updates.id,
      participantId: updates.participantId,
      idempotencyKey: updates.idempotencyKey,
      numSamples: updates.numSamples,
      trainLoss: updates.trainLoss,
      staleness: updates.staleness,
      weight: updates.weight,
      siteId: participants.siteId,
      sha256: updates.payloadSha256,
      dataOffset: updates.payloadDataOffset,
      bytes: updates.payloadBytes,
      norm: updates.norm,
      clipScale: updates.clipScale,
    })
    .from(updates)
    .innerJoin(participants, eq(participants.id, updates.participantId))
    .where(only ? and(eq(updates.roundId, roundId), inArray(updates.id, [...only])) : eq(updates.roundId, roundId))
    .orderBy(asc(participants.siteId), asc(updates.staleness));
  return rows.map((r) => {
    if (!r.sha256 || r.dataOffset === null || r.bytes === null) throw new Error(`update ${r.id} has no stored payload`);
    return {
      id: r.id,
      label: r.staleness ? `${r.siteId}~late${r.staleness}` : r.siteId,
      participantId: r.participantId,
      idempotencyKey: r.idempotencyKey,
      staleness: r.staleness,
      numSamples: r.numSamples,
      samples: cappedSamples(r.numSamples, bounds),
      trainLoss: r.trainLoss,
      norm: r.norm ?? Number.NaN,
      sha256: r.sha256,
      dataOffset: r.dataOffset,
      values: (r.bytes - r.dataOffset - 4) / 4,
      weight: updateWeight(r.numSamples, r.weight, bounds),
      clipScale: r.clipScale,
    };
  });
}

/** The round's sum rebuilt from its stored payloads: the same bits as the one folded live. */
export async function rebuildSum(blobs: BlobStore, lengths: readonly number[], bounds: RoundBounds, list: readonly StoredUpdate[]): Promise<FixedPointSum> {
  const sum = new FixedPointSum(lengths, bounds.scaleBits);
  for (const u of list) await foldInto(sum, blobs, u);
  return sum;
}

/** Σ weights in site-id order: the fixed order that makes the mean's last division the same every time. */
export function totalWeight(list: readonly RoundUpdate[]): number {
  let w = 0;
  for (const u of list) w += u.weight;
  return w;
}

async function aggregateRound(ctx: AggregationContext, round: RoundRow, reason: string): Promise<Closed | null> {
  const { db, clock } = ctx.deps;
  // The round's timeline (the admin console's round detail): when aggregation began, kept in its report.
  const startedAt = new Date(clock.now()).toISOString();
  const blobs = blobsOf(db);
  const ledger = await ctx.ledgerFor(round);
  ledger.close();
  let sum = ledger.sum;
  try {
    await ledger.settled();
  } catch (err) {
    ctx.deps.log.warn({ err, roundId: round.id }, 'a fold failed; the round sum is rebuilt from the stored updates');
    sum = null;
  }
  // The barrier against other processes' intake: their rows go in only under a share lock on an open
  // round's row (./recorder.ts), so once this waits for the row, what is recorded is all there will be.
  const [barred] = await db
    .update(rounds)
    .set({ status: 'aggregating' })
    .where(and(eq(rounds.id, round.id), eq(rounds.status, 'open')))
    .returning({ id: rounds.id });
  if (!barred) return null;
  const [study] = await db.select().from(studies).where(eq(studies.id, round.studyId));
  const template = templateOf(study.templateId);
  const config: StudyConfig = round.config ?? study.config;
  const list = await roundUpdates(db, round.id, ledger.bounds);
  const privacy = ledger.bounds.privacy ?? null;
  // Under differential privacy a round with no update is still released: its mean is the noise alone.
  if (list.length === 0 && !privacy) throw new StrategyError('no_updates', `${config.strategy.name} needs at least one update`);

  // The round's strategy continues from the base version's server state (kept with it, so a restart, or a restart from an older version, continues exactly).
  const { global, state } = await loadBase(db, round);
  const lengths = global.map((t) => t.length);
  const strategy = createStrategy(config.strategy);
  let result: AggregationResult;
  let mean: Float64Array[] | null = null;
  try {
    if (strategy.meanStep) {
      if (!sum || sum.updates !== list.length) sum = await rebuildSum(blobs, lengths, ledger.bounds, list);
      // Differential privacy divides by the fixed q·W, whatever the realised sample, and adds the noise.
      const total = privacy ? privacy.denominator : totalWeight(list);
      mean = sum.mean(total);
      if (privacy && meanNoiseOverride.apply) meanNoiseOverride.apply(mean, privacy, list.length);
      else if (privacy) addGaussianNoise(mean, privacy.noiseStd, keyedUniform(await noiseKeyOf(db, round.id)));
      const step = strategy.meanStep(global, mean, state);
      result = { weights: step.weights, state: step.state, report: meanReport(config, ledger.bounds, list, total, step) };
      if (privacy && config.privacy)
        result.report.privacy = {
          denominator: privacy.denominator,
          noiseStd: privacy.noiseStd,
          epsilon: privacy.epsilon,
          delta: privacy.delta,
          order: privacy.order,
          sampleRate: config.privacy.sampleRate,
          noiseMultiplier: config.privacy.noiseMultiplier,
        };
    } else if (supportsBlockwise(config.strategy.name)) {
      const src = { count: list.length, read: (k: number, start: number, out: Float32Array) => readClipped(blobs, list[k], start, out) };
      result = await aggregateBlockwise(
        config.strategy,
        global,
        list.map((u) => ({ participantId: u.label, numSamples: u.samples, norm: u.norm, scale: u.clipScale, clipped: u.clipScale < 1 })),
        src,
        state,
        { normBound: ledger.bounds.clipNorm },
      );
      const byLabel = new Map(list.map((u) => [u.label, u]));
      result.report = {
        ...result.report,
        clipMode: ledger.bounds.clipMode,
        sampleCap: ledger.bounds.sampleCap ?? null,
        updates: result.report.updates.map((r) => {
          const u = byLabel.get(r.participantId);
          return u ? { ...r, numSamples: u.numSamples, capped: u.samples < u.numSamples } : r;
        }),
      };
    } else throw new Error(`no way to aggregate ${config.strategy.name}`);
  } catch (err) {
    if (err instanceof StrategyError) err.message = `${config.strategy.name}: ${err.message}`;
    throw err;
  }

  const totalSamples = list.reduce((s, u) => s + u.numSamples, 0);
  const losses = list.filter((u) => u.trainLoss !== null);
  const meanTrainLoss = losses.length
    ? losses.reduce((s, u) => s + (u.trainLoss as number) * u.numSamples, 0) / losses.reduce((s, u) => s + u.numSamples, 0)
    : null;
  const written = await commitVersion(ctx.deps, round, config, template, reason, { ...result, report: { ...result.report, startedAt } }, { contributors: list.length, totalSamples, meanTrainLoss });
  if (!written) return null;
  return { ...written, mean, updates: list };
}

/** The mean rules' report; distances are measured after the round has closed (`measureDistances`). */
function meanReport(
  config: StudyConfig,
  bounds: RoundBounds,
  list: readonly RoundUpdate[],
  total: number,
  step: { details: Record<string, number>; stateReset: boolean },
): AggregationReport {
  return {
    strategy: config.strategy.name,
    normBound: bounds.clipNorm,
    clipMode: bounds.clipMode,
    sampleCap: bounds.sampleCap ?? null,
    stateReset: step.stateReset,
    updates: list.map((u) => ({
      participantId: u.label,
      numSamples: u.numSamples,
      capped: u.samples < u.numSamples,
      norm: u.norm,
      clipped: u.clipScale < 1,
      scale: u.clipScale,
      selected: true,
      weight: u.weight / total,
      score: null,
      distance: null,
    })),
    details: step.details,
  };
}
