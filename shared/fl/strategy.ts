import type { WeightedUpdate } from './fedavg';
import type { AggregationReport, UpdateReport } from './report';
import type { ServerState } from './state';
import { clipUpdates, type NormBoundOptions } from './normBound';
import { byParticipant, l2Norm, squaredDistance, type Tensors } from './vectors';

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
  aggregate: Tensors;
  state: ServerState | null;
  /** Per update, in participant-id order; omitted when every update enters the rule alike. */
  selected?: boolean[];
  weight?: (number | null)[];
  score?: (number | null)[];
  details?: Record<string, number>;
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
      if (updates.length === 0) throw new StrategyError('no_updates', `${def.name} needs at least one update`);
      if (updates.length < def.minUpdates)
        throw new StrategyError('too_few_updates', `${def.name} needs at least ${def.minUpdates} updates, got ${updates.length}`);
      const ordered = byParticipant(updates);
      for (const u of ordered) {
        if (u.delta.length !== base.length)
          throw new StrategyError('shape_mismatch', `update from ${u.participantId} has ${u.delta.length} tensors, the model ${base.length}`);
        for (let t = 0; t < base.length; t++)
          if (u.delta[t].length !== base[t].length)
            throw new StrategyError('shape_mismatch', `update from ${u.participantId}: tensor ${t} has the wrong length`);
        if (!Number.isFinite(u.numSamples) || u.numSamples < 0 || (def.weighted && u.numSamples === 0))
          throw new StrategyError('bad_samples', `update from ${u.participantId} claims ${u.numSamples} samples; ${def.name} needs a positive count`);
      }
      const norms = ordered.map((u) => l2Norm(u.delta));
      const clip = def.normBound ? clipUpdates(ordered, norms, def.normBound) : null;
      const inputs = clip ? clip.updates : ordered;

      let prior = state;
      const stateReset = prior !== null && prior.strategy !== def.name;
      if (stateReset) prior = null;
      if (prior) checkStateLayout(prior, base);

      const out = def.rule(base, inputs, prior);
      const report: UpdateReport[] = inputs.map((u, i) => ({
        participantId: u.participantId,
        numSamples: u.numSamples,
        norm: norms[i],
        clipped: clip ? clip.scales[i] < 1 : false,
        scale: clip ? clip.scales[i] : 1,
        selected: out.selected ? out.selected[i] : true,
        weight: out.weight ? out.weight[i] : null,
        score: out.score ? out.score[i] : null,
        distance: Math.sqrt(squaredDistance(u.delta, out.aggregate)),
      }));
      return {
        weights: out.weights,
        state: out.state,
        report: { strategy: def.name, normBound: clip ? clip.bound : null, stateReset, updates: report, details: out.details ?? {} },
      };
    },
  };
}

function checkStateLayout(state: ServerState, base: readonly Float32Array[]): void {
  for (const [slot, tensors] of Object.entries(state.slots)) {
    if (tensors.length !== base.length || tensors.some((t, i) => t.length !== base[i].length))
      throw new StrategyError('bad_state', `stored ${state.strategy} state '${slot}' does not match the model's layout`);
  }
}

/** Sample weights nᵢ / Σ n, in the given order. */
export function sampleWeights(ordered: readonly WeightedUpdate[]): number[] {
  const total = ordered.reduce((s, u) => s + u.numSamples, 0);
  return ordered.map((u) => u.numSamples / total);
}
