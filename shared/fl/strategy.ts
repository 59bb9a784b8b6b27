import type { WeightedUpdate } from './fedavg';
import type { AggregationReport, UpdateReport } from './report';
import type { ServerState } from './state';
import { clipUpdates, type NormBoundOptions } from './normBound';
import { squaredDistancesTo, sumsOfSquares } from './sums';
import { byParticipant } from './vectors';

export const strategyNames = [
  'fedavg',
  'fedavgm',
  'fedprox',
  'fedadam',
  'fedyogi',
  'fedadagrad',
  'median',
  'trimmed-mean',
  'krum',
  'multi-krum',
] as const;
export type StrategyName = (typeof strategyNames)[number];

export interface AggregationResult {
  /** The next global model. */
  weights: Float32Array[];
  /** What to store for the next round (server-optimiser moments); null for stateless rules. */
  state: ServerState | null;
  report: AggregationReport;
}

/**
 * A server-side aggregation rule. `updates` may come in any order: every strategy works in
 * participant-id order, so a replayed round gives the same bits. `state` is what the previous
 * round's result carried (null on the first round, or when the study switched strategy).
 */
export interface Strategy {
  readonly name: StrategyName;
  /** Fewest updates the rule can aggregate (Krum needs 2f + 3); a study's quorum should not be lower. */
  readonly minUpdates: number;
  aggregate(base: readonly Float32Array[], updates: readonly WeightedUpdate[], state?: ServerState | null): AggregationResult;
  /**
   * The same aggregation fed one update at a time, for rules that need only a running sum (the
   * sample-weighted mean ones, without a norm bound); absent for rules that need every update at
   * once. Its result is `aggregate`'s, bit for bit.
   */
  stream?(base: readonly Float32Array[], participants: readonly Participant[], state?: ServerState | null): StreamingAggregation;
  /**
   * For the rules built on the sample-weighted mean delta: the server step from that mean (which the
   * server sums exactly as updates arrive). Absent for rules that need every update.
   */
  meanStep?(base: readonly Float32Array[], mean: Float64Array[], state: ServerState | null): MeanStepResult;
}

export interface MeanStepResult {
  weights: Float32Array[];
  state: ServerState | null;
  details: Record<string, number>;
  /** Stored state of another strategy was dropped. */
  stateReset: boolean;
}

export interface Participant {
  participantId: string;
  numSamples: number;
}

/**
 * One round's aggregation, fed update by update so that memory holds one at a time: every update
 * in `order` is given to `add`, then every one again, in the same order, to `measure` (its distance
 * to the aggregate and its norm, for the report); then `finish`.
 */
export interface StreamingAggregation {
  /** Indices into the participants given, in participant-id order: the order to feed their updates in. */
  readonly order: readonly number[];
  /**
   * Each update once, in `order`, then each again for `measure`. Either may hold the update (not a
   * copy) until three more come, to take four per pass: it must not change after it is handed over.
   */
  add(delta: readonly Float32Array[]): void;
  measure(delta: readonly Float32Array[]): void;
  finish(): AggregationResult;
}

export type StrategyErrorCode = 'no_updates' | 'too_few_updates' | 'shape_mismatch' | 'bad_samples' | 'bad_state';

/** A round the rule cannot aggregate as given; the coordinator decides what to do with the round. */
export class StrategyError extends Error {
  constructor(
    readonly code: StrategyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StrategyError';
  }
}

/** What one rule computes once the updates are checked, ordered and norm-bounded. */
export interface RuleOutput {
  weights: Float32Array[];
  /** The combined update before any server optimiser: each update's reported distance is measured to it. */
  aggregate: Float64Array[];
  state: ServerState | null;
  /** Per update, in participant-id order; omitted when every update enters the rule alike. */
  selected?: boolean[];
  weight?: (number | null)[];
  score?: (number | null)[];
  details?: Record<string, number>;
  /**
   * Each input's squared distance to `aggregate`, where the rule has them already (Krum): bit for
   * bit what the report's pass would measure, which it then skips.
   */
  distances?: Float64Array;
}

export type Rule = (base: readonly Float32Array[], ordered: readonly WeightedUpdate[], state: ServerState | null) => RuleOutput;

export interface RuleDefinition {
  name: StrategyName;
  minUpdates: number;
  /** Whether the rule weights by sample count (then every count must be positive). */
  weighted: boolean;
  normBound: NormBoundOptions | null;
  rule: Rule;
}

