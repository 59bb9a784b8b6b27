import type { WeightedUpdate } from '../../shared/fl/fedavg';
import { createStrategy, type StrategyConfig } from '../../shared/fl/registry';
import type { AggregationReport } from '../../shared/fl/report';
import type { ServerState } from '../../shared/fl/state';
import { StrategyError, type AggregationResult, type StrategyErrorCode } from '../../shared/fl/strategy';

/**
 * An aggregation packed for a worker thread. Arrays travel by transfer, never by structured
 * clone: either copied once into one buffer per role (the caller keeps its arrays), or, when the
 * caller hands them over, each tensor's own buffer moves as it is, with no copy at all.
 */
export interface PackedTensors {
  /** Float32 values, tensor after tensor (for deltas: update after update). */
  buffer: ArrayBuffer;
  lengths: number[];
}

export interface PackedState {
  strategy: ServerState['strategy'];
  step: number;
  slots: string[];
  data: ArrayBuffer;
}

export interface AggregationJob {
  id: number;
  config: StrategyConfig;
  lengths: number[];
  /** One packed buffer, or one buffer per tensor when handed over. */
  base: ArrayBuffer | ArrayBuffer[];
  participants: { participantId: string; numSamples: number }[];
  /** n × (Σ lengths) values in participant order, or per update one buffer per tensor. */
  deltas: ArrayBuffer | ArrayBuffer[][];
  state: PackedState | null;
}

export type AggregationReply =
  | { id: number; ok: true; weights: PackedTensors; state: PackedState | null; report: AggregationReport }
  | { id: number; ok: false; error: { message: string; code: StrategyErrorCode | null } };

export function packTensors(groups: readonly (readonly Float32Array[])[]): ArrayBuffer {
  let total = 0;
  for (const g of groups) for (const t of g) total += t.length;
  const out = new Float32Array(total);
  let off = 0;
  for (const g of groups)
    for (const t of g) {
      out.set(t, off);
      off += t.length;
    }
  return out.buffer;
}

/** Views onto `buffer`, `groups` times over the same tensor layout. */
export function unpackTensors(buffer: ArrayBuffer, lengths: readonly number[], groups = 1): Float32Array[][] {
  const out: Float32Array[][] = [];
  let off = 0;
  for (let g = 0; g < groups; g++) {
    out.push(
      lengths.map((n) => {
        const t = new Float32Array(buffer, off * 4, n);
        off += n;
        return t;
      }),
    );
  }
  if (off * 4 !== buffer.byteLength) throw new Error(`packed tensors hold ${buffer.byteLength / 4} values, expected ${off}`);
  return out;
}

export function packState(state: ServerState | null): PackedState | null {
  if (!state) return null;
  const slots = Object.keys(state.slots);
  return { strategy: state.strategy, step: state.step, slots, data: packTensors(slots.map((s) => state.slots[s])) };
}

export function unpackState(packed: PackedState | null, lengths: readonly number[]): ServerState | null {
  if (!packed) return null;
  const groups = unpackTensors(packed.data, lengths, packed.slots.length);
  return { strategy: packed.strategy, step: packed.step, slots: Object.fromEntries(packed.slots.map((s, i) => [s, groups[i]])) };
}

/**
 * With `handOver`, tensors that own their whole buffer (as decoded ones do) are transferred
 * without a copy and are unusable to the caller afterwards; any other tensor is copied.
 */
export function packJob(
  id: number,
  config: StrategyConfig,
  base: readonly Float32Array[],
  updates: readonly WeightedUpdate[],
  state: ServerState | null,
  handOver = false,
): { job: AggregationJob; transfer: ArrayBuffer[] } {
  const lengths = base.map((t) => t.length);
  for (const u of updates)
    if (u.delta.length !== base.length || u.delta.some((t, i) => t.length !== lengths[i]))
      throw new StrategyError('shape_mismatch', `update from ${u.participantId} does not match the model's layout`);
  const packedState = packStateFor(config, state, lengths);
  const transfer: ArrayBuffer[] = packedState ? [packedState.data] : [];
  let jobBase: AggregationJob['base'];
  let deltas: AggregationJob['deltas'];
  if (handOver) {
    const seen = new Set<ArrayBufferLike>();
    const own = (t: Float32Array): ArrayBuffer => {
      const b = t.buffer;
      const whole = b instanceof ArrayBuffer && t.byteOffset === 0 && t.byteLength === b.byteLength && !seen.has(b);
      const out = whole ? b : (t.slice().buffer as ArrayBuffer);
      seen.add(out);
      transfer.push(out);
      return out;
    };
    jobBase = base.map(own);
    deltas = updates.map((u) => u.delta.map(own));
  } else {
    jobBase = packTensors([base]);
    deltas = packTensors(updates.map((u) => u.delta));
    transfer.push(jobBase, deltas);
  }
  const job: AggregationJob = {
    id,
    config,
    lengths,
    base: jobBase,
    participants: updates.map((u) => ({ participantId: u.participantId, numSamples: u.numSamples })),
    deltas,
    state: packedState,
  };
  return { job, transfer };
}

/**
 * The state as the worker should see it. A state of another strategy is ignored by the rule (and
 * reported as a reset), so its buffers need not travel; one of this strategy but the wrong layout
 * is refused here exactly as inline.
 */
function packStateFor(config: StrategyConfig, state: ServerState | null, lengths: readonly number[]): PackedState | null {
  if (!state) return null;
  if (state.strategy !== config.name) return { strategy: state.strategy, step: state.step, slots: [], data: new ArrayBuffer(0) };
  const fits = Object.values(state.slots).every((ts) => ts.length === lengths.length && ts.every((t, i) => t.length === lengths[i]));
  if (!fits) throw new StrategyError('bad_state', `stored ${state.strategy} state '${Object.keys(state.slots)[0]}' does not match the model's layout`);
  return packState(state);
}

/** What the worker thread runs: the same `createStrategy(...).aggregate` as inline. */
export function runJob(job: AggregationJob): { reply: AggregationReply; transfer: ArrayBuffer[] } {
  try {
    const { lengths } = job;
    const [base] = Array.isArray(job.base) ? [job.base.map((b) => new Float32Array(b))] : unpackTensors(job.base, lengths);
    const deltas = Array.isArray(job.deltas)
      ? job.deltas.map((bs) => bs.map((b) => new Float32Array(b)))
      : unpackTensors(job.deltas, lengths, job.participants.length);
    const updates = job.participants.map((p, i) => ({ ...p, delta: deltas[i] }));
    const result = createStrategy(job.config).aggregate(base, updates, unpackState(job.state, lengths));
    const weights = { buffer: packTensors([result.weights]), lengths };
    const state = packState(result.state);
    return {
      reply: { id: job.id, ok: true, weights, state, report: result.report },
      transfer: [weights.buffer, ...(state ? [state.data] : [])],
    };
  } catch (err) {
    const code = err instanceof StrategyError ? err.code : null;
    return { reply: { id: job.id, ok: false, error: { message: err instanceof Error ? err.message : String(err), code } }, transfer: [] };
  }
}

export function unpackReply(reply: AggregationReply & { ok: true }): AggregationResult {
  const [weights] = unpackTensors(reply.weights.buffer, reply.weights.lengths);
  return { weights, state: unpackState(reply.state, reply.weights.lengths), report: reply.report };
}
