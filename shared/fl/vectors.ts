/**
 * Arithmetic over a model held as one Float32Array per tensor, the layout the weight codec decodes
 * to. Sums run in float64 so that rounding does not depend on model size or on summation order
 * beyond the fixed one the callers choose.
 */
export type Tensors = readonly ArrayLike<number>[];

export function parameterCount(tensors: Tensors): number {
  let n = 0;
  for (const t of tensors) n += t.length;
  return n;
}

export function sumOfSquares(tensors: Tensors): number {
  let s = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++) s += t[i] * t[i];
  return s;
}

export function l2Norm(tensors: Tensors): number {
  return Math.sqrt(sumOfSquares(tensors));
}

/** ‖a − b‖²; both must have the same layout. */
export function squaredDistance(a: Tensors, b: Tensors): number {
  let s = 0;
  for (let t = 0; t < a.length; t++) {
    const x = a[t];
    const y = b[t];
    for (let i = 0; i < x.length; i++) {
      const d = x[i] - y[i];
      s += d * d;
    }
  }
  return s;
}

export function scaleTensors(tensors: readonly Float32Array[], factor: number): Float32Array[] {
  return tensors.map((t) => {
    const out = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) out[i] = t[i] * factor;
    return out;
  });
}

/** `base + rate · step`, computed in float64 and rounded once to float32. */
export function addScaled(base: readonly Float32Array[], step: Tensors, rate = 1): Float32Array[] {
  return base.map((b, t) => {
    const s = step[t];
    const out = new Float32Array(b.length);
    for (let i = 0; i < out.length; i++) out[i] = b[i] + rate * s[i];
    return out;
  });
}

export function zerosLike(tensors: readonly ArrayLike<number>[]): Float32Array[] {
  return tensors.map((t) => new Float32Array(t.length));
}

/** Participant-id order: the fixed order every aggregation runs in, whatever the arrival order. */
export function byParticipant<T extends { participantId: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0));
}
