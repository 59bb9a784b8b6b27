import { createHash } from 'node:crypto';
import type { RoundBounds } from '../../shared/fl/bounds';
import type { RoundPrivacy } from '../../shared/fl/privacy/sitePrivacy';
import { CommunicationGraph, roundGraph } from '../../shared/fl/secagg/graph';
import { distributedPlan } from '../../shared/fl/secagg/distributedNoise';
import { minimumThreshold } from '../../shared/fl/secagg/protocol';
import { chooseRing, decodeFixed, lanes } from '../../shared/fl/secagg/ring';
import { decodeMasked } from '../../shared/fl/secagg/wire';
import { createStrategy } from '../../shared/fl/registry';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { AdvertiseRequest, RevealRequest, SecureRound as SecureRoundOpen, ShareKeysRequest } from '../../shared/protocol/secagg';
import type { StudyConfig } from '../../shared/protocol/schemas';
import type { TaskTemplate } from '../../shared/tasks';
import { weightShapes } from '../../shared/tasks';
import { commitVersion, loadBase, type Committed } from '../rounds/commit';
import type { CoordinatorDeps, RoundRow } from '../rounds/types';
import { SecureRound } from './secureRound';

/** How long each key step (advertise, share) and the unmasking may take, at most. */
const STEP_MS = 60_000;

export interface SecureRoundsHooks {
  /** Runs `fn` in the study's queue (no admin action or other round step interleaves). */
  serial(studyId: string, fn: () => Promise<void>): Promise<void>;
  /** The round ended without a version (nothing revealed). */
  abandon(round: RoundRow, reason: string): Promise<void>;
  /** The round's version is written: tell the sites and open the next. */
  closed(round: RoundRow, committed: Committed): Promise<void>;
}

/**
 * The secure rounds in progress, by study: opened by the coordinator, fed by the sites' messages
 * (server/realtime/socket.ts) and masked uploads (server/rounds/routes.ts), and closed with a version
 * written from the unmasked sum, or abandoned.
 */
export class SecureRounds {
  /** Each study's last secure round to end, for the stragglers' messages. */
  private readonly ended = new Map<string, number>();
  private readonly byStudy = new Map<string, { row: RoundRow; state: SecureRound; openFor: (participantId: string) => SecureRoundOpen }>();

  constructor(
    private readonly deps: CoordinatorDeps,
    private readonly hooks: SecureRoundsHooks,
  ) {}

