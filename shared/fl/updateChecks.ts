import type { WeightShape } from '../tasks/modelSpec';
import type { Tensor } from '../weights/codec';

export type UpdateCheck = { ok: true } | { ok: false; code: 'update_shape_mismatch' | 'update_not_finite'; reason: string };

/** Shape and finiteness of an update against the model it claims to update. */
export function checkUpdateTensors(tensors: readonly Tensor[], expected: readonly WeightShape[]): UpdateCheck {
  if (tensors.length !== expected.length)
    return { ok: false, code: 'update_shape_mismatch', reason: `expected ${expected.length} tensors, got ${tensors.length}` };
  for (let t = 0; t < expected.length; t++) {
    const want = expected[t].shape;
    const got = tensors[t].shape;
    if (want.length !== got.length || want.some((d, i) => d !== got[i]))
      return { ok: false, code: 'update_shape_mismatch', reason: `tensor ${t} (${expected[t].name}) has shape [${got}], expected [${want}]` };
    const data = tensors[t].data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]))
        return { ok: false, code: 'update_not_finite', reason: `tensor ${t} (${expected[t].name}) holds a non-finite value at index ${i}` };
    }
  }
  return { ok: true };
}