/**
 * The steps every strategy shares around its rule: refuse what no rule can aggregate, fix the
 * order, clip to the round's norm bound, drop state that belongs to another strategy, and describe
 * each update for the admin console.
 */
export function defineStrategy(def: RuleDefinition): Strategy {
  return {
    name: def.name,
    minUpdates: def.minUpdates,
    aggregate(base, updates, state = null) {
      const ordered = checkUpdates(def, base, updates);
      const norms = Array.from(sumsOfSquares(ordered.map((u) => u.delta)), Math.sqrt);
      const clip = def.normBound ? clipUpdates(ordered, norms, def.normBound) : null;
      const inputs = clip ? clip.updates : ordered;
      const { prior, stateReset } = usableState(def.name, state, base);

      const out = def.rule(base, inputs, prior);
      const distances = out.distances ?? squaredDistancesTo(out.aggregate, inputs.map((u) => u.delta));
      const report: UpdateReport[] = inputs.map((u, i) => ({
        participantId: u.participantId,
        numSamples: u.numSamples,
        norm: norms[i],
        clipped: clip ? clip.scales[i] < 1 : false,
        scale: clip ? clip.scales[i] : 1,
        selected: out.selected ? out.selected[i] : true,
        weight: out.weight ? out.weight[i] : null,
        score: out.score ? out.score[i] : null,
        distance: Math.sqrt(distances[i]),
      }));
      return {
        weights: out.weights,
        state: out.state,
        report: { strategy: def.name, normBound: clip ? clip.bound : null, stateReset, updates: report, details: out.details ?? {} },
      };
    },
  };
}

/** What no rule can aggregate, refused; the updates in participant-id order. */
export function checkUpdates<U extends WeightedUpdate>(
  def: Pick<RuleDefinition, 'name' | 'minUpdates' | 'weighted'>,
  base: readonly Float32Array[],
  updates: readonly U[],
): U[] {
  if (updates.length === 0) throw new StrategyError('no_updates', `${def.name} needs at least one update`);
  if (updates.length < def.minUpdates)
    throw new StrategyError('too_few_updates', `${def.name} needs at least ${def.minUpdates} updates, got ${updates.length}`);
  const ordered = byParticipant(updates);
  for (const u of ordered) {
    checkLayout(base, u.participantId, u.delta);
    checkSamples(def, u);
  }
  return ordered;
}

export function checkLayout(base: readonly Float32Array[], participantId: string, delta: readonly Float32Array[]): void {
  if (delta.length !== base.length)
    throw new StrategyError('shape_mismatch', `update from ${participantId} has ${delta.length} tensors, the model ${base.length}`);
  for (let t = 0; t < base.length; t++)
    if (delta[t].length !== base[t].length) throw new StrategyError('shape_mismatch', `update from ${participantId}: tensor ${t} has the wrong length`);
}

export function checkSamples(def: Pick<RuleDefinition, 'name' | 'weighted'>, u: Participant): void {
  if (!Number.isFinite(u.numSamples) || u.numSamples < 0 || (def.weighted && u.numSamples === 0))
    throw new StrategyError('bad_samples', `update from ${u.participantId} claims ${u.numSamples} samples; ${def.name} needs a positive count`);
}

/** The stored state if it is this strategy's (and fits the model); state of another strategy is dropped. */
export function usableState(name: StrategyName, state: ServerState | null, base: readonly Float32Array[]): { prior: ServerState | null; stateReset: boolean } {
  const stateReset = state !== null && state.strategy !== name;
  const prior = stateReset ? null : state;
  if (prior) checkStateLayout(prior, base);
  return { prior, stateReset };
}

function checkStateLayout(state: ServerState, base: readonly Float32Array[]): void {
  for (const [slot, tensors] of Object.entries(state.slots)) {
    if (tensors.length !== base.length || tensors.some((t, i) => t.length !== base[i].length))
      throw new StrategyError('bad_state', `stored ${state.strategy} state '${slot}' does not match the model's layout`);
  }
}

/** Sample weights nᵢ / Σ n, in the given order. */
export function sampleWeights(ordered: readonly Participant[]): number[] {
  const total = ordered.reduce((s, u) => s + u.numSamples, 0);
  return ordered.map((u) => u.numSamples / total);
}