  /** Starts a secure round: its ring and threshold, its per-site openings (each with the site's index). */
  open(row: RoundRow, config: StudyConfig, bounds: RoundBounds, template: TaskTemplate, reported: readonly (number | null)[]): (participantId: string) => SecureRoundOpen {
    const values = weightShapes(template.model).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
    const counts = reported.filter((n): n is number => n !== null && n > 0);
    // A site weighs min(records, cap): the cap is the round's sample cap, else the largest count reported.
    const weightCap = bounds.sampleCap ?? Math.max(1, ...counts);
    const clipNorm = bounds.clipNorm!;
    const threshold = Math.min(row.sampled.length, minimumThreshold(row.sampled.length));
    // Under differential privacy the sites add the noise, each Sk(μ/t) in the ring before masking
    // (shared/fl/secagg/distributedNoise.ts): the inputs are the d values alone (weights ≤ 1, no count
    // coordinate), and the ring is sized for the noisy sum. A round that sampled no site cannot be
    // released (no one adds noise): it is abandoned, and the accountant counts it all the same.
    const privacy = config.privacy && bounds.privacy ? { study: config.privacy, round: bounds.privacy } : null;
    const noise = privacy
      ? distributedPlan(privacy.study, {
          rounds: 1,
          threshold: Math.max(threshold, 1),
          sampled: Math.max(row.sampled.length, 1),
          parameters: values,
          fractionBits: config.secureAggregation?.fractionBits ?? null,
        })
      : null;
    const ring = noise ? { bits: noise.bits, fractionBits: noise.fractionBits } : chooseRing(row.sampled.length, weightCap, clipNorm, config.secureAggregation?.fractionBits ?? null);
    const context = `${row.studyId}/round-${row.number}/${row.id}`;
    // SecAgg+'s sparse graph when the round is large (or the study sets k): a fresh random seed each round; null, the complete graph.
    const graph = roundGraph(row.sampled.length, config.secureAggregation?.neighbours ?? null);
    const state = new SecureRound(
      {
        studyId: row.studyId,
        round: row.number,
        sampled: row.sampled,
        context,
        threshold,
        bits: ring.bits,
        words: (noise ? values : values + 1) * lanes(ring.bits),
        stepMs: Math.min(STEP_MS, Math.max(5_000, config.roundDeadlineMs / 4)),
        maskDeadline: row.deadline.getTime(),
        ...(graph ? { graph: new CommunicationGraph(row.sampled.length, graph) } : {}),
      },
      {
        events: this.deps.events,
        log: this.deps.log,
        now: () => this.deps.clock.now(),
        fail: (reason) => this.hooks.serial(row.studyId, () => this.end(row, reason)),
        finish: (sum, survivors) =>
          this.hooks.serial(row.studyId, async () => {
            const timed = this.deps.metrics?.aggregationStarted();
            const committed = await this.commit(
              row,
              config,
              template,
              sum,
              survivors,
              ring,
              threshold,
              weightCap,
              privacy && noise ? { round: privacy.round, sumNoiseStd: noise.sumNoiseStd } : null,
            ).finally(() => {
              timed?.();
              this.forget(row);
            });
            if (committed) await this.hooks.closed(row, committed);
          }),
      },
    );
    const openFor = (participantId: string): SecureRoundOpen => ({
      index: state.indexOf(participantId),
      sampled: row.sampled.length,
      threshold,
      bits: ring.bits,
      fractionBits: ring.fractionBits,
      clipNorm,
      weightCap,
      context,
      ...(graph ? { graph } : {}),
      ...(noise && privacy ? { noise: { muShare: noise.muShare, recordCap: privacy.study.recordCap } } : {}),
    });
    this.byStudy.get(row.studyId)?.state.stop();
    this.byStudy.set(row.studyId, { row, state, openFor });
    state.start();
    return openFor;
  }

  /** The study's secure round `round`, if this process runs it. */
  private of(studyId: string, round: number): SecureRound {
    const held = this.byStudy.get(studyId);
    if (!held || held.row.number !== round || held.state.phase === 'finished')
      throw new ConsiliumError(ErrorCode.Conflict, `round ${round} of study '${studyId}' is not a secure round in progress`, 409);
    return held.state;
  }

  /** The opening a site needs to (re)join the round in progress: only while keys are still being advertised. */
  pendingFor(studyId: string, participantId: string): SecureRoundOpen | null {
    const held = this.byStudy.get(studyId);
    if (!held || held.state.phase !== 'advertise' || !held.row.sampled.includes(participantId)) return null;
    return held.openFor(participantId);
  }

  advertise(participantId: string, req: AdvertiseRequest): void {
    this.of(req.studyId, req.round).advertise(participantId, req);
  }

  shares(participantId: string, req: ShareKeysRequest): void {
    this.of(req.studyId, req.round).shares(participantId, req);
  }

  /** A reveal that comes after the threshold's worth already unmasked the round is not needed: taken and ignored. */
  reveal(participantId: string, req: RevealRequest): void {
    const held = this.byStudy.get(req.studyId);
    const unmasked = held ? held.row.number === req.round && held.state.phase === 'finished' : this.ended.get(req.studyId) === req.round;
    if (unmasked) return;
    this.of(req.studyId, req.round).reveal(participantId, req);
  }

  /** A masked input's body, checked and summed. */
  masked(studyId: string, round: number, participantId: string, body: Uint8Array): { duplicate: boolean } {
    const state = this.of(studyId, round);
    let decoded: ReturnType<typeof decodeMasked>;
    try {
      decoded = decodeMasked(body);
    } catch (err) {
      throw new ConsiliumError(ErrorCode.BadRequest, `masked input refused: ${(err as Error).message}`, 400);
    }
    return state.maskedInput(participantId, decoded.index, decoded.words, decoded.bits);
  }

