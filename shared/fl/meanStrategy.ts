import { WeightedMeanAccumulator } from './meanAccumulator';
import type { NormBoundOptions } from './normBound';
import type { UpdateReport } from './report';
import type { ServerState } from './state';
import {
  checkLayout,
  checkSamples,
  checkUpdates,
  defineStrategy,
  sampleWeights,
  StrategyError,
  usableState,
  type AggregationResult,
  type Participant,
  type Strategy,
  type StrategyName,
  type StreamingAggregation,
} from './strategy';
import { squaredDistancesAndNormsTo } from './sums';

/** What a server rule makes of the round's sample-weighted mean delta. */
export interface ServerStep {
  weights: Float32Array[];
  state: ServerState | null;
  details?: Record<string, number>;
}

/**
 * A strategy built on the sample-weighted mean delta (FedAvg, FedAvgM, FedProx, FedAdam, FedYogi,
 * FedAdagrad): only its server step differs.
 */
export interface MeanRuleDefinition {
  name: StrategyName;
  normBound: NormBoundOptions | null;
  step(base: readonly Float32Array[], mean: Float64Array[], state: ServerState | null): ServerStep;
}

const weighted = (name: StrategyName) => ({ name, minUpdates: 1, weighted: true });

/**
 * A mean-based strategy in its two forms. Without a norm bound the mean is a running sum, so the
 * strategy can `stream`; `aggregate` then runs the very same stream over updates in memory (four
 * per pass). A norm bound needs the round's median norm before the first update is added, so it
 * takes the in-memory path of every rule (`defineStrategy`).
 */
export function defineMeanStrategy(def: MeanRuleDefinition): Strategy {
  const meanStep = (base: readonly Float32Array[], mean: Float64Array[], state: ServerState | null) => {
    const { prior, stateReset } = usableState(def.name, state, base);
    const out = def.step(base, mean, prior);
    return { weights: out.weights, state: out.state, details: out.details ?? {}, stateReset };
  };
  if (def.normBound)
    return {
      meanStep,
      ...defineStrategy({
      ...weighted(def.name),
      normBound: def.normBound,
      rule(base, ordered, state) {
        const acc = new WeightedMeanAccumulator(
          base.map((b) => b.length),
          ordered.reduce((s, u) => s + u.numSamples, 0),
        );
        acc.addAll(
          ordered.map((u) => u.numSamples),
          ordered.map((u) => u.delta),
        );
        return { ...def.step(base, acc.sum, state), aggregate: acc.sum, weight: sampleWeights(ordered) };
      },
      }),
    };
  return {
    meanStep,
    name: def.name,
    minUpdates: 1,
    stream: (base, participants, state = null) => new MeanStream(def, base, participants, state),
    aggregate(base, updates, state = null) {
      checkUpdates(weighted(def.name), base, updates);
      const stream = new MeanStream(def, base, updates, state);
      const deltas = stream.order.map((i) => updates[i].delta);
      stream.addAll(deltas);
      stream.measureAll(deltas);
      return stream.finish();
    },
  };
}

