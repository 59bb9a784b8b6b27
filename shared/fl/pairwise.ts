/**
 * Every pair's squared distance ‖Δᵢ − Δⱼ‖², for Krum: n(n − 1)/2 distances over the whole model,
 * the costliest part of the rule. Two things make it fast without changing a bit:
 * - coordinates are taken in chunks small enough that one chunk of every update stays in cache
 *   while all pairs run over it (a pair at a time over whole updates streams them from memory n
 *   times over);
 * - one update against four others per pass, four independent sums in flight.
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
    for (let lo = 0; lo < length; lo += CHUNK) {
      const hi = Math.min(length, lo + CHUNK);
      for (let i = 0; i < n; i++) {
        const x = columns[i];
        const row = i * n;
        let j = i + 1;
        for (; j + 4 <= n; j += 4) distances4(x, columns[j], columns[j + 1], columns[j + 2], columns[j + 3], lo, hi, table, row + j);
        for (; j < n; j++) table[row + j] = distance(x, columns[j], lo, hi, table[row + j]);
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) table[j * n + i] = table[i * n + j];
  return table;
}

function distance(x: Float32Array, y: Float32Array, lo: number, hi: number, s: number): number {
  for (let k = lo; k < hi; k++) {
    const d = x[k] - y[k];
    s += d * d;
  }
  return s;
}

function distances4(x: Float32Array, y0: Float32Array, y1: Float32Array, y2: Float32Array, y3: Float32Array, lo: number, hi: number, s: Float64Array, at: number): void {
  let s0 = s[at];
  let s1 = s[at + 1];
  let s2 = s[at + 2];
  let s3 = s[at + 3];
  for (let k = lo; k < hi; k++) {
    const v = x[k];
    let d = v - y0[k];
    s0 += d * d;
    d = v - y1[k];
    s1 += d * d;
    d = v - y2[k];
    s2 += d * d;
    d = v - y3[k];
    s3 += d * d;
  }
  s[at] = s0;
  s[at + 1] = s1;
  s[at + 2] = s2;
  s[at + 3] = s3;
}