  /** A site's tab left: no step of its round waits for it. */
  departed(studyId: string, participantId: string): void {
    this.byStudy.get(studyId)?.state.departed(participantId);
  }

  /** Whether the study's open round is secure and held here. */
  holds(studyId: string, round: number): boolean {
    // Held until its own steps end it: a round whose last step is still unmasking or committing (phase
    // finished, not yet forgotten) closes itself; the round's deadline must not abandon it meanwhile.
    const held = this.byStudy.get(studyId);
    return !!held && held.row.number === round;
  }

  /** An admin ended the round, or the process stops: its state goes, revealing nothing. */
  drop(studyId: string): void {
    const held = this.byStudy.get(studyId);
    if (!held) return;
    held.state.stop();
    this.forget(held.row);
  }

  stopAll(): void {
    for (const { state } of this.byStudy.values()) state.stop();
    this.byStudy.clear();
  }

  private forget(row: RoundRow): void {
    if (this.byStudy.get(row.studyId)?.row.id === row.id) this.byStudy.delete(row.studyId);
    this.ended.set(row.studyId, row.number);
  }

  private async end(row: RoundRow, reason: string): Promise<void> {
    this.forget(row);
    await this.hooks.abandon(row, reason);
  }

  /**
   * The version from the unmasked sum: Σ w·clip(Δ) / Σ w, the weight carried in the last coordinate;
   * under differential privacy (`privateRound`), (Σ w·clip(Δ) + the sites' noise) / q·W, the fixed
   * denominator, as central DP-FedAvg divides, and no noise of the server's.
   */
  private async commit(
    row: RoundRow,
    config: StudyConfig,
    template: TaskTemplate,
    sum: Uint32Array,
    survivors: number[],
    ring: { bits: 32 | 64; fractionBits: number },
    threshold: number,
    weightCap: number,
    privateRound: { round: RoundPrivacy; sumNoiseStd: number } | null = null,
  ): Promise<Committed | null> {
    const startedAt = new Date(this.deps.clock.now()).toISOString();
    const decoded = decodeFixed(sum, ring.fractionBits, ring.bits);
    const weight = privateRound ? privateRound.round.denominator : decoded[decoded.length - 1];
    if (!(weight > 0)) {
      await this.hooks.abandon(row, `secure aggregation: the unmasked sum carries a total weight of ${weight}; a site sent a malformed input`);
      return null;
    }
    const { global, state } = await loadBase(this.deps.db, row);
    let at = 0;
    const mean = global.map((t) => {
      const m = new Float64Array(t.length);
      for (let i = 0; i < t.length; i++) m[i] = decoded[at + i] / weight;
      at += t.length;
      return m;
    });
    const strategy = createStrategy(config.strategy);
    const step = strategy.meanStep!(global, mean, state);
    const report = {
      strategy: config.strategy.name,
      normBound: row.bounds?.clipNorm ?? null,
      clipMode: 'fixed' as const,
      sampleCap: weightCap,
      stateReset: step.stateReset,
      updates: [],
      details: step.details,
      startedAt,
      ...(privateRound && config.privacy
        ? {
            privacy: {
              denominator: privateRound.round.denominator,
              // The noise of `threshold` survivors (the least the sum can carry) on each coordinate of the mean.
              noiseStd: privateRound.sumNoiseStd / privateRound.round.denominator,
              epsilon: privateRound.round.epsilon,
              delta: privateRound.round.delta,
              order: privateRound.round.order,
              sampleRate: config.privacy.sampleRate,
              noiseMultiplier: config.privacy.noiseMultiplier,
            },
          }
        : {}),
      secureAggregation: {
        sampled: row.sampled.length,
        survivors,
        threshold,
        bits: ring.bits,
        fractionBits: ring.fractionBits,
        weight,
        sumSha256: createHash('sha256').update(new Uint8Array(sum.buffer, sum.byteOffset, sum.byteLength)).digest('hex'),
      },
    };
    return commitVersion(this.deps, row, config, template, 'secure_sum', { weights: step.weights, state: step.state, report }, {
      contributors: survivors.length,
      totalSamples: Math.round(weight),
      meanTrainLoss: null,
    });
  }
}
