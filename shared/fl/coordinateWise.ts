import type { WeightedUpdate } from './fedavg';

/**
 * Coordinate-wise statistics across updates. Each coordinate's n values are gathered into one
 * scratch array and sorted, so memory does not grow with the number of updates beyond the
 * model-sized result. Each statistic has its own loop: a reducer passed as a callback is not
 * inlined and costs about 40 % here.
 */
export function coordinateMedian(base: readonly Float32Array[], ordered: readonly WeightedUpdate[]): Float64Array[] {
  const n = ordered.length;
  const mid = n >> 1;
  const odd = n % 2 === 1;
  const scratch = new Float64Array(n);
  return base.map((b, t) => {
    const columns = ordered.map((u) => u.delta[t]);
    const out = new Float64Array(b.length);
    for (let i = 0; i < out.length; i++) {
      gatherSorted(columns, i, scratch, n);
      out[i] = odd ? scratch[mid] : (scratch[mid - 1] + scratch[mid]) / 2;
    }
    return out;
  });
}

/** Mean of each coordinate's values with the `trim` smallest and `trim` largest left out. */
export function coordinateTrimmedMean(base: readonly Float32Array[], ordered: readonly WeightedUpdate[], trim: number): Float64Array[] {
  const n = ordered.length;
  const kept = n - 2 * trim;
  if (kept < 1) throw new Error(`trimming ${trim} of ${n} values at each end leaves none`);
  const scratch = new Float64Array(n);
  return base.map((b, t) => {
    const columns = ordered.map((u) => u.delta[t]);
    const out = new Float64Array(b.length);
    for (let i = 0; i < out.length; i++) {
      gatherSorted(columns, i, scratch, n);
      let sum = 0;
      for (let j = trim; j < n - trim; j++) sum += scratch[j];
      out[i] = sum / kept;
    }
    return out;
  });
}

function gatherSorted(columns: readonly Float32Array[], i: number, a: Float64Array, n: number): void {
  for (let k = 0; k < n; k++) a[k] = columns[k][i];
  if (n > 24) {
    // Beyond a couple of dozen updates insertion sort's n² loses to the native sort.
    a.sort();
    return;
  }
  for (let k = 1; k < n; k++) {
    const x = a[k];
    let j = k - 1;
    while (j >= 0 && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}
