import type { WeightShape } from '../tasks/modelSpec';
import type { Tensor } from '../weights/codec';
import { checkTensors } from './checks';

export type UpdateCheck = { ok: true } | { ok: false; code: 'update_shape_mismatch' | 'update_not_finite'; reason: string };

/** Shape and finiteness of an update against the model it claims to update (see `checkUpdate` for the full set). */
export function checkUpdateTensors(tensors: readonly Tensor[], expected: readonly WeightShape[]): UpdateCheck {
  const r = checkTensors(tensors, expected);
  if (r.ok) return { ok: true };
  if (r.code !== 'update_shape_mismatch' && r.code !== 'update_not_finite') throw new Error(`unexpected check ${r.code}`);
  return { ok: false, code: r.code, reason: r.reason };
}
