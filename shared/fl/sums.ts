/**
 * The float64 sums every aggregation makes over float32 updates, hand-written for speed: monomorphic
 * (Float32Array in, Float64Array out), and four updates per pass where the caller has them, so each
 * pass reads the model-sized float64 array once for four updates and keeps four independent sums in
 * flight. A running sum's additions wait on each other (one term per add latency), so the mean's
 * accumulate carries none: each update's sum of squares is taken in the pass that measures its
 * distance to the mean, next to that distance, where the two sums run side by side. Grouping never changes a result: every coordinate, and every per-update sum, takes its
 * terms in the same order as the one-update loop (tensor after tensor, coordinate after coordinate),
 * so one by one (streaming) and four at a time (in memory) give the same bits.
 */

/**
 * `acc += w·d` over one tensor. With `fresh` (acc is all +0, as allocated) it writes `0 + w·d`
 * without reading acc: the same bits, but a freshly mapped page is touched once, by the write, not
 * first read (mapping the zero page) and then written (copying it), which halves the page faults of
 * the first update, the bulk of the accumulate's cost for a large model on a busy machine.
 */
export function addScaledInto(acc: Float64Array, d: Float32Array, w: number, fresh = false): void {
  const n = acc.length;
  if (d.length !== n) throw new Error(`tensor of ${d.length} values added to ${n}`);
  if (fresh) for (let i = 0; i < n; i++) acc[i] = 0 + w * d[i];
  else for (let i = 0; i < n; i++) acc[i] += w * d[i];
}

/** Four `addScaledInto` at once (same bits); `fresh` as there. */
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
  fresh = false,
): void {
  const n = acc.length;
  if (d0.length !== n || d1.length !== n || d2.length !== n || d3.length !== n) throw new Error(`tensor lengths differ from ${n}`);
  if (fresh) {
    // acc is all +0: start from 0 without reading it (see addScaledInto).
    for (let i = 0; i < n; i++) {
      let v = 0;
      v += w0 * d0[i];
      v += w1 * d1[i];
      v += w2 * d2[i];
      v += w3 * d3[i];
      acc[i] = v;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    // ((((acc + w0·x0) + w1·x1) + w2·x2) + w3·x3), as four single adds would do.
    let v = acc[i];
    v += w0 * d0[i];
    v += w1 * d1[i];
    v += w2 * d2[i];
    v += w3 * d3[i];
    acc[i] = v;
  }
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

/**
 * `s[0] + ‖d − m‖²` and `s[1] + ‖d‖²` over one tensor, both continued in order, in one pass: the
 * two sums are independent, so the second costs next to nothing where one alone waits on its
 * additions (each term's add waits for the previous one).
 */
export function squaredDistanceAndNormFrom(m: Float64Array, d: Float32Array, s: Float64Array): void {
  const n = m.length;
  if (d.length !== n) throw new Error(`tensor of ${d.length} values measured against ${n}`);
  let s0 = s[0];
  let s1 = s[1];
  for (let i = 0; i < n; i++) {
    const x = d[i];
    const e = x - m[i];
    s0 += e * e;
    s1 += x * x;
  }
  s[0] = s0;
  s[1] = s1;
}

/**
 * Four `squaredDistanceAndNormFrom` at once (same bits): distances carried in `s[0..3]`, sums of
 * squares in `s[4..7]`.
 */
export function squaredDistanceAndNormFrom4(m: Float64Array, d0: Float32Array, d1: Float32Array, d2: Float32Array, d3: Float32Array, s: Float64Array): void {
  const n = m.length;
  if (d0.length !== n || d1.length !== n || d2.length !== n || d3.length !== n) throw new Error(`tensor lengths differ from ${n}`);
  let s0 = s[0];
  let s1 = s[1];
  let s2 = s[2];
  let s3 = s[3];
  let q0 = s[4];
  let q1 = s[5];
  let q2 = s[6];
  let q3 = s[7];
  for (let i = 0; i < n; i++) {
    const v = m[i];
    let x = d0[i];
    let e = x - v;
    s0 += e * e;
    q0 += x * x;
    x = d1[i];
    e = x - v;
    s1 += e * e;
    q1 += x * x;
    x = d2[i];
    e = x - v;
    s2 += e * e;
    q2 += x * x;
    x = d3[i];
    e = x - v;
    s3 += e * e;
    q3 += x * x;
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
  s[4] = q0;
  s[5] = q1;
  s[6] = q2;
  s[7] = q3;
}

/** Four updates' sums of squares at once (same bits as one by one), carried in `s[0..3]`. */
export function sumOfSquaresFrom4(d0: Float32Array, d1: Float32Array, d2: Float32Array, d3: Float32Array, s: Float64Array): void {
  const n = d0.length;
  if (d1.length !== n || d2.length !== n || d3.length !== n) throw new Error(`tensor lengths differ from ${n}`);
  let s0 = s[0];
  let s1 = s[1];
  let s2 = s[2];
  let s3 = s[3];
  for (let i = 0; i < n; i++) {
    let x = d0[i];
    s0 += x * x;
    x = d1[i];
    s1 += x * x;
    x = d2[i];
    s2 += x * x;
    x = d3[i];
    s3 += x * x;
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

/**
 * Each update's distance to `m` and sum of squares together (`squaredDistancesTo` and `sumsOfSquares`,
 * the same bits), four updates per pass over `m`.
 */
export function squaredDistancesAndNormsTo(m: readonly Float64Array[], deltas: readonly (readonly Float32Array[])[]): { distances: Float64Array; norms: Float64Array } {
  const distances = new Float64Array(deltas.length);
  const norms = new Float64Array(deltas.length);
  const s = new Float64Array(8);
  let k = 0;
  for (; k + 4 <= deltas.length; k += 4) {
    s.fill(0);
    const [a, b, c, d] = [deltas[k], deltas[k + 1], deltas[k + 2], deltas[k + 3]];
    for (let t = 0; t < m.length; t++) squaredDistanceAndNormFrom4(m[t], a[t], b[t], c[t], d[t], s);
    distances.set(s.subarray(0, 4), k);
    norms.set(s.subarray(4, 8), k);
  }
  const s2 = new Float64Array(2);
  for (; k < deltas.length; k++) {
    s2.fill(0);
    for (let t = 0; t < m.length; t++) squaredDistanceAndNormFrom(m[t], deltas[k][t], s2);
    distances[k] = s2[0];
    norms[k] = s2[1];
  }
  return { distances, norms };
}

/** Each update's sum of squares (the same bits as `sumOfSquares`), four updates per pass. */
export function sumsOfSquares(deltas: readonly (readonly Float32Array[])[]): Float64Array {
  const out = new Float64Array(deltas.length);
  const s = new Float64Array(4);
  let k = 0;
  for (; k + 4 <= deltas.length; k += 4) {
    s.fill(0);
    const [a, b, c, d] = [deltas[k], deltas[k + 1], deltas[k + 2], deltas[k + 3]];
    for (let t = 0; t < a.length; t++) sumOfSquaresFrom4(a[t], b[t], c[t], d[t], s);
    out.set(s, k);
  }
  for (; k < deltas.length; k++) {
    let s1 = 0;
    for (const t of deltas[k]) s1 = sumOfSquaresFrom(t, s1);
    out[k] = s1;
  }
  return out;
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
