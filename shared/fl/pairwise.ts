/**
 * Every pair's squared distance ‖Δᵢ − Δⱼ‖², for Krum: n(n − 1)/2 distances over the whole model,
 * the costliest part of the rule. Two things make it fast without changing a bit:
 * - coordinates are taken in chunks small enough that one chunk of every update stays in cache
 *   while all pairs run over it (a pair at a time over whole updates streams them from memory n
 *   times over);
 * - two updates against four others per pass (register blocking): eight independent sums in
 *   flight, six values loaded for eight pairs.
 * Each pair's sum is kept in a table between chunks and continued in order, tensor after tensor,
 * coordinate after coordinate, so it is exactly the one-pair loop's (`squaredDistance`).
 */
const CHUNK = 2048;

/** n × n, row-major, symmetric, zero diagonal. */
export function pairwiseSquaredDistances(deltas: readonly (readonly Float32Array[])[]): Float64Array {
  const n = deltas.length;
  const table = new Float64Array(n * n);
  const tensors = n > 0 ? deltas[0].length : 0;
  for (let t = 0; t < tensors; t++) {
    const length = deltas[0][t].length;
    const columns = deltas.map((d) => {
      if (d[t].length !== length) throw new Error(`tensor ${t} has different lengths across updates`);
      return d[t];
    });
    addPairDistances(columns, length, table);
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) table[j * n + i] = table[i * n + j];
  return table;
}

/**
 * Adds every pair's squared distance over `columns[·][0..length)` to the upper triangle of the n × n
 * `table`, continuing each pair's sum in coordinate order: called once per tensor for whole updates,
 * or once per block of coordinates when the updates are read a block at a time (blockwise.ts), the
 * same bits either way.
 */
export function addPairDistances(columns: readonly Float32Array[], length: number, table: Float64Array): void {
  const n = columns.length;
  for (let lo = 0; lo < length; lo += CHUNK) {
    const hi = Math.min(length, lo + CHUNK);
    // Two rows at a time: rows i and i + 1 against four columns per pass (eight sums in flight,
    // six values read for eight pairs). With n odd the last row is left: it has no pair to its right.
    for (let i = 0; i + 2 <= n; i += 2) {
      const x0 = columns[i];
      const x1 = columns[i + 1];
      const row0 = i * n;
      const row1 = row0 + n;
      table[row0 + i + 1] = distance(x0, x1, lo, hi, table[row0 + i + 1]);
      let j = i + 2;
      for (; j + 4 <= n; j += 4) distances2x4(x0, x1, columns[j], columns[j + 1], columns[j + 2], columns[j + 3], lo, hi, table, row0 + j, row1 + j);
      for (; j < n; j++) {
        table[row0 + j] = distance(x0, columns[j], lo, hi, table[row0 + j]);
        table[row1 + j] = distance(x1, columns[j], lo, hi, table[row1 + j]);
      }
    }
  }
}

/** `s + ‖x − y‖²` over coordinates [lo, hi), continued in order. */
function distance(x: Float32Array, y: Float32Array, lo: number, hi: number, s: number): number {
  for (let k = lo; k < hi; k++) {
    const d = x[k] - y[k];
    s += d * d;
  }
  return s;
}

function distances2x4(
  x0: Float32Array,
  x1: Float32Array,
  y0: Float32Array,
  y1: Float32Array,
  y2: Float32Array,
  y3: Float32Array,
  lo: number,
  hi: number,
  s: Float64Array,
  at0: number,
  at1: number,
): void {
  let s00 = s[at0];
  let s01 = s[at0 + 1];
  let s02 = s[at0 + 2];
  let s03 = s[at0 + 3];
  let s10 = s[at1];
  let s11 = s[at1 + 1];
  let s12 = s[at1 + 2];
  let s13 = s[at1 + 3];
  for (let k = lo; k < hi; k++) {
    const u = x0[k];
    const v = x1[k];
    const c0 = y0[k];
    const c1 = y1[k];
    const c2 = y2[k];
    const c3 = y3[k];
    let d = u - c0;
    s00 += d * d;
    d = u - c1;
    s01 += d * d;
    d = u - c2;
    s02 += d * d;
    d = u - c3;
    s03 += d * d;
    d = v - c0;
    s10 += d * d;
    d = v - c1;
    s11 += d * d;
    d = v - c2;
    s12 += d * d;
    d = v - c3;
    s13 += d * d;
  }
  s[at0] = s00;
  s[at0 + 1] = s01;
  s[at0 + 2] = s02;
  s[at0 + 3] = s03;
  s[at1] = s10;
  s[at1 + 1] = s11;
  s[at1 + 2] = s12;
  s[at1 + 3] = s13;
}
