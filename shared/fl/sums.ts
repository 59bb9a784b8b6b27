/**
 * The float64 sums every aggregation makes over float32 updates, hand-written for speed: monomorphic
 * (Float32Array in, Float64Array out), and four updates per pass where the caller has them, so each
 * pass reads the model-sized float64 array once for four updates and keeps four independent sums in
 * flight. Grouping never changes a result: every coordinate, and every per-update sum, takes its
 * terms in the same order as the one-update loop (tensor after tensor, coordinate after coordinate),
 * so one by one (streaming) and four at a time (in memory) give the same bits.
 */

/** `acc += w·d` over one tensor; returns `s` plus d's sum of squares, continued in order. */
export function addScaledInto(acc: Float64Array, d: Float32Array, w: number, s: number): number {
  const n = acc.length;
  if (d.length !== n) throw new Error(`tensor of ${d.length} values added to ${n}`);
  for (let i = 0; i < n; i++) {
    const x = d[i];
    acc[i] += w * x;
    s += x * x;
  }
  return s;
}

/** Four `addScaledInto` at once (same bits); `s[0..3]` carry the four sums of squares in and out. */
export function addScaledInto4(
  acc: Float64Array,
  d0: Float32Array,
  d1: Float32Array,
  d2: Float32Array,
  d3: Float32Array,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  s: Float64Array,
): void {
  const n = acc.length;
  if (d0.length !== n || d1.length !== n || d2.length !== n || d3.length !== n) throw new Error(`tensor lengths differ from ${n}`);
  let s0 = s[0];
  let s1 = s[1];
  let s2 = s[2];
  let s3 = s[3];
  for (let i = 0; i < n; i++) {
    const x0 = d0[i];
    const x1 = d1[i];
    const x2 = d2[i];
    const x3 = d3[i];
    // ((((acc + w0·x0) + w1·x1) + w2·x2) + w3·x3), as four single adds would do.
    let v = acc[i];
    v += w0 * x0;
    v += w1 * x1;
    v += w2 * x2;
    v += w3 * x3;
    acc[i] = v;
    s0 += x0 * x0;
    s1 += x1 * x1;
    s2 += x2 * x2;
    s3 += x3 * x3;
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
}

/** `s + ‖d − m‖²` over one tensor, continued in order. */
export function squaredDistanceFrom(m: Float64Array, d: Float32Array, s: number): number {
  const n = m.length;
  if (d.length !== n) throw new Error(`tensor of ${d.length} values measured against ${n}`);
  for (let i = 0; i < n; i++) {
    const e = d[i] - m[i];
    s += e * e;
  }
  return s;
}

/** Four `squaredDistanceFrom` at once (same bits), sums carried in `s[0..3]`. */
export function squaredDistanceFrom4(m: Float64Array, d0: Float32Array, d1: Float32Array, d2: Float32Array, d3: Float32Array, s: Float64Array): void {
  const n = m.length;
  if (d0.length !== n || d1.length !== n || d2.length !== n || d3.length !== n) throw new Error(`tensor lengths differ from ${n}`);
  let s0 = s[0];
  let s1 = s[1];
  let s2 = s[2];
  let s3 = s[3];
  for (let i = 0; i < n; i++) {
    const v = m[i];
    let e = d0[i] - v;
    s0 += e * e;
    e = d1[i] - v;
    s1 += e * e;
    e = d2[i] - v;
    s2 += e * e;
    e = d3[i] - v;
    s3 += e * e;
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
}

/** `s` plus d's sum of squares, continued in order. */
export function sumOfSquaresFrom(d: Float32Array, s: number): number {
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    s += x * x;
  }
  return s;
}

/**
 * Each update's squared distance to `m` (‖Δᵢ − m‖², the same bits as `squaredDistance`), four
 * updates per pass over `m`.
 */
export function squaredDistancesTo(m: readonly Float64Array[], deltas: readonly (readonly Float32Array[])[]): Float64Array {
  const out = new Float64Array(deltas.length);
  const s = new Float64Array(4);
  let k = 0;
  for (; k + 4 <= deltas.length; k += 4) {
    s.fill(0);
    const [a, b, c, d] = [deltas[k], deltas[k + 1], deltas[k + 2], deltas[k + 3]];
    for (let t = 0; t < m.length; t++) squaredDistanceFrom4(m[t], a[t], b[t], c[t], d[t], s);
    out.set(s, k);
  }
  for (; k < deltas.length; k++) {
    let s1 = 0;
    for (let t = 0; t < m.length; t++) s1 = squaredDistanceFrom(m[t], deltas[k][t], s1);
    out[k] = s1;
  }
  return out;
}

/** Each update's sum of squares (the same bits as `sumOfSquares`). */
export function sumsOfSquares(deltas: readonly (readonly Float32Array[])[]): Float64Array {
  return Float64Array.from(deltas, (d) => {
    let s = 0;
    for (const t of d) s = sumOfSquaresFrom(t, s);
    return s;
  });
}

/** `base + step` rounded once to float32: the next model from an aggregated float64 step. */
export function addStep(base: readonly Float32Array[], step: readonly Float64Array[]): Float32Array[] {
  return base.map((b, t) => {
    const s = step[t];
    const out = new Float32Array(b.length);
    for (let i = 0; i < out.length; i++) out[i] = b[i] + s[i];
    return out;
  });
}