/** Participant-id order as indices (a stable sort, as `byParticipant`). */
function participantOrder(participants: readonly Participant[]): number[] {
  return participants
    .map((_, i) => i)
    .sort((a, b) => {
      const x = participants[a].participantId;
      const y = participants[b].participantId;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
}

class MeanStream implements StreamingAggregation {
  readonly order: readonly number[];
  private readonly ordered: Participant[];
  private readonly acc: WeightedMeanAccumulator;
  private readonly norms: Float64Array;
  private readonly distances: Float64Array;
  /** Updates handed to `measure` and not yet measured (at most three between calls). */
  private readonly waiting: (readonly Float32Array[])[] = [];
  private readonly prior: ServerState | null;
  private readonly stateReset: boolean;
  private added = 0;
  private measured = 0;

  constructor(
    private readonly def: MeanRuleDefinition,
    private readonly base: readonly Float32Array[],
    participants: readonly Participant[],
    state: ServerState | null,
  ) {
    if (participants.length === 0) throw new StrategyError('no_updates', `${def.name} needs at least one update`);
    this.order = participantOrder(participants);
    this.ordered = this.order.map((i) => participants[i]);
    for (const p of this.ordered) checkSamples(weighted(def.name), p);
    ({ prior: this.prior, stateReset: this.stateReset } = usableState(def.name, state, base));
    this.acc = new WeightedMeanAccumulator(
      base.map((b) => b.length),
      this.ordered.reduce((s, u) => s + u.numSamples, 0),
    );
    this.norms = new Float64Array(participants.length);
    this.distances = new Float64Array(participants.length);
  }

  add(delta: readonly Float32Array[]): void {
    const p = this.next('add', this.added);
    checkLayout(this.base, p.participantId, delta);
    this.acc.add(p.numSamples, delta);
    this.added++;
  }

  /** `add` for every update at once, in `order`. */
  addAll(deltas: readonly (readonly Float32Array[])[]): void {
    if (this.added !== 0 || deltas.length !== this.ordered.length) throw new Error('addAll takes every update of the round, first');
    this.ordered.forEach((p, k) => checkLayout(this.base, p.participantId, deltas[k]));
    this.acc.addAll(
      this.ordered.map((p) => p.numSamples),
      deltas,
    );
    this.added = deltas.length;
  }

  /**
   * The update's distance to the mean and its norm, in one pass (the accumulate carries no norm:
   * see sums.ts); held until four are waiting, then measured four per pass.
   */
  measure(delta: readonly Float32Array[]): void {
    const p = this.next('measure', this.measured + this.waiting.length);
    checkLayout(this.base, p.participantId, delta);
    this.waiting.push(delta);
    if (this.waiting.length === 4) this.measureWaiting();
  }

  /** `measure` for every update at once, in `order`. */
  measureAll(deltas: readonly (readonly Float32Array[])[]): void {
    if (this.added !== this.ordered.length || this.measured !== 0 || this.waiting.length !== 0 || deltas.length !== this.ordered.length)
      throw new Error('measureAll takes every update of the round, after the last add');
    this.ordered.forEach((p, k) => checkLayout(this.base, p.participantId, deltas[k]));
    this.record(deltas);
  }

  private measureWaiting(): void {
    this.record(this.waiting);
    this.waiting.length = 0;
  }

  /** Distances and norms of the next updates in order (four per pass, then one by one: the same bits). */
  private record(deltas: readonly (readonly Float32Array[])[]): void {
    const { distances, norms } = squaredDistancesAndNormsTo(this.acc.sum, deltas);
    this.distances.set(distances, this.measured);
    this.norms.set(norms, this.measured);
    this.measured += deltas.length;
  }

  finish(): AggregationResult {
    this.measureWaiting();
    if (this.measured !== this.ordered.length) throw new Error(`${this.def.name}: finish before every update was added and measured`);
    const mean = this.acc.sum;
    const out = this.def.step(this.base, mean, this.prior);
    const weights = sampleWeights(this.ordered);
    const updates: UpdateReport[] = this.ordered.map((p, k) => ({
      participantId: p.participantId,
      numSamples: p.numSamples,
      norm: Math.sqrt(this.norms[k]),
      clipped: false,
      scale: 1,
      selected: true,
      weight: weights[k],
      score: null,
      distance: Math.sqrt(this.distances[k]),
    }));
    return {
      weights: out.weights,
      state: out.state,
      report: { strategy: this.def.name, normBound: null, stateReset: this.stateReset, updates, details: out.details ?? {} },
    };
  }

  /** The participant whose update comes next in this phase. */
  private next(phase: 'add' | 'measure', done: number): Participant {
    const n = this.ordered.length;
    if (phase === 'add' && done >= n) throw new Error(`${this.def.name}: more updates added than the ${n} announced`);
    if (phase === 'measure' && (this.added < n || done >= n)) throw new Error(`${this.def.name}: measure comes after every add, once per update`);
    return this.ordered[done];
  }
}
