import { ErrorCode } from '../protocol/errors';
import type { WeightShape } from '../tasks/modelSpec';

/** What the server knows about the round an update claims to belong to. */
export interface RoundExpectation {
  baseVersion: number;
  /** Participant ids sampled for the round. */
  sampled: readonly string[];
  /** The model's tensors, as shapes (checked dimension by dimension) or as plain lengths. */
  expected: readonly (WeightShape | number)[];
  /** Largest accepted L2 norm of the whole update; null or absent for none. */
  normBound?: number | null;
}

export interface IncomingUpdate {
  participantId: string;
  baseVersion: number;
  /** Decoded tensors with their shapes, or bare arrays (then only lengths are checked). */
  tensors: readonly (Float32Array | { shape: readonly number[]; data: Float32Array })[];
}

export type RefusalCode =
  | typeof ErrorCode.NotSampled
  | typeof ErrorCode.WrongBaseVersion
  | typeof ErrorCode.UpdateShapeMismatch
  | typeof ErrorCode.UpdateNotFinite
  | typeof ErrorCode.UpdateNormExceeded;

export interface UpdateRefusal {
  ok: false;
  code: RefusalCode;
  reason: string;
  /** Where a non-finite value sits: tensor, index inside it, and index in the flattened update. */
  at?: { tensor: number; index: number; flatIndex: number };
}
export type UpdateCheckResult = { ok: true; norm: number } | UpdateRefusal;

/**
 * Whether an update may enter the round's aggregation, cheapest check first: sender sampled, base
 * version, shape, finite values, then the study's norm bound. A refusal carries a stable code and
 * a reason an admin can read; an accepted update comes back with its L2 norm.
 */
export function checkUpdate(round: RoundExpectation, update: IncomingUpdate): UpdateCheckResult {
  if (!round.sampled.includes(update.participantId))
    return { ok: false, code: ErrorCode.NotSampled, reason: `${update.participantId} was not sampled for this round` };
  if (update.baseVersion !== round.baseVersion)
    return {
      ok: false,
      code: ErrorCode.WrongBaseVersion,
      reason: `the update was trained from version ${update.baseVersion}, the round is based on version ${round.baseVersion}`,
    };
  const tensors = checkTensors(update.tensors, round.expected);
  if (!tensors.ok) return tensors;
  const bound = round.normBound;
  if (bound !== null && bound !== undefined && tensors.norm > bound)
    return { ok: false, code: ErrorCode.UpdateNormExceeded, reason: `the update's L2 norm ${tensors.norm.toPrecision(6)} exceeds the study’s bound ${bound}` };
  return tensors;
}

/** Shape and finiteness alone; returns the L2 norm (float64 sum of squares) when both hold. */
export function checkTensors(
  tensors: IncomingUpdate['tensors'],
  expected: RoundExpectation['expected'],
): { ok: true; norm: number } | UpdateRefusal {
  if (tensors.length !== expected.length)
    return { ok: false, code: ErrorCode.UpdateShapeMismatch, reason: `expected ${expected.length} tensors, got ${tensors.length}` };
  let squares = 0;
  let flat = 0;
  for (let t = 0; t < expected.length; t++) {
    const want = expected[t];
    const got = tensors[t];
    const data = got instanceof Float32Array ? got : got.data;
    const label = typeof want === 'number' ? `tensor ${t}` : `tensor ${t} (${want.name})`;
    if (typeof want === 'number' || got instanceof Float32Array) {
      const length = typeof want === 'number' ? want : want.shape.reduce((a, b) => a * b, 1);
      if (data.length !== length)
        return { ok: false, code: ErrorCode.UpdateShapeMismatch, reason: `${label} holds ${data.length} values, expected ${length}` };
    } else {
      const shape = got.shape;
      if (want.shape.length !== shape.length || want.shape.some((d, i) => d !== shape[i]))
        return { ok: false, code: ErrorCode.UpdateShapeMismatch, reason: `${label} has shape [${shape}], expected [${want.shape}]` };
      if (data.length !== want.shape.reduce((a, b) => a * b, 1))
        return { ok: false, code: ErrorCode.UpdateShapeMismatch, reason: `${label} holds ${data.length} values for shape [${shape}]` };
    }
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      // v − v is NaN for NaN and ±Infinity alike: one comparison on the hot path.
      if (v - v !== 0)
        return {
          ok: false,
          code: ErrorCode.UpdateNotFinite,
          reason: `${label} holds a non-finite value (${v}) at index ${i}`,
          at: { tensor: t, index: i, flatIndex: flat + i },
        };
      squares += v * v;
    }
    flat += data.length;
  }
  return { ok: true, norm: Math.sqrt(squares) };
}
